"""How the registry reads a receiver's answer: Retry-After, as delay-seconds or an HTTP date (RFC 9110)."""

import datetime

import pytest

from webhooks.http import retry_after_seconds

NOW = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120), (" 0 ", 0), ("", None), (None, None), ("-5", None), ("1.5", None), ("soon", None),
    ("Sat, 01 Jan 2100 00:00:30 GMT", 30), ("Wed, 21 Oct 2015 07:28:00 GMT", 0),  # a date gone by: now
])
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds
