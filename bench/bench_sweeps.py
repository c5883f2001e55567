"""Idle sweeps at 1,000,000 clocks (issue 15 item 4): every scheduled sweep with nothing due, p50/p95 ms, and the
escalation sweep with a small due batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench_sweeps .venv/bin/python bench/bench_sweeps.py --json

Rows (bench/sweep_rows.py, INSERT … SELECT generate_series): BENCH_SWEEP_CLOCKS clocks (default 1,000,000; 90%
stopped, the open ones' ladders caught up), 200,000 credit records, 200,000 commitments — a city whose sweeps
have caught up. Each sweep then runs ``--runs`` times with nothing to do. The due batch: ``--due`` real
政务失信 cases with an overdue deadline clock marked for the next run, swept (notices left out: the notifier is
measured in bench_rectification), reset, and swept again. For comparison, ``escalation_legacy_scan_ms`` is one
of the statements the sweep ran before ``next_escalation_at`` (open overdue clocks by due moment), which the
old sweep repeated per procedure × rule set × rung. Refuses a database whose name lacks "bench" unless
BENCH_ALLOW_ANY_DB=1; it deletes only the rows an earlier run of this script inserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import steps  # noqa: E402  (bench/steps.py)
import sweep_rows  # noqa: E402  (bench/sweep_rows.py)
from django.conf import settings  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.models import EscalationStep, Organisation, RectificationCase, Subject  # noqa: E402
from cases.services import escalation  # noqa: E402
from cases.services.commitment.follow_up import follow_up_lateness_sweep  # noqa: E402
from cases.services.commitment.sweep import verifications_schedule_due  # noqa: E402
from cases.services.messages import deadline_reminders_send  # noqa: E402
from cases.services.repair import records_expire_due, repairs_deem_withdrawn_due  # noqa: E402
from workflows.ladder import RESCHEDULE, escalation_purposes  # noqa: E402
from workflows.models import RuleSet  # noqa: E402

CLOCKS = int(os.environ.get("BENCH_SWEEP_CLOCKS", "1000000"))
RECORDS = 200_000
COMMITMENTS = 200_000
LABEL = "bench sweeps"

SWEEPS = {
    "escalation": lambda: escalation.escalation_sweep(),
    "deemed_withdrawn": repairs_deem_withdrawn_due,
    "expiry": records_expire_due,
    "verification": verifications_schedule_due,
    "follow_up": follow_up_lateness_sweep,
    "deadline_reminders": deadline_reminders_send,
}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def setup(due: int) -> list[int]:
    call_command("migrate", verbosity=0)
    call_command("load_rule_sets", verbosity=0)
    org, _ = Organisation.objects.get_or_create(name="基准扫描部门", defaults={"kind": "department"})
    Organisation.objects.get_or_create(name="基准督办办公室", defaults={"kind": "supervisor"})
    body, _ = Organisation.objects.get_or_create(
        name="基准扫描政府机构", defaults={"kind": "government_body", "district": "区县00"}
    )
    subject = Subject.objects.filter(organisation=body).first() or Subject.objects.create(
        kind="government_body", name=body.name, uscc="11410100BENCHSWP0X", organisation=body
    )
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM cases_escalationstep WHERE clock_id IN (SELECT id FROM workflows_clock WHERE label = %s)",
            [LABEL],
        )
        cur.execute("DELETE FROM workflows_clock WHERE label = %s", [LABEL])
        cur.execute("DELETE FROM cases_rectificationcase WHERE tracking_number LIKE 'BSWEEP%%'")
        # Commitments and record histories refuse deletes (triggers): these are this script's own rows.
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "DELETE FROM cases_recordchange WHERE record_id IN (SELECT id FROM cases_creditrecord WHERE title = %s)",
            [LABEL],
        )
        cur.execute("DELETE FROM cases_creditrecord WHERE title = %s", [LABEL])
        cur.execute("DELETE FROM cases_commitment WHERE matter = %s", [LABEL])
        cur.execute("SET session_replication_role = origin")
        n = sweep_rows.insert_clocks(cur, rows=CLOCKS, label=LABEL)
        sweep_rows.insert_records(cur, provider=org.pk, subject=subject.pk, rows=RECORDS, title=LABEL)
        sweep_rows.insert_commitments(
            cur, department=org.pk, subject=subject.pk, matter=None, rows=COMMITMENTS, title=LABEL
        )
        # The due batch: real cases, each with a deadline clock 12 days overdue, marked for the next run.
        rule_set = RuleSet.objects.order_by("-effective_from").first()
        cur.execute(
            """
INSERT INTO cases_rectificationcase (tracking_number, subject_id, handling_organisation_id, rule_set_id,
    received_at, received_on, created_at, state, source, sme_payment, complainant_name, summary, facts,
    credit_office_id, verification_reason, verified_at, deadline, requirements, refusal_reason, consequences,
    consequence_codes)
SELECT 'BSWEEP' || i, %(subject)s, %(body)s, %(rs)s, now() - interval '60 days', (now() AT TIME ZONE 'Asia/Shanghai')::date - 60, now(),
    'rectifying', 'arrears', false, '', '基准事项', '', %(org)s, '', now() - interval '60 days', NULL, '', '', '',
    '[]'::jsonb
FROM generate_series(1, %(due)s) AS i""",
            {"subject": subject.pk, "body": body.pk, "rs": rule_set.pk, "org": org.pk, "due": due},
        )
        cur.execute(
            """
INSERT INTO workflows_clock (content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget,
    citation, started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, is_paused,
    due_date, due_at, provisional, stopped_at, stop_reason, created_at, next_escalation_at)
SELECT %(ct)s, k.id, k.handling_organisation_id, 'rectification.deadline', %(label)s, 'legal', 'cd', 30, '',
    k.received_at, 'immediate', k.received_on, 0, 0, '', false, (now() AT TIME ZONE 'Asia/Shanghai')::date - 12,
    ((now() AT TIME ZONE 'Asia/Shanghai')::date - 11)::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '1 microsecond', false, NULL, '', now(),
    NULL
FROM cases_rectificationcase k WHERE k.tracking_number LIKE 'BSWEEP%%' RETURNING id""",
            {"ct": ContentType.objects.get_for_model(RectificationCase).pk, "label": LABEL},
        )
        due_ids = [row[0] for row in cur.fetchall()]
        # Fresh statistics and visibility map, as autovacuum would leave them on a live database.
        for table in ("workflows_clock", "cases_creditrecord", "cases_commitment", "cases_rectificationcase"):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"setup: {n:,} clocks, {RECORDS:,} records, {COMMITMENTS:,} commitments in {time.perf_counter() - t0:.1f} s")
    return due_ids


def idle(runs: int) -> dict:
    figures = {}
    print(f"\n{'sweep (nothing due)':<22}{'queries':>9}{'p50 ms':>10}{'p95 ms':>10}")
    for name, sweep in SWEEPS.items():
        sweep()  # warm: caches (content types, rule sets, calendar), and anything left due from setup
        with CaptureQueriesContext(connection) as ctx:
            sweep()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            sweep()
            times.append((time.perf_counter() - t0) * 1000)
        figures[f"{name}_idle_p50_ms"] = round(statistics.median(times), 2)
        figures[f"{name}_idle_p95_ms"] = round(pct(times, 95), 2)
        figures[f"{name}_idle_queries"] = len(ctx.captured_queries)
        print(f"{name:<22}{len(ctx.captured_queries):>9}{statistics.median(times):>10.2f}{pct(times, 95):>10.2f}")
    return figures


def legacy_scan() -> float:
    """One statement of the sweep's former shape: open overdue escalated clocks by due moment."""
    sql = """SELECT count(*) FROM workflows_clock c WHERE c.stopped_at IS NULL AND c.is_paused = false
             AND c.due_at < %(now)s AND c.purpose = ANY(%(purposes)s) AND c.kind = 'legal'"""
    times = []
    with connection.cursor() as cur:
        for _ in range(5):
            t0 = time.perf_counter()
            cur.execute(sql, {"now": timezone.now(), "purposes": sorted(escalation_purposes())})
            cur.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def due_batch(due_ids: list[int], runs: int) -> dict:
    from workflows.models import Clock

    times, fired = [], 0
    for _ in range(runs):
        EscalationStep.objects.filter(clock_id__in=due_ids).delete()
        Clock.objects.filter(pk__in=due_ids).update(next_escalation_at=RESCHEDULE)
        t0 = time.perf_counter()
        result = escalation.escalation_sweep(notify_limit=0)
        times.append((time.perf_counter() - t0) * 1000)
        fired = result.total
    # Those steps stand for notified ones: the idle runs' catch-up of un-notified rows then has nothing to do.
    EscalationStep.objects.filter(clock_id__in=due_ids).update(notified=True)
    print(f"\nescalation with {len(due_ids)} clocks due: {fired} steps fired, p50 {statistics.median(times):.1f} ms")
    return {
        "escalation_due_clocks": len(due_ids),
        "escalation_due_steps": fired,
        "escalation_due_p50_ms": round(statistics.median(times), 2),
        "escalation_due_p95_ms": round(pct(times, 95), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="idle runs of each sweep")
    parser.add_argument("--due", type=int, default=100, help="clocks in the escalation due batch")
    parser.add_argument("--json", action="store_true", help="write bench/results/<stamp>/sweeps.json")
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        print("bench_sweeps needs PostgreSQL", file=sys.stderr)
        return 2
    if "bench" not in db["NAME"] and os.environ.get("BENCH_ALLOW_ANY_DB") != "1":
        print(f"refusing to insert rows into {db['NAME']!r}: use a database named *bench*", file=sys.stderr)
        return 2
    due_ids = setup(args.due)
    figures = {"clocks": CLOCKS}
    figures.update(due_batch(due_ids, 5))
    figures.update(idle(args.runs))
    figures["escalation_legacy_scan_ms"] = legacy_scan()
    print(
        f"\nformer sweep shape, one of its statements (open overdue clocks): {figures['escalation_legacy_scan_ms']} ms"
    )
    worst = max(v for k, v in figures.items() if k.endswith("_idle_p95_ms"))
    figures["idle_p95_ms_max"] = worst
    print(f"worst idle p95: {worst:.2f} ms (target ≤ 100 ms)")
    if args.json:
        steps.write_json("sweeps", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
