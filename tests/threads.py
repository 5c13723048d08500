"""Work run in threads at once, each on its own database connection (real parallel transactions)."""

import threading

from django.db import connections


def at_once(call, workers: int = 2) -> list:
    """Run `call` in `workers` threads at once (a barrier), each on its own database connection; what
    each returned. An exception in any is raised here."""
    barrier, results, failures = threading.Barrier(workers), [], []

    def run():
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # noqa: BLE001 -- raised below, in the test's thread
            failures.append(error)
        finally:
            connections.close_all()
    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if failures:
        raise failures[0]
    return results
