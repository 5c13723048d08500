import functools
from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

from .models import LedgerEvent

MAX_PARAMETERS = 30_000  # PostgreSQL takes 65,535 a statement; rows beyond this go in a further one


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


@functools.cache
def _insert_columns(model: type[Model], with_pk: bool) -> tuple[str, list]:
    """`INSERT INTO table (columns) VALUES` and the fields, in order, for rows of `model`."""
    fields = [field for field in model._meta.concrete_fields
              if not field.generated and (with_pk or not field.primary_key)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ", fields


def _insert_sql(rows: list[Model]) -> tuple[str, list]:
    """One multi-row INSERT for saved-to-be model instances: each value prepared by its field as
    Model.save() would (pre_save, then get_db_prep_save), a db_default left to the database."""
    with_pk = rows[0].pk is not None
    prefix, fields = _insert_columns(type(rows[0]), with_pk)
    tuples, params = [], []
    for row in rows:
        if (row.pk is not None) != with_pk:
            raise ValueError("rows written together either all have primary keys or none do")
        row._prepare_related_fields_for_save(operation_name="ledger_write")
        placeholders = []
        for field in fields:
            value = field.pre_save(row, True)
            if isinstance(value, DatabaseDefault):
                placeholders.append("DEFAULT")
            else:
                placeholders.append("%s")
                params.append(field.get_db_prep_save(value, connection))
        tuples.append(f"({', '.join(placeholders)})")
    return prefix + ", ".join(tuples), params


def ledger_write(events: list[LedgerEvent], *, with_rows: Iterable[list[Model]] = ()) -> None:
    """Append events. Callers are inside the atomic block of the change they record.

    `with_rows` are other new rows of the same change (the transfer itself with its reserved id, its
    items, the emails it owes): they are inserted in the same statement as the events, one round trip
    however many tables. Rows without a primary key are not given one back; nothing reads them in the
    transaction that wrote them. Rows with one are marked saved.
    """
    statements = []  # (parts, params), each under MAX_PARAMETERS
    parts, params = [], []
    for rows in (*with_rows, events):
        for offset in range(0, len(rows), 1000):
            sql, row_params = _insert_sql(rows[offset:offset + 1000])
            if parts and len(params) + len(row_params) > MAX_PARAMETERS:
                statements.append((parts, params))
                parts, params = [], []
            parts.append(f"insert_{len(parts)} AS ({sql})")
            params += row_params
        for row in rows:
            if row.pk is not None:
                row._state.adding, row._state.db = False, connection.alias
    if parts:
        statements.append((parts, params))
    with connection.cursor() as cursor:
        for parts, params in statements:
            cursor.execute(f"WITH {', '.join(parts)} SELECT 1", params)


def ledger_record(**fields) -> LedgerEvent:
    event = ledger_event(**fields)
    ledger_write([event])
    return event
