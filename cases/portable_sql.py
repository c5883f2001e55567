"""Raw SQL written for PostgreSQL, run on the embedded SQLite default (``make demo``) too.

Two things differ in the raw statements the pages and sweeps run: array parameters (``= ANY(%(x)s)``) are
PostgreSQL's, and SQLite compares moments as the text Django stores — UTC without an offset — so a datetime
parameter must be given in that form. On PostgreSQL both helpers give exactly what the statements had
before, so their SQL text and plans are unchanged there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def any_of(name: str, values: Iterable, params: dict) -> str:
    """The condition "is one of ``values``" after a column, adding its parameters to ``params``."""
    values = list(values)
    if is_postgresql():
        params[name] = values
        return f"= ANY(%({name})s)"
    params.update({f"{name}_{i}": value for i, value in enumerate(values)})
    return f"IN ({', '.join(f'%({name}_{i})s' for i in range(len(values)))})"


def moment(value: dt.datetime | None):
    """A datetime parameter in the form the database compares with its stored values."""
    if value is None or is_postgresql():
        return value
    return connection.ops.adapt_datetimefield_value(value)


def insert_unless_exists(obj, *, unique: Sequence[str]) -> bool:
    """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING pk`` for one unsaved ``obj``: one statement and no
    savepoint for a get-or-create (issue 15). True, with ``obj.pk`` set, when the row was inserted; False when
    a row with the same ``unique`` columns exists (a concurrent inserter's row waits for its commit first, as
    the unique index makes it). PostgreSQL and SQLite ≥ 3.35 both take the statement."""
    from django.db.models.sql import InsertQuery

    model = type(obj)
    meta = model._meta
    fields = [
        f for f in meta.local_concrete_fields if not f.generated and not (f is meta.auto_field and obj.pk is None)
    ]
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    [(statement, params)] = query.get_compiler(connection=connection).as_sql()
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in unique)
    statement += f" ON CONFLICT ({columns}) DO NOTHING RETURNING {connection.ops.quote_name(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
