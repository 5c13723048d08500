import functools
from collections.abc import Iterable
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

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


# One row an INSERT lists (VALUES); more it unnests from one array per column, so that a statement
# has one parameter per column however many rows it writes. psycopg parses a statement's text once
# per process only while it has at most 50 parameters (its MAX_CACHED_STATEMENT_PARAMS), and parses
# it again on every call above: a partial transfer's rows, listed, took 66 (bench/transfer_service.py).
VALUES_ROWS = 1


class _Column(NamedTuple):
    field: models.Field
    plain: type | None  # int or str: values of this type go as they are (_plain_type)
    foreign: bool


@functools.cache
def _insert_columns(model: type[Model], with_pk: bool) -> tuple[_Column, ...]:
    """The columns an INSERT of `model` may write, read from its fields once per process."""
    return tuple(_Column(field, _plain_type(field), isinstance(field, models.ForeignKey))
                 for field in model._meta.concrete_fields if not field.generated and (with_pk or not field.primary_key))


# Fields whose get_db_prep_save hands an int or a str (or None) over unchanged.
PLAIN = {int: (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
               models.SmallIntegerField, models.PositiveIntegerField, models.PositiveBigIntegerField,
               models.PositiveSmallIntegerField),
         str: (models.CharField, models.TextField)}


def _plain_type(field) -> type | None:
    """int or str when the field (or, for a foreign key, its target) is one of the PLAIN classes
    exactly, so that values of that type need no preparing; None otherwise."""
    target = field.target_field if type(field) is models.ForeignKey else field
    return next((kind for kind, classes in PLAIN.items() if type(target) in classes), None)


def _insert_sql(rows: list[Model]) -> tuple[str, list]:
    """One INSERT of new model instances, each value prepared by its field as Model.save() would
    (pre_save, then get_db_prep_save). One row goes as VALUES; more as one array per column (VALUES_ROWS),
    unnested, so a mass transfer's 2,000 rows are a handful of parameters, not 20,000 for the driver
    and the server to parse. A column every row leaves to its db_default is left out, so the database
    fills it. Hand-written because bench/issuance.py showed it pays: 5,000 generators' month took
    13.7-18.4 s with bulk_create and 7.9 s with this statement (bench/README.md); bench/sql_statements.py
    measured 338 us of CPU for a transfer's 3 events against bulk_create's 603, and 65 ms for a
    chunk's 2,000 against 103 ms (load average 9). The columns and the statement's text are worked
    out once per model and shape (_insert_columns, _insert_text): the four rows of a transfer in
    bench/transfer_service.py (the transfer, its item, its ledger event, its domain event) took 472 us
    here before and 233 us since, 2,000 ledger events 80 ms and 71 ms (the least of 15 and 5 rounds
    in one process, load average 7)."""
    model = type(rows[0])
    with_pk = rows[0].pk is not None
    if any((row.pk is not None) != with_pk for row in rows):
        raise ValueError("rows written together either all have primary keys or none do")
    written, prepared = [], []
    for index, (field, plain, foreign) in enumerate(_insert_columns(model, with_pk)):
        values = [field.pre_save(row, True) for row in rows]
        if foreign:
            values = [_related_id(row, field) if value is None else value
                      for row, value in zip(rows, values, strict=True)]
        defaulted = [isinstance(value, DatabaseDefault) for value in values]
        if all(defaulted):
            continue
        if any(defaulted):
            raise ValueError(f"{field.name} is set on some rows and left to the database on others")
        if plain is None or not all(value is None or type(value) is plain for value in values):
            values = [field.get_db_prep_save(value, connection) for value in values]
        if len(rows) > VALUES_ROWS and isinstance(field, ArrayField):
            values = [_text_array_literal(field, value) for value in values]
        written.append(index)
        prepared.append(values)
    if len(rows) <= VALUES_ROWS:
        by_row = zip(*prepared, strict=True)
        return _insert_text(model, with_pk, tuple(written), len(rows)), [value for values in by_row for value in values]
    return _insert_text(model, with_pk, tuple(written), None), prepared


@functools.cache
def _insert_text(model: type[Model], with_pk: bool, written: tuple[int, ...], rows: int | None) -> str:
    """The INSERT of the columns `written` (their places in _insert_columns): `rows` rows of VALUES,
    or (None) any number of rows unnested from one array per column."""
    columns = [_insert_columns(model, with_pk)[index].field for index in written]
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in columns)})"
    if rows is not None:
        placeholders = f"({', '.join(['%s'] * len(columns))})"
        return f"{insert} VALUES {', '.join([placeholders] * rows)}"
    # An array column (a certificate's eligibilities) cannot be unnested from an array of arrays:
    # each row's array travels as its text literal and is cast back.
    arrays, select = [], []
    for index, field in enumerate(columns):
        if isinstance(field, ArrayField):
            arrays.append("%b::text[]")
            select.append(f"column_{index}::{field.db_type(connection)}")
        else:
            arrays.append(f"%b::{field.db_type(connection)}[]")
            select.append(f"column_{index}")
    names = ", ".join(f"column_{index}" for index in range(len(columns)))
    return f"{insert} SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) AS unnested({names})"


def _related_id(row: Model, field: models.ForeignKey) -> int | None:
    """The id of the object `row.<field>` names when its id was not set: one assigned before it was
    saved (as Model.save() takes it then); an unsaved one is refused, as save() refuses it. Read
    through the field's descriptor, which does not query while the id is None."""
    try:
        related = getattr(row, field.name)
    except ObjectDoesNotExist:  # a required relation left empty: the database refuses the row
        return None
    if related is None:
        return None
    if related.pk is None:
        raise ValueError(f"ledger_write() prohibited to prevent data loss due to unsaved related object "
                         f"'{field.name}'.")
    setattr(row, field.name, related)  # the descriptor copies the id (or the target field's value)
    return getattr(row, field.attname)


def _text_array_literal(field, value: list | None) -> str | None:
    """PostgreSQL's text form of a one-dimensional array of strings: {"MN RES","Green-e"}."""
    if not isinstance(field.base_field, (models.CharField, models.TextField)):
        raise ValueError(f"{field.name}: only arrays of text are written in bulk")
    if value is None:
        return None
    return "{" + ",".join("NULL" if item is None else '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for item in value) + "}"


def ledger_write(events: list[LedgerEvent], *, with_rows: Iterable[list[Model]] = ()) -> None:
    """Append events. Callers are inside the atomic block of the change they record.

    `with_rows` are other new rows of the same change (the transfer itself with its reserved id, its
    items, the emails it owes): they are inserted in the same statement as the events, one round trip
    however many tables. Rows without a primary key are not given one back; nothing reads them in the
    transaction that wrote them. Rows with one are marked saved.
    """
    parts, params = [], []
    for rows in (*with_rows, events):
        if rows:
            sql, row_params = _insert_sql(rows)
            parts.append(f"insert_{len(parts)} AS ({sql})")
            params += row_params
        for row in rows:
            if row.pk is not None:  # as Model.from_db() marks a row read (Django's documented ModelState flags)
                row._state.adding, row._state.db = False, connection.alias
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(parts)} SELECT 1", params)


def ledger_record(**fields) -> LedgerEvent:
    event = ledger_event(**fields)
    ledger_write([event])
    return event
