"""The overdue sweep on 1,000,000 clocks: time the selector and show that PostgreSQL answers it from the
partial index clock_open_due_idx (due_at WHERE stopped_at IS NULL AND NOT is_paused).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_overdue.py

Use a dedicated benchmark database: the script migrates it, deletes the clocks an earlier run inserted
(purpose = 'bench') and inserts fresh ones with one INSERT ... SELECT generate_series. It refuses a database
whose name does not contain "bench" unless BENCH_ALLOW_ANY_DB=1.

The rows look like a city's history: 90% of clocks stopped long ago, 1% of the open ones paused, the open ones
due from 30 days ago to 60 days ahead — so about 3% of all rows are overdue.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import steps  # noqa: E402  bench/steps.py (the script's own folder is on sys.path)

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from workflows.models import Clock  # noqa: E402
from workflows.selectors import overdue_clocks  # noqa: E402

ROWS = int(os.environ.get("BENCH_CLOCK_ROWS", "1000000"))
INDEX = "clock_open_due_idx"

INSERT = """
INSERT INTO workflows_clock (
    content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget, citation,
    started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, extended_at,
    is_paused, due_date, due_at, provisional, stopped_at, stop_reason, created_at)
SELECT
    %(ct)s, i, NULL, 'bench', 'bench clock ' || i,
    CASE WHEN i %% 4 = 0 THEN 'internal' ELSE 'legal' END, 'wd', 10, '',
    t.started, 'receipt', (t.started AT TIME ZONE 'Asia/Shanghai')::date, 10, 0, '', NULL,
    t.paused,
    CASE WHEN t.paused THEN NULL ELSE (t.due AT TIME ZONE 'Asia/Shanghai')::date END,
    CASE WHEN t.paused THEN NULL ELSE t.due END,
    false,
    CASE WHEN t.open THEN NULL ELSE t.due - interval '2 days' END,
    '', t.started
FROM generate_series(1::bigint, %(rows)s::bigint) AS i
CROSS JOIN LATERAL (
    SELECT
        (i %% 10 = 0) AS open,
        (i %% 1000 = 0) AS paused,
        -- open clocks: due between 30 days ago and 60 days ahead; stopped ones: in the past two years
        CASE WHEN i %% 10 = 0
             THEN now() + (((i * 7919) %% 90) - 30) * interval '1 day' + ((i %% 86400) * interval '1 second')
             ELSE now() - (((i * 7919) %% 730) + 1) * interval '1 day' END AS due,
        now() - (((i * 7919) %% 730) + 20) * interval '1 day' AS started
) AS t
"""


def main() -> int:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        print("bench_overdue needs PostgreSQL (DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    if not steps.migrated_bench_database(rule_sets=False):
        return 2
    ct = ContentType.objects.get_for_model(Clock).pk

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM workflows_clockpause WHERE clock_id IN "
            "(SELECT id FROM workflows_clock WHERE purpose = 'bench')"
        )
        cursor.execute("DELETE FROM workflows_clock WHERE purpose = 'bench'")
        cursor.execute(INSERT, {"ct": ct, "rows": ROWS})
        inserted = cursor.rowcount
        # Fresh statistics and visibility map, as autovacuum would leave them on a live database.
        cursor.execute("VACUUM ANALYZE workflows_clock")
    load_s = time.perf_counter() - started

    now = timezone.now()
    total = Clock.objects.count()
    open_count = Clock.objects.filter(stopped_at__isnull=True).count()
    runs_list, runs_count = [], []
    overdue = 0
    for _ in range(5):
        t0 = time.perf_counter()
        ids = list(overdue_clocks(now=now).values_list("id", flat=True))
        runs_list.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        overdue = overdue_clocks(now=now).count()
        runs_count.append(time.perf_counter() - t0)
    assert overdue == len(ids)
    first_page_t0 = time.perf_counter()
    list(overdue_clocks(now=now)[:50])
    first_page = time.perf_counter() - first_page_t0

    plan = overdue_clocks(now=now).explain(analyze=True, buffers=True)
    print(
        f"inserted {inserted:,} clocks in {load_s:.1f} s (INSERT ... SELECT generate_series); "
        f"table now {total:,} rows, {open_count:,} open"
    )
    print()
    print(f"{'query (overdue_clocks selector)':<40} {'median ms':>10} {'rows':>10}")
    print(f"{'all overdue ids, ordered by due_at':<40} {statistics.median(runs_list) * 1000:>10.1f} {len(ids):>10,}")
    print(f"{'count of overdue':<40} {statistics.median(runs_count) * 1000:>10.1f} {overdue:>10,}")
    print(f"{'first page of 50':<40} {first_page * 1000:>10.1f} {50:>10}")
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) for overdue_clocks():")
    print(plan)
    if INDEX not in plan:
        print(f"\nthe plan does not use {INDEX}", file=sys.stderr)
        return 1
    print(f"\nuses {INDEX}: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
