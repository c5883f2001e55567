"""Per-step measurement shared by the end-to-end procedure benchmarks (bench_repair, bench_objection).

``run_one(item, measure)`` drives one case through its steps, wrapping each in ``with measure("step"):``;
``timed`` times every step over many cases, ``counted`` counts each step's SQL queries over a few, and
``print_step_table`` shows both side by side.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager


def timed(steps, run_one, items) -> tuple[dict[str, list[float]], float]:
    """Seconds per step for every item, and the wall time of the whole run."""
    per_step: dict[str, list[float]] = {name: [] for name in steps}

    @contextmanager
    def measure(name):
        start = time.perf_counter()
        yield
        per_step[name].append(time.perf_counter() - start)

    start = time.perf_counter()
    for item in items:
        run_one(item, measure)
    return per_step, time.perf_counter() - start


def counted(steps, run_one, items) -> dict[str, list[int]]:
    """SQL queries per step for every item (django's CaptureQueriesContext)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {name: [] for name in steps}

    @contextmanager
    def measure(name):
        with CaptureQueriesContext(connection) as ctx:
            yield
        counts[name].append(len(ctx.captured_queries))

    for item in items:
        run_one(item, measure)
    return counts


def print_step_table(steps, per_step: dict[str, list[float]], counts: dict[str, list[int]]) -> None:
    print()
    print(f"{'step':<10}{'SQL queries':>12}{'median ms':>12}{'p95 ms':>10}")
    total_q = 0
    for name in steps:
        qs = counts[name]
        q = statistics.median(qs)
        total_q += q
        spread = "" if min(qs) == max(qs) else f" ({min(qs)}–{max(qs)})"
        times = sorted(per_step[name])
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"{name:<10}{int(q):>12}{1000 * statistics.median(times):>12.2f}{1000 * p95:>10.2f}{spread}")
    print(f"{'total':<10}{int(total_q):>12}{1000 * sum(statistics.median(per_step[n]) for n in steps):>12.2f}")


def setup_procedure_bench(prefix: str):
    """Common start of a procedure benchmark: check the database is a PostgreSQL bench database, keep uploads
    and PDFs in a temporary folder, set Django up, migrate, load the rule sets, and keep notice rendering out
    of the timed path (the notice row is requested as usual, its job is not queued — bench_notices measures
    rendering). Returns the temporary storage folder, or None when the database is not one to write to."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to the bench PostgreSQL database.", file=sys.stderr)
        return None
    storage_root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["PRIVATE_STORAGE_ROOT"] = str(storage_root)
    os.environ["Q_SYNC"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if "bench" not in settings.DATABASES["default"]["NAME"] and os.environ.get("BENCH_ALLOW_ANY_DB") != "1":
        print("refusing to write to a database whose name does not contain 'bench'", file=sys.stderr)
        return None
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_rule_sets", verbosity=0)
    from notices import services as notice_services

    notice_services._enqueue_render = lambda notice_id: None
    return storage_root


def write_json(name: str, figures: dict) -> None:
    """bench/results/<stamp>/<name>.json (stamp: BENCH_STAMP, set by run_all.py, else now)."""
    import datetime as dt
    import json
    import os
    from pathlib import Path

    stamp = os.environ.get("BENCH_STAMP") or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(__file__).resolve().parent / "results" / stamp / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
