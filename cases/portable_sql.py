"""Raw SQL written for PostgreSQL, run on the embedded SQLite default (``make demo``) too.

Two things differ in the raw statements the pages and sweeps run: array parameters (``= ANY(%(x)s)``) are
PostgreSQL's, and SQLite compares moments as the text Django stores — UTC without an offset — so a datetime
parameter must be given in that form. On PostgreSQL both helpers give exactly what the statements had
before, so their SQL text and plans are unchanged there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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
