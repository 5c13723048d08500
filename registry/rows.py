"""Model instances read by a statement written once, for the few queries every request makes.

Compiling an ORM query costs more than running it: ~0.7-1.4 ms of CPU for a select_related query
on the benchmark machine, against ~0.2 ms for the round trip (bench/README.md, "The wizard").
For the statements on every request's path (the signed-in user and their memberships, the
wizard's draft and its batches), the SQL is written once here from the models' own fields, and
the rows become instances through Django's documented Model.from_db and Field.from_db_value.
"""

import contextlib

from django.db import connections
from django.db.models import Model


class Columns:
    """One model's concrete columns under a table alias: the SQL that selects them, and the
    instance made from them."""

    def __init__(self, model: type[Model], alias: str):
        self.model, self.alias = model, alias
        fields = model._meta.concrete_fields
        self.names = [field.attname for field in fields]
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in fields)
        self.converters = [(index, field.from_db_value) for index, field in enumerate(fields)
                           if hasattr(field, "from_db_value")]

    @property
    def table(self) -> str:
        return f'"{self.model._meta.db_table}" {self.alias}'

    def build(self, db: str, values: list, connection) -> Model:
        for index, convert in self.converters:
            values[index] = convert(values[index], None, connection)
        return self.model.from_db(db, self.names, values)


def select_models(sql: str, params, *columns: Columns, using: str = "default") -> list[tuple]:
    """Run `sql`, whose select list is the given columns' in order; per row, a tuple of instances."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _instances(rows, columns, using, connection)


@contextlib.contextmanager
def pipelined(using: str = "default"):
    """Send the statements executed inside to PostgreSQL without waiting for each one's answer
    (psycopg's pipeline mode): they travel together, with the BEGIN of a transaction that starts
    here, and the first fetch waits for all of them. Errors arrive as Django's database errors."""
    connection = connections[using]
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def select_models_together(*queries: tuple[str, list, tuple[Columns, ...]], using: str = "default") -> list[list]:
    """select_models for several statements sent in one round trip (pipelined): one list of rows
    per (sql, params, columns)."""
    connection = connections[using]
    with contextlib.ExitStack() as stack:
        cursors = [stack.enter_context(connection.cursor()) for _ in queries]
        with pipelined(using):
            for cursor, (sql, params, _) in zip(cursors, queries, strict=True):
                cursor.execute(sql, params)
            results = [cursor.fetchall() for cursor in cursors]
    return [_instances(rows, columns, using, connection)
            for rows, (_, _, columns) in zip(results, queries, strict=True)]


def _instances(rows, columns, using: str, connection) -> list[tuple]:
    spans, start = [], 0
    for column in columns:
        spans.append((column, start, start + len(column.names)))
        start += len(column.names)
    return [tuple(column.build(using, list(row[begin:end]), connection) for column, begin, end in spans)
            for row in rows]


_UPDATES: dict[tuple, tuple[str, list]] = {}


def update_where(instance: Model, field_names, using: str = "default", **where) -> int:
    """UPDATE the instance's row, setting `field_names` to the instance's values, where its primary
    key and each `where` column match; the number of rows updated (0: the condition failed). The
    statement is written on first use and kept, as a compare-and-swap the ORM would recompile."""
    model = type(instance)
    key = (model, tuple(field_names), tuple(where))
    if key not in _UPDATES:
        meta = model._meta
        fields = [meta.get_field(name) for name in field_names]
        sql = (f'UPDATE "{meta.db_table}" SET ' + ", ".join(f'"{field.column}" = %s' for field in fields)
               + f' WHERE "{meta.pk.column}" = %s'
               + "".join(f' AND "{meta.get_field(name).column}" = %s' for name in where))
        _UPDATES[key] = sql, fields
    sql, fields = _UPDATES[key]
    connection = connections[using]
    values = [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk, *where.values()])
        return cursor.rowcount


_INSERTS: dict[tuple, tuple[str, list]] = {}


def insert_where(instance: Model, condition: str, params, using: str = "default") -> bool:
    """INSERT the instance's row only where the SQL `condition` (with `params`) holds, in one
    statement; sets the instance's primary key and returns True, or returns False (nothing
    written) when the condition failed: a check and its write that cannot come apart."""
    model = type(instance)
    key = (model, condition)
    if key not in _INSERTS:
        meta = model._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
        sql = (f'INSERT INTO "{meta.db_table}" (' + ", ".join(f'"{field.column}"' for field in fields) + ") SELECT "
               + ", ".join("%s" for _ in fields) + f' WHERE {condition} RETURNING "{meta.pk.column}"')
        _INSERTS[key] = sql, fields
    sql, fields = _INSERTS[key]
    connection = connections[using]
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, using
    return True
