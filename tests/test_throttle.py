"""The throttle (utilities/throttle.py) behind the API's rate per key and the verification page's
rate per address: it counts on every Redis the portal runs on, the embedded one of `make run`
included, and only a Redis that cannot be reached lets requests through uncounted."""

import socket
import time

import pytest
import redis

from dev.devstack import embedded_redis_binary
from utilities import throttle

from .redis_servers import redis_server


@pytest.fixture
def embedded_redis(settings, tmp_path):
    """The cache is a redis-server like the one `make run` and `make test` start when REDIS_URL is unset."""
    with redis_server(embedded_redis_binary(), tmp_path) as server:
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
        yield server


def test_the_embedded_redis_is_the_oldest_the_portal_supports(embedded_redis):
    assert redis.Redis.from_url(embedded_redis.url).info()["redis_version"].startswith("6.2.")


def test_the_throttle_counts_on_the_embedded_redis(embedded_redis, still_clock):
    name = f"test:{time.time_ns()}"
    assert [throttle.over_limit(name, limit=2, window_seconds=600) for _ in range(3)] == [False, False, True]
    assert 0 < throttle._redis().ttl(throttle.window_key(name, 600)) <= 600


def test_a_command_error_is_raised_not_taken_for_redis_being_down(embedded_redis, still_clock):
    """Redis answered, refusing the command: counting is broken, and saying so beats letting every
    request through unseen."""
    name = f"test:{time.time_ns()}"
    throttle._redis().rpush(throttle.window_key(name, 60), "not a counter")
    with pytest.raises(redis.ResponseError):
        throttle.over_limit(name, limit=2, window_seconds=60)


def test_a_redis_that_does_not_answer_in_time_throttles_nobody(settings):
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.CACHES = {"default": {**settings.CACHES["default"],
                                       "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
                                       "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 0.2}}}
        assert [throttle.over_limit("test:silent", limit=1, window_seconds=60) for _ in range(2)] == [False, False]
