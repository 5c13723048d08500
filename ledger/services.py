import datetime
import functools
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

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


class _Column(NamedTuple):
    field: models.Field
    attname: str
    computed: bool  # the field works its value out on save (auto_now_add): read through pre_save
    as_is: tuple[type, ...]  # values of exactly these types need no preparing (_as_is)
    aware_datetimes: bool  # an aware datetime goes as it is (a plain DateTimeField's)
    json: bool  # a JSON field: its content is the value (wrapped for psycopg when listed, _listed)
    foreign: bool
    db_default: bool  # the column may be left to the database (a DatabaseDefault value)


@functools.cache
def _insert_columns(model: type[Model], with_pk: bool) -> tuple[_Column, ...]:
    """The columns an INSERT of `model` may write, read from its fields once per process."""
    return tuple(
        _Column(field, field.attname, type(field).pre_save is not models.Field.pre_save, _as_is(field),
                type(field) is models.DateTimeField, type(field) is models.JSONField,
                isinstance(field, models.ForeignKey), field.has_db_default())
        for field in model._meta.concrete_fields if not field.generated and (with_pk or not field.primary_key))


# Fields whose get_db_prep_save hands values of these types over unchanged (a JSON field: wrapped as
# JSON, which _listed and _json_value do).
AS_IS = {(int,): (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
                  models.SmallIntegerField, models.PositiveIntegerField, models.PositiveBigIntegerField,
                  models.PositiveSmallIntegerField),
         (str,): (models.CharField, models.TextField),
         (bool,): (models.BooleanField,),
         (dict, list, str, int, float, bool): (models.JSONField,)}


def _as_is(field) -> tuple[type, ...]:
    """The types of the values `field` (or, for a foreign key, its target) hands over unprepared,
    when it is one of the AS_IS classes exactly; none otherwise."""
    target = field.target_field if type(field) is models.ForeignKey else field
    return next((kinds for kinds, classes in AS_IS.items() if type(target) in classes), ())


def _insert_sql(rows: list[Model]) -> tuple[str, list]:
    """One INSERT of new model instances, each value prepared by its field as Model.save() would
    (pre_save, then get_db_prep_save). One row goes as VALUES, each value a parameter; more rows go
    as one parameter, a JSON array of one object per row, which PostgreSQL reads into the table's
    row type (json_populate_recordset), each value by its column's own input function: a mass
    transfer's 2,000 rows are one text for the driver and the server to parse, not 20,000 values.
    A column every row leaves to its db_default is left out, so the database fills it. Values that
    their field would hand over unchanged skip the field's methods (_Column), which cost more than
    the rest of the statement's making.

    Hand-written because the benchmarks showed it pays: bench/issuance.py, 5,000 generators' month
    in 13.7-18.4 s with bulk_create and 7.9 s with an INSERT of this kind; bench/transfer_service.py,
    a partial transfer's five tables written in one statement (ledger_write), whose rows of two
    (the split's children and ledger events) went before as one array per column, unnested: psycopg
    dumps an array in Python, 20 of them a transfer (bench/README.md). The columns and the
    statement's text are worked out once per model and shape (_insert_columns, _insert_text)."""
    model = type(rows[0])
    with_pk = rows[0].pk is not None
    if any((row.pk is not None) != with_pk for row in rows):
        raise ValueError("rows written together either all have primary keys or none do")
    written, columns = [], []
    for index, column in enumerate(_insert_columns(model, with_pk)):
        field, values, left = column.field, [], 0
        for row in rows:
            value = field.pre_save(row, True) if column.computed else getattr(row, column.attname)
            if value is None and column.foreign:
                value = _related_id(row, field)
            if value is None or type(value) in column.as_is:
                pass
            elif column.db_default and isinstance(value, DatabaseDefault):
                left += 1
            elif not (column.aware_datetimes and type(value) is datetime.datetime and value.tzinfo is not None):
                value = field.get_db_prep_save(value, connection)
            values.append(value)
        if left == len(rows):
            continue
        if left:
            raise ValueError(f"{field.name} is set on some rows and left to the database on others")
        written.append(index)
        columns.append((column, values))
    text = _insert_text(model, with_pk, tuple(written), len(rows) == 1)
    if len(rows) == 1:
        return text, [_listed(column, values[0]) for column, values in columns]
    records = [{} for _ in rows]
    for column, values in columns:
        name = column.field.column
        for record, value in zip(records, values, strict=True):
            record[name] = (value.obj if isinstance(value, Jsonb) else value) if column.json else _json_value(value)
    return text, [json.dumps(records, ensure_ascii=False)]


def _listed(column: _Column, value):
    """A value of a row listed as VALUES, as psycopg adapts it (a JSON field's content wrapped)."""
    return Jsonb(value) if column.json and value is not None and not isinstance(value, Jsonb) else value


def _json_value(value):
    """A value as get_db_prep_save prepared it, in the JSON that json_populate_recordset reads back
    with its column's input function: times, decimals, ids, bytes and ranges in PostgreSQL's text
    form; an array's items each so."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, Range):  # of numbers or dates: no bound needs quoting
        if value.isempty:
            return "empty"
        lower, upper = ("" if bound is None else _json_value(bound) for bound in (value.lower, value.upper))
        return f"{value.bounds[0]}{lower},{upper}{value.bounds[1]}"
    raise TypeError(f"ledger_write cannot write a value of type {type(value).__name__}")


@functools.cache
def _insert_text(model: type[Model], with_pk: bool, written: tuple[int, ...], one_row: bool) -> str:
    """The INSERT of the columns `written` (their places in _insert_columns): one row's VALUES, or
    rows read from one JSON array parameter."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(_insert_columns(model, with_pk)[index].field.column) for index in written)
    if one_row:
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(written))})"
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json)"


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
