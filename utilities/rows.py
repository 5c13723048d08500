"""Model instances read by a statement written once, for the few queries every request makes.

Compiling an ORM query costs more than running it. For the statements on every request's path
(the signed-in user and their memberships, registry.auth; the API key, api.selectors), the SQL is
written once from the models' own fields, and the rows become instances through Django's
documented Model.from_db and Field.from_db_value. The figure: bench/api_request.py, where reading
the API key through this module took that read from 3,978 Python calls to 267 a request
(bench/README.md, api_load.py, session api-speed).
"""

import contextlib
from collections.abc import Callable

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


class Answer:
    """What one statement of a RoundTrip gave (`value`: its rows, as its reader made them), once the
    round trip is sent."""

    value = None


class RoundTrip:
    """Statements that travel to PostgreSQL together (pipelined), run in the order they are added:
    each caller adds its own (a lock before or after another service's) and reads its own answer
    once send() returns. A statement added without a reader returns no rows (a SET)."""

    def __init__(self, using: str = "default"):
        self.using = using
        self.statements: list[tuple[str, object, Callable[[list[tuple]], object] | None, Answer]] = []

    def add(self, sql: str, params=None, *, read: Callable[[list[tuple]], object] | None = list) -> Answer:
        answer = Answer()
        self.statements.append((sql, params, read, answer))
        return answer

    def send(self) -> None:
        connection = connections[self.using]
        with contextlib.ExitStack() as cursors:
            sent = [(cursors.enter_context(connection.cursor()), statement) for statement in self.statements]
            with pipelined(self.using):
                for cursor, (sql, params, _, _) in sent:
                    cursor.execute(sql, params)
                for cursor, (_, _, read, answer) in sent:
                    if read is not None:
                        answer.value = read(cursor.fetchall())


def _instances(rows, columns, using: str, connection) -> list[tuple]:
    spans, start = [], 0
    for column in columns:
        spans.append((column, start, start + len(column.names)))
        start += len(column.names)
    return [tuple(column.build(using, list(row[begin:end]), connection) for column, begin, end in spans)
            for row in rows]
