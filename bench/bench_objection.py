"""Benchmark: objections end to end through the services on PostgreSQL, and the public record page.

One objection is: file (one disputed field, one PDF of evidence; the record is marked) → the platform sends
the 核查通知 → the provider corrects the field (the mark comes off, the result notice and the platform-sync
event are queued). Measured: objections per second (each step its own committed transaction, as from the
web), SQL queries and time per step; then the public credit page of a subject with 500 records, 50 of them
under objection, rendered through Django (view + template) against the raw SQL of the same read.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_objection.py

Notice rendering is not in the timed path (its job is replaced by a no-op; bench_notices.py measures it).
Each run makes its own organisations, users, subject and records (random tag) and leaves them in the
benchmark database. Use a dedicated database (its name must contain "bench" unless BENCH_ALLOW_ANY_DB=1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import shutil
import statistics
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import steps  # bench/steps.py (the script's own folder is on sys.path)

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STEPS = ["file", "check", "correct"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objections", type=int, default=200, help="objections in the timed run")
    parser.add_argument("--counted", type=int, default=5, help="objections whose queries are counted")
    parser.add_argument("--page-records", type=int, default=500, help="records of the public-page subject")
    parser.add_argument("--renders", type=int, default=30, help="renders of the public page")
    args = parser.parse_args()

    storage_root = steps.setup_procedure_bench("bench-objection-")
    if storage_root is None:
        return 2
    try:
        made = setup_data(args.objections + args.counted + 1)
        records = iter(made["records"])
        run_one = functools.partial(one_objection, made)
        run_one(next(records))  # warm-up
        per_step, _figures = steps.timed_run(
            STEPS,
            run_one,
            [next(records) for _ in range(args.objections)],
            noun="objection",
            path="filing → provider's correction and result notice queued",
        )
        steps.counted_run(STEPS, run_one, [next(records) for _ in range(args.counted)], per_step, noun="objection")
        public_page(made, args.page_records, args.renders)
    finally:
        shutil.rmtree(storage_root, ignore_errors=True)
    return 0


def setup_data(n_records: int) -> dict:
    from cases.models import Organisation, Role

    tag = uuid.uuid4().hex[:8]
    if not Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).exists():
        Organisation.objects.create(
            name="郑州市信用中心（基准）", kind=Organisation.Kind.CREDIT_CENTRE, notice_prefix="郑信"
        )
    from cases.services.objection import credit_centre

    centre = credit_centre()
    org = steps.department(f"郑州市异议基准局{tag}", f"郑异{tag[:4]}")
    user = steps.user_maker(f"bench-obj-{tag}")

    applicant, subject, records = steps.applicant_with_records(
        user, org, n_records, subject_name=f"郑州异议基准科技有限公司{tag}", tag=tag
    )
    return {
        "org": org,
        "centre": centre,
        "applicant": applicant,
        "intake": user("intake", Role.PLATFORM_INTAKE, centre),
        "handler": user("handler", Role.DEPT_HANDLER, org),
        "subject": subject,
        "records": records,
        "tag": tag,
    }


def one_objection(made: dict, record, measure=None) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.services import objection as svc

    measure = measure or (lambda name: nullcontext())
    with measure("file"):
        case = svc.objection_file(
            actor=made["applicant"],
            record=record,
            matter="content",
            disputed={"decision_number": record.decision_number + "（更正）"},
            reason="文书号有误",
            contact_name="赵六",
            contact_phone="13800000000",
            uploads=[SimpleUploadedFile("evidence.pdf", PDF, content_type="application/pdf")],
        )
    with measure("check"):
        svc.objection_send_check(actor=made["intake"], case=case)
    with measure("correct"):
        svc.objection_decide(
            actor=made["handler"],
            case=case,
            outcome="corrected",
            reason="核对原件后更正",
            changes={"decision_number": record.decision_number + "（更正）"},
        )
    case.refresh_from_db()
    assert case.state == "closed", case.state


def public_page(made: dict, n_records: int, renders: int) -> None:
    """The anonymous public page of a subject with ``n_records`` records, one in ten under objection."""
    from django.db import connection
    from django.test import Client

    from cases.services.records import record_mark_objection

    tag = made["tag"]
    subject = steps.enterprise(f"郑州公示页基准有限公司{tag}", int(tag[:7], 16) + 1, legal_representative="李四")
    records = steps.penalty_records(
        subject,
        made["org"],
        n_records,
        title="公示页记录",
        number_prefix=f"郑罚〔2025〕{tag}",
        spread_days=300,
        content="违反《企业信息公示暂行条例》第八条。",
        display_min_until=dt.date(2025, 11, 10),
    )
    for record in records[::10]:
        record_mark_objection(actor=None, record=record, reason="基准：异议标注")
    client = Client()
    url = f"/public/subjects/{subject.pk}/"
    response = client.get(url)
    # The page shows the first 20 records and the totals (PUBLIC_PAGE_SIZE in cases/views.py).
    assert response.status_code == 200 and f"其中{n_records // 10}条异议处理中" in response.content.decode()
    # CaptureQueriesContext cannot be used around a request: request_started resets the query log.
    executed = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: (executed.append(sql), execute(sql, params, many, context))[1]
    ):
        client.get(url)
    ours = []
    for _ in range(renders):
        start = time.perf_counter()
        client.get(url)
        ours.append(time.perf_counter() - start)
    sql = (
        "SELECT r.*, o.name FROM cases_creditrecord r JOIN cases_organisation o ON o.id = r.provider_id "
        "WHERE r.subject_id = %s AND r.display_state IN ('displayed', 'objection') "
        "ORDER BY r.decision_date DESC, r.id DESC LIMIT 20"
    )
    raw = []
    for _ in range(renders):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name FROM cases_subject WHERE id = %s", [subject.pk])
            cursor.fetchall()
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE display_state = 'objection') "
                "FROM cases_creditrecord WHERE subject_id = %s "
                "AND display_state IN ('displayed', 'objection')",
                [subject.pk],
            )
            cursor.fetchall()
            cursor.execute(sql, [subject.pk])
            rows = cursor.fetchall()
        raw.append(time.perf_counter() - start)
    assert len(rows) == min(20, n_records)
    o, r = statistics.median(ours), statistics.median(raw)
    print()
    print(
        f"public record page, {n_records} records ({n_records // 10} under objection; 20 shown a page with the "
        f"totals), median of {renders}:"
    )
    print(
        f"  page (view + template) {1000 * o:.1f} ms in {len(executed)} queries; raw SQL of the "
        f"same read {1000 * r:.2f} ms; ratio {o / r:.0f}×"
    )


if __name__ == "__main__":
    sys.exit(main())
