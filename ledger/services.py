from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from django.db.models.sql import InsertQuery

from .models import LedgerEvent


def ledger_event(*, kind: str, actor=None, organization=None, certificate=None, batch=None,
                 transfer=None, account=None, before=None, after=None, note: str = "") -> LedgerEvent:
    """An unsaved ledger event; write it with ledger_write in the same transaction as the change.
    The related objects must be saved; the event keeps their ids (a mass transfer makes 100,000
    events, and ids are several times cheaper to set than related objects)."""
    return LedgerEvent(
        kind=kind, actor_id=_pk(actor), organization_id=_pk(organization), certificate_id=_pk(certificate),
        batch_id=_pk(batch), transfer_id=_pk(transfer), account_id=_pk(account), before=before, after=after,
        note=note,
    )


def _pk(saved) -> int | None:
    if saved is None:
        return None
    if saved.pk is None:
        raise ValueError(f"{saved!r} must be saved before a ledger event can point to it")
    return saved.pk


def ledger_write(events: list[LedgerEvent], *, with_rows: Iterable[list[Model]] = ()) -> None:
    """Append events. Callers are inside the atomic block of the change they record.

    `with_rows` are other new rows of the same change (a transfer's items, the emails it owes):
    they are inserted in the same statement as the events, one round trip however many tables.
    The rows are not given primary keys back; nothing reads them in the transaction that wrote them.
    """
    parts, params = [], []
    for rows in (events, *with_rows):
        if not rows:
            continue
        model = type(rows[0])
        for row in rows:
            row._prepare_related_fields_for_save(operation_name="ledger_write")
        query = InsertQuery(model)
        query.insert_values([field for field in model._meta.concrete_fields
                             if not field.primary_key and not field.generated], rows)
        [(sql, sql_params)] = query.get_compiler(connection=connection).as_sql()
        parts.append(f"insert_{len(parts)} AS ({sql})")
        params += sql_params
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(parts)} SELECT 1", params)


def ledger_record(**fields) -> LedgerEvent:
    event = ledger_event(**fields)
    ledger_write([event])
    return event
