"""gunicorn's settings for the portal; gunicorn reads this file from its working directory (the
image's /app, and the repository for the benchmarks). Flags on the command line win."""

import gc


def post_worker_init(worker):
    """Once a worker has loaded Django: what it loaded is never garbage, so freeze it (the cyclic
    collector stops re-scanning it), and collect less often. A request allocates tens of thousands
    of objects that reference counting frees; the default threshold (2,000) ran a collection every
    few dozen of them. Measured: 8-16% less CPU a wizard walk (bench/README.md)."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
