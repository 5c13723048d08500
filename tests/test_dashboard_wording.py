"""The Certificates page's words (issue 26, item 13): plurals that agree with their numbers, and
each choice of a filter offered once."""

import re

from django.urls import reverse

DASHBOARD = reverse("dashboard:certificates")


def totals_text(response):
    return re.sub(r"<[^>]+>", "", re.search(r'<span class="summary" id="totals">(.*?)</span>',
                                            response.content.decode()).group(1))


def test_the_totals_agree_with_their_numbers(signed_in, trader, issue):
    client = signed_in(trader)

    def totals(query=""):  # as the page asks for them, and as its link without JavaScript shows them
        asked = totals_text(client.get(DASHBOARD + query, headers={"HX-Request": "true", "HX-Target": "totals"}))
        assert totals_text(client.get(DASHBOARD + (query or "?") + "&totals=1")) == asked
        return asked

    issue(1)
    assert totals() == "1 batch · 1 certificate"
    issue(1000)
    assert totals() == "2 batches · 1,001 certificates"
    assert totals("?tab=exported") == "0 batches · 0 certificates"


def test_any_eligibility_is_offered_once(signed_in, trader, holdings):
    content = signed_in(trader).get(DASHBOARD).content.decode()
    select = re.search(r'<select name="eligibility".*?</select>', content, re.S).group(0)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    eligibilities = sorted({name for batch in holdings.values() for name in batch.certificate.eligibilities})
    assert "IA AEP" in eligibilities and "WI RPS" in eligibilities
    assert options == ["Any eligibility", *eligibilities]
