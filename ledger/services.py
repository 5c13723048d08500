from .models import LedgerEvent


def ledger_event(*, kind: str, actor=None, organization=None, certificate=None, batch=None,
                 transfer=None, account=None, before=None, after=None, note: str = "") -> LedgerEvent:
    """An unsaved ledger event; write it with ledger_write in the same transaction as the change."""
    return LedgerEvent(
        kind=kind, actor=actor, organization=organization, certificate=certificate, batch=batch,
        transfer=transfer, account=account, before=before, after=after, note=note,
    )


def ledger_write(events: list[LedgerEvent]) -> None:
    """Append events. Callers are inside the atomic block of the change they record."""
    LedgerEvent.objects.bulk_create(events)


def ledger_record(**fields) -> LedgerEvent:
    event = ledger_event(**fields)
    ledger_write([event])
    return event
