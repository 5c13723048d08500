"""The portal's cache: Django's own Redis backend, for cached results (sessions live in PostgreSQL)."""

import threading

from django.core.cache import cache


def test_values_round_trip():
    cache.set("answer", {"batches": [1, 2]}, 30)
    assert cache.get("answer") == {"batches": [1, 2]}
    assert cache.delete("answer") and cache.get("answer", "gone") == "gone"


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
