"""The verification page's place for a retirement's proof in the public log: the log (publiclog/,
an app above this one) registers how to find it, so that this app does not import it. None when no
log is installed or the retirement is not in it yet."""

from collections.abc import Callable

from .models import Retirement

_provider: list[Callable[[Retirement], dict | None]] = []


def log_proof_register(provider: Callable[[Retirement], dict | None]) -> None:
    """Register (again, as Django may call ready() twice: the last one counts) the log's provider."""
    _provider[:] = [provider]


def retirement_log_proof(retirement: Retirement) -> dict | None:
    """The retirement's place in the public log, as the log's JSON gives it, or None."""
    return _provider[0](retirement) if _provider else None
