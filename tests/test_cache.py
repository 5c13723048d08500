"""The portal's Redis cache (sessions read from it first): Django's backend, one client per pool."""

import threading

from django.core.cache import cache


def test_values_round_trip_through_one_client_per_pool():
    cache.set("answer", {"batches": [1, 2]}, 30)
    assert cache.get("answer") == {"batches": [1, 2]}
    assert cache.delete("answer") and cache.get("answer", "gone") == "gone"
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client  # not a new redis.Redis for each call


def test_concurrent_threads_read_back_what_they_wrote():
    def work(n):
        for i in range(50):
            cache.set(f"thread-{n}-{i}", i, 30)
            assert cache.get(f"thread-{n}-{i}") == i

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get_many([f"thread-{n}-49" for n in range(8)]) == {f"thread-{n}-49": 49 for n in range(8)}
