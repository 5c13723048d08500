"""Database connections for work spread over threads."""

import functools
from collections.abc import Callable

from django.db import connections


def on_own_connection(function: Callable) -> Callable:
    """`function` for a worker thread: Django gives each thread its own database connections, and the
    thread closes them when the call is done (a pool's thread outlives its calls)."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()
    return call
