"""gunicorn's settings for the portal; gunicorn reads this file from its working directory (the
image's /app, and the repository for the benchmarks). Flags on the command line win."""

import gc

# A request may take this long before the worker is killed (gunicorn's default is 30 s): registry staff's
# "Issue the selected months" of 1,000 granular devices writes 744,000 certificates in about a minute
# (bench/hourly_issuance.py), in the request.
timeout = 180


def post_worker_init(worker):
    """Once a worker has loaded Django: what it loaded is never garbage, so freeze it (the cyclic
    collector stops re-scanning it), and collect less often. A request allocates tens of thousands
    of objects that reference counting frees; the default threshold (2,000) ran a collection every
    few dozen of them. Measured: 8-16% less CPU a wizard walk (bench/README.md)."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
