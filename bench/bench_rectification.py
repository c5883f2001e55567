"""政务失信: the escalation sweep over 1,000,000 open clocks, and the supervisor's dashboard over 1,100,000 cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_rectification.py

Refuses a database whose name lacks "bench" unless BENCH_ALLOW_ANY_DB=1. Rows are inserted with INSERT ...
SELECT generate_series (BENCH_RECT_ROWS open cases, each with an open legal 整改期限 clock due between 45 days
ago and 45 days ahead, plus 10% closed cases). Measures:

1. escalation_sweep (set-based INSERT ... SELECT ... ON CONFLICT DO NOTHING through the partial index on open
   clocks' due_at), notices disabled, then a second sweep (every row conflicts: nothing fires twice), then the
   notifier over 200 new step rows (timeline, audit, notice request);
2. the dashboard's table by organisation (open/overdue/ageing, read from the summary of
   cases/services/supervision_summary.py) as selector vs its raw SQL (ratio), and the whole dashboard page,
   p50/p95 over repeated loads.
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

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.models import EscalationStep, Organisation, RectificationCase, Role, Subject, User  # noqa: E402
from cases.selectors.supervision import by_organisation, summary_by_organisation_sql  # noqa: E402
from cases.services import escalation  # noqa: E402
from workflows.models import RuleSet  # noqa: E402

ROWS = int(os.environ.get("BENCH_RECT_ROWS", "1000000"))
LOADS = int(os.environ.get("BENCH_DASHBOARD_LOADS", "10"))
BODIES = 60


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def setup():
    if not steps.migrated_bench_database():
        sys.exit(2)
    with connection.cursor() as c:
        c.execute("DELETE FROM cases_escalationstep")
        c.execute("DELETE FROM workflows_clock WHERE purpose = 'rectification.deadline' AND label = 'bench'")
        c.execute("DELETE FROM cases_rectificationcase WHERE tracking_number LIKE 'BENCH%%'")
    office, _ = Organisation.objects.get_or_create(name="基准信用中心", defaults={"kind": "credit_centre"})
    Organisation.objects.get_or_create(name="基准督办办公室", defaults={"kind": "supervisor"})
    bodies = []
    for i in range(BODIES):
        org, _ = Organisation.objects.get_or_create(
            name=f"基准政府机构{i:03d}", defaults={"kind": "government_body", "district": f"区县{i % 12:02d}"}
        )
        subject = Subject.objects.filter(organisation=org).first() or Subject.objects.create(
            kind="government_body", name=org.name, uscc=f"11410100BENCH{i:04d}X"[:18], organisation=org
        )
        bodies.append((org.pk, subject.pk))
    rule_set = RuleSet.objects.order_by("-effective_from").first()
    ct = ContentType.objects.get_for_model(RectificationCase)
    total = ROWS + ROWS // 10
    org_ids = "ARRAY[" + ",".join(str(o) for o, _s in bodies) + "]"
    subj_ids = "ARRAY[" + ",".join(str(s) for _o, s in bodies) + "]"
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            f"""
INSERT INTO cases_rectificationcase (tracking_number, subject_id, handling_organisation_id, rule_set_id,
    received_at, received_on, created_at, state, source, sme_payment, complainant_name, summary, facts,
    credit_office_id, verification_reason, verified_at, deadline, requirements, refusal_reason, consequences,
    closed_at, consequence_codes)
SELECT 'BENCH' || i, ({subj_ids})[1 + i %% {BODIES}], ({org_ids})[1 + i %% {BODIES}], %(rs)s,
    now() - (i %% 700) * interval '1 day', (now() - (i %% 700) * interval '1 day')::date,
    now() - (i %% 700) * interval '1 day',
    CASE WHEN i > %(rows)s THEN 'closed' ELSE (ARRAY['submitted','verifying','awaiting_plan','rectifying',
        'completion'])[1 + i %% 5] END,
    'arrears', false, '', '基准事项', '', %(office)s, '', now() - (i %% 700) * interval '1 day', NULL, '', '', '',
    CASE WHEN i > %(rows)s THEN now() - (i %% 300) * interval '1 day' END, '[]'
FROM generate_series(1, %(total)s) AS i""",
            {"rs": rule_set.pk, "rows": ROWS, "office": office.pk, "total": total},
        )
        c.execute(
            """
INSERT INTO workflows_clock (content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget,
    citation, started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, is_paused,
    due_date, due_at, provisional, stopped_at, stop_reason, created_at, next_escalation_at)
SELECT %(ct)s, k.id, k.handling_organisation_id, 'rectification.deadline', 'bench', 'legal', 'cd', 30, '',
    k.received_at, 'immediate', k.received_on, 0, 0, '', false,
    d.due::date, (d.due::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '1 second', false,
    CASE WHEN k.state = 'closed' THEN k.closed_at END, '', now(),
    -- as the migration leaves existing open clocks: marked for the next sweep (workflows.ladder.RESCHEDULE)
    CASE WHEN k.state <> 'closed' THEN timestamptz '2000-01-01 00:00+00' END
FROM cases_rectificationcase k
CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'Asia/Shanghai') + ((k.id %% 91) - 45) * interval '1 day' AS due) d
WHERE k.tracking_number LIKE 'BENCH%%'""",
            {"ct": ct.pk},
        )
        c.execute("ANALYZE cases_rectificationcase; ANALYZE workflows_clock; ANALYZE cases_escalationstep")
    print(f"setup: {total:,} cases, {ROWS:,} open clocks in {time.perf_counter() - t0:.1f}s")
    user, _ = User.objects.get_or_create(
        username="bench_supervisor",
        defaults={"role": Role.SUPERVISOR, "organisation": Organisation.objects.get(name="基准督办办公室")},
    )
    return user


def bench_sweep():
    now = timezone.now()
    t0 = time.perf_counter()
    result = escalation.escalation_sweep(now=now, notify_limit=0)
    first = time.perf_counter() - t0
    print(
        f"sweep 1: {result.total:,} step rows inserted {dict((str(k), v) for k, v in result.inserted.items())} "
        f"in {first:.1f}s ({result.total / first:,.0f} rows/s)"
    )
    t0 = time.perf_counter()
    again = escalation.escalation_sweep(now=now, notify_limit=0)
    print(f"sweep 2 (same moment): {again.total} inserted in {time.perf_counter() - t0:.1f}s — nothing fires twice")
    ids = list(EscalationStep.objects.filter(notified=False).order_by("id").values_list("pk", flat=True)[:200])
    t0 = time.perf_counter()
    n = escalation.escalation_notify(ids=ids, limit=200)
    took = time.perf_counter() - t0
    print(f"notify: {n} steps (timeline, audit, notice request) in {took:.2f}s ({took / max(n, 1) * 1000:.1f} ms/step)")
    with connection.cursor() as c:
        due_sql, due_params = escalation.escalation_due_sql(now=now, limit=2000)
        c.execute("EXPLAIN " + due_sql, due_params)
        plan = "\n".join(r[0] for r in c.fetchall())
    print("plan uses clock_next_escalation_idx:", "clock_next_escalation_idx" in plan)


def bench_dashboard(user):
    """The selector (rows turned into objects) against the bare SQL of its read of the dashboard summary, then
    the whole page (every figure, template, SVG). bench_dashboard.py measures the page against its raw SQL."""
    now = timezone.now()
    sql, params = summary_by_organisation_sql(now)
    selector, raw, page = [], [], []
    client = Client()
    client.force_login(user)
    for _i in range(LOADS):
        t0 = time.perf_counter()
        rows = by_organisation(now=now)
        selector.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as c:
            c.execute(sql, params)
            c.fetchall()
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        response = client.get("/supervision/")
        page.append(time.perf_counter() - t0)
        assert response.status_code == 200
    print(
        f"by_organisation ({len(rows)} rows, all procedures): p50 {statistics.median(selector) * 1000:.0f} ms; "
        f"raw SQL of the summary read p50 {statistics.median(raw) * 1000:.0f} ms; "
        f"ratio {statistics.median(selector) / statistics.median(raw):.2f}"
    )
    print(
        f"dashboard page: p50 {statistics.median(page) * 1000:.0f} ms, p95 {_pct(page, 95) * 1000:.0f} ms "
        f"over {LOADS} loads"
    )


if __name__ == "__main__":
    supervisor = setup()
    bench_sweep()
    bench_dashboard(supervisor)
