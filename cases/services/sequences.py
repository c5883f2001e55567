from django.db import connection, transaction

from cases.models.base import NumberSequence

# One statement per number (issue 15): create the counter at 1 or add one to it, and read the value back.
# The row stays locked until the caller's transaction ends, so a rollback gives the number back and two
# writers never get the same one. Works on PostgreSQL and on SQLite ≥ 3.35 (the embedded demo).
_NEXT_SQL = (
    f"INSERT INTO {NumberSequence._meta.db_table} (scope, year, last_value) VALUES (%s, %s, 1) "
    f"ON CONFLICT (scope, year) DO UPDATE SET last_value = {NumberSequence._meta.db_table}.last_value + 1 "
    "RETURNING last_value"
)


def sequence_next(*, scope: str, year: int) -> int:
    """Next gap-free number for ``scope``/``year``; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction that uses the number")
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SQL, [scope, year])
        return cursor.fetchone()[0]
