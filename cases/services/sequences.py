from django.db import transaction

from cases.models.base import NumberSequence


def sequence_next(*, scope: str, year: int) -> int:
    """Next gap-free number for ``scope``/``year``; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction that uses the number")
    NumberSequence.objects.get_or_create(scope=scope, year=year)
    seq = NumberSequence.objects.select_for_update().get(scope=scope, year=year)
    seq.last_value += 1
    seq.save(update_fields=["last_value"])
    return seq.last_value
