"""Tracking and notice numbers are gap-free per scope and year, also under concurrency."""

import threading

import pytest
from django.db import connection, transaction

from cases.models import NumberSequence
from cases.services.sequences import sequence_next


def _next(scope: str, year: int) -> int:
    with transaction.atomic():
        return sequence_next(scope=scope, year=year)


@pytest.mark.django_db
def test_each_scope_and_year_counts_from_one():
    assert [_next("repair", 2026) for _ in range(3)] == [1, 2, 3]
    assert _next("objection", 2026) == 1
    assert _next("repair", 2027) == 1
    assert _next("repair", 2026) == 4


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    assert _next("repair", 2026) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next(scope="repair", year=2026) == 2
        raise RuntimeError("notice rendering failed")
    assert _next("repair", 2026) == 2


@pytest.mark.django_db(transaction=True)
def test_a_number_is_only_handed_out_inside_the_transaction_that_uses_it():
    with pytest.raises(RuntimeError):
        sequence_next(scope="repair", year=2026)
    assert not NumberSequence.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_distinct_gap_free_numbers():
    """Eight writers race for the first number of a scope that does not exist yet; every third
    transaction fails after taking its number. What commits is exactly 1..n, no duplicates."""
    threads_n, per_thread = 8, 6
    barrier = threading.Barrier(threads_n)
    committed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                try:
                    with transaction.atomic():
                        number = sequence_next(scope="郑信修受", year=2026)
                        if (t + i) % 3 == 0:
                            raise LookupError("rolled back on purpose")
                except LookupError:
                    continue
                with lock:
                    committed.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(committed) == len(set(committed))
    assert sorted(committed) == list(range(1, len(committed) + 1))
    assert NumberSequence.objects.get(scope="郑信修受", year=2026).last_value == len(committed)
