"""The consumers of the domain events, registered in code by the apps that consume them (each in
its AppConfig.ready): emails (notifications), webhooks, and later billing, statistics and the
public log. Each has its own progress and claims, so that none waits for another."""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from .models import Event


@dataclass(frozen=True)
class Consumer:
    """`handle(event)` does the consumer's part for one event and raises if it could not.

    A handler that only writes to the database sets `in_transaction`: it runs in the transaction that
    deletes its claim, so its writes happen exactly once. Any other (one that sends an email or calls
    another server) runs with no transaction open, at least once: it may run again after a failure or
    a worker's death, so what it sends must bear a repeat."""

    name: str
    handle: Callable[[Event], object]
    kinds: Collection[str] = field(default_factory=frozenset)  # the kinds it wants (the others are skipped)
    in_transaction: bool = False
    # Of the events of its kinds, those it leaves unclaimed, from their kind and data (the emails leave
    # a mass upload's transfers to the upload's own event): cheaper than a claim that does nothing.
    skips: Callable[[str, dict], bool] | None = None
    # An in_transaction consumer may also take its due claims together: `handle_many(events)` runs on
    # a leased batch of them (up to EVENTS_CLAIM_BATCH) in the one transaction that deletes their
    # claims, exactly once too, and far cheaper than a transaction each (the public statistics'
    # upserts: bench/public_stats.py). A batch that fails is run again one claim at a time (`handle`),
    # so that only the failing event's claim counts the failure.
    handle_many: Callable[[list[Event]], object] | None = None

    def __post_init__(self) -> None:
        if self.handle_many is not None and not self.in_transaction:
            raise ValueError("Only a consumer that runs in the claim's transaction may take its claims together.")

    def wants(self, kind: str, data: dict) -> bool:
        return kind in self.kinds and not (self.skips and self.skips(kind, data))


_consumers: dict[str, Consumer] = {}


def consumer_register(consumer: Consumer) -> None:
    """Register `consumer` (again, as Django may call ready() twice: the last one counts)."""
    _consumers[consumer.name] = consumer


def consumer_get(name: str) -> Consumer:
    return _consumers[name]


def consumers_all() -> list[Consumer]:
    return list(_consumers.values())


def consumers_of(kinds: Collection[str]) -> list[Consumer]:
    """The consumers that want at least one of `kinds`."""
    return [consumer for consumer in _consumers.values() if set(kinds) & set(consumer.kinds)]
