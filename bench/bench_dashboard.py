"""The supervisor's dashboard at 1,000,000 open cases read from its summary (issue 15 item 3), against the raw
SQL of the same statements in the same run, and the upkeep the summary's triggers add to a clock change.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench_x .venv/bin/python bench/bench_dashboard.py

The cases are bench_rectification.py's (BENCH_RECT_ROWS open 政务失信 cases, each with a running legal clock due
between 45 days ago and 45 days ahead, plus 10% closed ones, 60 bodies in 12 districts). They are bulk-loaded
with the summary's triggers off (session_replication_role = replica) and the summary is then rebuilt, as one
would restore a dump; the load is not what is measured. Measures, in one run:

BENCH_DASHBOARD_REUSE=1 keeps the rows an earlier run loaded.

1. the dashboard page (GET /supervision/: every figure, template, SVG) p50/p95 over BENCH_DASHBOARD_LOADS loads,
   and its figures alone (every selector the view calls, no template);
2. the raw SQL of what that page does: every statement it sent, recorded once and replayed on a bare cursor
   (no ORM, no template), p50/p95 — ``raw_ratio`` is the page's p95 over this p95;
3. the summary read of the table by organisation (selector vs its bare SQL), and the old direct query once;
4. upkeep: clock changes (due moment moved by a day; pause then resume), one transaction each, with the
   triggers on and off — the difference per change is what keeping the summary costs;
5. the rebuild from scratch, and that the summary's figures equal the direct query's.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import steps  # noqa: E402  bench/steps.py

django.setup()

import bench_rectification  # noqa: E402  bench/bench_rectification.py: the 1.1M-case data set
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.selectors import supervision as sup  # noqa: E402
from cases.services import supervision_summary  # noqa: E402

LOADS = int(os.environ.get("BENCH_DASHBOARD_LOADS", "20"))
CHANGES = int(os.environ.get("BENCH_CLOCK_CHANGES", "500"))


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _ms(v):
    return round(v * 1000, 1)


def load():
    """bench_rectification's rows, loaded with the triggers off, then the summary rebuilt."""
    if os.environ.get("BENCH_DASHBOARD_REUSE") == "1" and steps.migrated_bench_database(rule_sets=False):
        # The rows an earlier run loaded (migrate has installed the triggers and rebuilt the summary).
        from cases.models import User

        user = User.objects.get(username="bench_supervisor")
    else:
        with connection.cursor() as c:
            c.execute("SET session_replication_role = replica")
        try:
            user = bench_rectification.setup()
        finally:
            with connection.cursor() as c:
                c.execute("SET session_replication_role = origin")
    t0 = time.perf_counter()
    supervision_summary.install_triggers()
    supervision_summary.rebuild()
    supervision_summary.consolidate()
    rebuild_s = time.perf_counter() - t0
    with connection.cursor() as c:
        c.execute("ANALYZE cases_supervisionopen; ANALYZE cases_supervisiontimeused; ANALYZE cases_supervisionclearing")
        c.execute("SELECT count(*) FROM cases_supervisionopen")
        (summary_rows,) = c.fetchone()
        c.execute("SELECT count(*) FROM cases_rectificationcase")
        (cases,) = c.fetchone()
    print(f"summary rebuilt from {cases:,} cases in {rebuild_s:.1f} s: {summary_rows:,} rows")
    return user, {"rebuild_s": round(rebuild_s, 1), "summary_rows": summary_rows, "cases": cases}


def bench_page(user) -> dict:
    client = Client()
    client.force_login(user)
    client.get("/supervision/")  # warm: templates, translations, content types
    recorded = []

    def record(execute, sql, params, many, context):
        recorded.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get("/supervision/").status_code == 200
    # Replay only the page's reads (the session and last-login writes of force_login are not the dashboard).
    reads = [(sql, params) for sql, params in recorded if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    # The figures alone: every selector the view calls, without the template (and the raw SQL of the same).
    from cases.selectors import disclosure, ratings
    from cases.selectors import statistics as stats

    def every_figure():
        now = timezone.now()
        sup.totals(sup.by_organisation(now=now))
        sup.clearing()
        sup.growth()
        sup.time_used()
        disclosure.late_publications(now=now)
        stats.lateness_statistics()
        ratings.satisfaction_table()

    every_figure()
    figure_reads = []
    with connection.execute_wrapper(
        lambda ex, sql, params, many, ctx: figure_reads.append((sql, params)) or ex(sql, params, many, ctx)
    ):
        every_figure()
    page, raw, selectors, raw_figures = [], [], [], []
    for _i in range(LOADS):
        t0 = time.perf_counter()
        every_figure()
        selectors.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        response = client.get("/supervision/")
        page.append(time.perf_counter() - t0)
        assert response.status_code == 200
        t0 = time.perf_counter()
        with connection.cursor() as c:
            for sql, params in reads:
                c.execute(sql, params)
                c.fetchall()
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as c:
            for sql, params in figure_reads:
                c.execute(sql, params)
                c.fetchall()
        raw_figures.append(time.perf_counter() - t0)
    figures = {
        "figures_p50_ms": _ms(statistics.median(selectors)),
        "figures_p95_ms": _ms(_pct(selectors, 95)),
        "figures_raw_sql_p95_ms": _ms(_pct(raw_figures, 95)),
        "figures_raw_ratio": round(_pct(selectors, 95) / _pct(raw_figures, 95), 2),
        "p50_ms": _ms(statistics.median(page)),
        "p95_ms": _ms(_pct(page, 95)),
        "raw_sql_p50_ms": _ms(statistics.median(raw)),
        "raw_sql_p95_ms": _ms(_pct(raw, 95)),
        "raw_ratio": round(_pct(page, 95) / _pct(raw, 95), 2),
        "page_queries": len(recorded),
        "loads": LOADS,
    }
    print(
        f"dashboard page: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms over {LOADS} loads "
        f"({len(recorded)} queries); its {len(reads)} reads as raw SQL: p50 {figures['raw_sql_p50_ms']} ms, "
        f"p95 {figures['raw_sql_p95_ms']} ms; ratio {figures['raw_ratio']}"
    )
    print(
        f"the page's figures without the template (selectors only): p50 {figures['figures_p50_ms']} ms, "
        f"p95 {figures['figures_p95_ms']} ms; their {len(figure_reads)} statements as raw SQL p95 "
        f"{figures['figures_raw_sql_p95_ms']} ms; ratio {figures['figures_raw_ratio']}"
    )
    slow = []
    with connection.cursor() as c:
        for sql, params in reads:
            t0 = time.perf_counter()
            c.execute(sql, params)
            c.fetchall()
            slow.append((time.perf_counter() - t0, sql))
    print("slowest statements of the page:")
    for took, sql in sorted(slow, reverse=True)[:5]:
        print(f"  {took * 1000:7.1f} ms  {' '.join(sql.split())[:150]}")
    return figures


def bench_table(direct_runs: int) -> dict:
    now = timezone.now()
    sql, params = sup.summary_by_organisation_sql(now)
    selector, raw = [], []
    for _i in range(LOADS):
        t0 = time.perf_counter()
        rows = sup.by_organisation(now=now)
        selector.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as c:
            c.execute(sql, params)
            c.fetchall()
        raw.append(time.perf_counter() - t0)
    direct = []
    direct_rows = None
    for _i in range(direct_runs):
        t0 = time.perf_counter()
        direct_rows = sup.by_organisation_direct(now=now)
        direct.append(time.perf_counter() - t0)

    def key(rs):
        return sorted((r.procedure, r.organisation_id, r.open, r.overdue, tuple(r.buckets.values())) for r in rs)

    same = direct_rows is None or key(rows) == key(direct_rows)
    figures = {
        "by_organisation_p50_ms": _ms(statistics.median(selector)),
        "by_organisation_raw_p50_ms": _ms(statistics.median(raw)),
        "by_organisation_rows": len(rows),
        "direct_by_organisation_p50_ms": _ms(statistics.median(direct)) if direct else None,
        "summary_equals_direct": same,
    }
    print(
        f"table by organisation from the summary: {len(rows)} rows, p50 {figures['by_organisation_p50_ms']} ms "
        f"(bare SQL {figures['by_organisation_raw_p50_ms']} ms); the direct query over the cases "
        f"{figures['direct_by_organisation_p50_ms']} ms; same figures: {same}"
    )
    return figures


def _changes(trigger_on: bool) -> dict:
    """CHANGES clock changes of each kind, one autocommitted transaction each, on open bench clocks."""
    with connection.cursor() as c:
        c.execute(f"SET session_replication_role = {'origin' if trigger_on else 'replica'}")
        c.execute(
            "SELECT id FROM workflows_clock WHERE label = 'bench' AND stopped_at IS NULL ORDER BY id LIMIT %s",
            [CHANGES],
        )
        ids = [r[0] for r in c.fetchall()]
        out = {}
        t0 = time.perf_counter()
        for pk in ids:
            c.execute("UPDATE workflows_clock SET due_at = due_at + interval '1 day' WHERE id = %s", [pk])
        out["move_due"] = (time.perf_counter() - t0) / len(ids)
        t0 = time.perf_counter()
        for pk in ids:
            c.execute("UPDATE workflows_clock SET is_paused = true, due_at = NULL WHERE id = %s", [pk])
            c.execute(
                "UPDATE workflows_clock SET is_paused = false, due_at = due_date + interval '1 day' WHERE id = %s",
                [pk],
            )
        out["pause_resume"] = (time.perf_counter() - t0) / (2 * len(ids))
        for pk in ids:  # back where they were
            c.execute("UPDATE workflows_clock SET due_at = due_at - interval '1 day' WHERE id = %s", [pk])
        c.execute("SET session_replication_role = origin")
    return out


def bench_upkeep() -> dict:
    _changes(True)  # warm
    off, on = _changes(False), _changes(True)
    figures = {}
    for kind in on:
        figures[f"clock_change_{kind}_ms"] = _ms(on[kind])
        figures[f"clock_change_{kind}_no_summary_ms"] = _ms(off[kind])
    figures["upkeep_ms_per_clock_change"] = round(statistics.mean([(on[k] - off[k]) * 1000 for k in on]), 3)
    print(
        "clock change, one transaction each (with summary / without): "
        + ", ".join(f"{k} {_ms(on[k])} / {_ms(off[k])} ms" for k in on)
        + f" — upkeep ≈ {figures['upkeep_ms_per_clock_change']} ms per change"
    )
    supervision_summary.rebuild()  # the no-trigger changes left the summary behind on purpose
    supervision_summary.consolidate()
    return figures


if __name__ == "__main__":
    supervisor, figures = load()
    figures.update(bench_page(supervisor))
    figures.update(bench_table(direct_runs=int(os.environ.get("BENCH_DIRECT_RUNS", "2"))))
    figures.update(bench_upkeep())
    figures["loadavg"] = os.getloadavg()[0]
    print(json.dumps(figures))
    steps.write_json("dashboard", figures)
