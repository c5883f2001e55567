"""Adding N working days: the precomputed table (WorkCalendar.add_working_days) against a day-by-day loop
(workflows.calendar.naive_add_working_days) over the same inputs.

    DATABASE_URL=... .venv/bin/python bench/bench_calendar.py

No database rows are needed: the table is built from chinesecalendar alone, as in a process that has no
overrides. Inputs stay inside 2025–2026 because the day-by-day reference knows only the package's years.
"""

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from workflows.calendar import WorkCalendar, naive_add_working_days  # noqa: E402

CALLS = 2_000
NS = (1, 3, 10, 30, 60)


def per_call(fn, inputs, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):  # best round: least disturbed by the rest of the machine
        started = time.perf_counter()
        for day, n in inputs:
            fn(day, n)
        best = min(best, time.perf_counter() - started)
    return best / len(inputs)


def main() -> int:
    rng = random.Random(2026)
    build_started = time.perf_counter()
    cal = WorkCalendar.build()
    build_ms = (time.perf_counter() - build_started) * 1000
    first, last = dt.date(2025, 1, 1), dt.date(2026, 8, 31)
    span = (last - first).days
    print(
        f"table built in {build_ms:.1f} ms ({cal.first} .. {cal.last}); {CALLS} inputs per row, "
        f"best of 20 rounds (table) / 1 round (naive)"
    )
    print(f"{'N':>4}  {'table µs/call':>14}  {'naive µs/call':>14}  {'naive/table':>11}")
    for n in NS:
        inputs = [(first + dt.timedelta(days=rng.randrange(span)), n) for _ in range(CALLS)]
        mismatches = sum(1 for day, k in inputs[:200] if cal.add_working_days(day, k) != naive_add_working_days(day, k))
        if mismatches:
            print(f"N={n}: {mismatches} results differ from the day-by-day count", file=sys.stderr)
            return 1
        fast = per_call(cal.add_working_days, inputs, rounds=20)
        slow = per_call(naive_add_working_days, inputs, rounds=1)
        print(f"{n:>4}  {fast * 1e6:>14.3f}  {slow * 1e6:>14.3f}  {slow / fast:>10.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
