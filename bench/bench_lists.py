"""Every queue and list page at 100,000 open cases: the first page over HTTP (middleware, session, selectors,
template) through Django's test client, its SQL queries and its p50/p95 wall time (issue 15 item 5: ≤ 100 ms
and ≤ 10 queries; the inbox has its own bench, bench_inbox.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_lists.py \\
        [--cases 100000] [--requests 20] [--json]

The open cases are one department's and one applicant's (the worst case for both lists): 40% repair
applications, 30% objections, 15% rectification cases, 15% commitment checks. One case of each viewflow
procedure is made by the services (submitted, so it has its process, its open task, its clocks and its inbox
row); each is then copied with INSERT ... SELECT generate_series, every copy with its own credit record,
process, task, clocks and inbox row, due dates spread from 10 days ago to 30 days ahead. Rectification cases
and commitment checks are inserted the same way from one row each. The copies are deleted at the end.
``--json`` writes bench/results/<stamp>/lists.json: per page ``queries``, ``p50_ms``, ``p95_ms``.
Refuses a database whose name does not contain "bench" unless BENCH_ALLOW_ANY_DB=1.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import steps  # bench/steps.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GOAL_MS = 100
GOAL_QUERIES = 10
MARK = "bench-lists"  # the label every copied clock carries, to find and delete the copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="open cases in all")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--json", action="store_true", help="write bench/results/<stamp>/lists.json")
    args = parser.parse_args()
    storage_root = steps.setup_procedure_bench("bench-lists-")
    if storage_root is None:
        return 2
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    made = setup(args.cases)
    try:
        figures = measure(made, args.requests)
    finally:
        teardown(made)
    figures["open_cases"] = args.cases
    if args.json:
        steps.write_json("lists", figures)
    over = [name for name, page in figures["pages"].items() if not page["ok"]]
    print(f"\npages over {GOAL_MS} ms p95 or {GOAL_QUERIES} queries: {', '.join(over) or 'none'}")
    return 0


# --- data ----------------------------------------------------------------------------------------------------


def _columns(cur, table: str) -> list[str]:
    from django.db import connection

    return [c.name for c in connection.introspection.get_table_description(cur, table)]


def _next_id(cur, table: str, column: str = "id") -> int:
    cur.execute(f"SELECT COALESCE(max({column}), 0) + 1000 FROM {table}")
    return cur.fetchone()[0]


def _clone(cur, table: str, template_id: int, n: int, base: int, overrides: dict[str, str], pk: str = "id") -> None:
    """n copies of one row, the copy g (1..n) with primary key base + g and ``overrides`` (SQL over g and t)."""
    cols = _columns(cur, table)
    exprs = [f"{base} + g" if c == pk else overrides.get(c, f't."{c}"') for c in cols]
    cur.execute(
        f"""INSERT INTO {table} ({", ".join(f'"{c}"' for c in cols)})
            SELECT {", ".join(exprs)} FROM {table} t, generate_series(1, {n}) AS g WHERE t.{pk} = {template_id}"""
    )
    if pk == "id":
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


DUE = "now() + (((g * 7919) % 40) - 10) * interval '1 day' + (g % 86400) * interval '1 second'"


def _clone_case(cur, *, case_table: str, case, n: int, ct_id: int, made: dict, key: str) -> None:
    """n copies of a submitted viewflow case: its record, the case, its process, its open task, its inbox row
    and its open clocks, each copy pointing at its own copies."""
    from viewflow.workflow.models import Process, Task

    from cases.models import InboxItem
    from workflows.models import Clock

    process = Process.objects.get(artifact_content_type_id=ct_id, artifact_object_id=case.pk)
    task = Task.objects.filter(process=process, status__in=["NEW", "ASSIGNED", "STARTED"]).order_by("-pk").first()
    clocks = list(Clock.objects.filter(content_type_id=ct_id, object_id=case.pk, stopped_at__isnull=True))
    bases = {
        "record": _next_id(cur, "cases_creditrecord"),
        "case": _next_id(cur, case_table),
        "process": _next_id(cur, "viewflow_process"),
        "task": _next_id(cur, "viewflow_task"),
    }
    made["copies"].append((key, case_table, bases, ct_id, n))
    _clone(cur, "cases_creditrecord", case.record_id, n, bases["record"], {"decision_number": "t.decision_number || g"})
    _clone(
        cur,
        case_table,
        case.pk,
        n,
        bases["case"],
        {
            "record_id": f"{bases['record']} + g",
            "tracking_number": f"'{key}{made['tag']}-' || g",
            "commitment_id": "NULL",
            "review_of_id": "NULL",
            "received_at": "t.received_at - (g % 300) * interval '1 hour'",
            "created_at": "t.created_at - (g % 300) * interval '1 hour'",
        },
    )
    _clone(
        cur,
        "viewflow_process",
        process.pk,
        n,
        bases["process"],
        {"artifact_object_id": f"{bases['case']} + g", "seed_object_id": "NULL"},
    )
    _clone(cur, "viewflow_task", task.pk, n, bases["task"], {"process_id": f"{bases['process']} + g"})
    if InboxItem.objects.filter(task_id=task.pk).exists():
        _clone(
            cur,
            "cases_inboxitem",
            task.pk,
            n,
            bases["task"],
            {"object_id": f"{bases['case']} + g", "due_at": DUE, "tracking_number": f"'{key}{made['tag']}-' || g"},
            pk="task_id",
        )
    for clock in clocks:
        base = _next_id(cur, "workflows_clock")
        _clone(
            cur,
            "workflows_clock",
            clock.pk,
            n,
            base,
            {"object_id": f"{bases['case']} + g", "due_at": DUE, "due_date": f"({DUE})::date", "label": f"'{MARK}'"},
        )


def setup(total: int) -> dict:
    import bench_objection
    import bench_repair
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from cases.models import ObjectionCase, Organisation, RepairApplication, Role

    started = time.perf_counter()
    teardown()  # what an interrupted run left
    repair = bench_repair.setup_data(3)
    objection = bench_objection.setup_data(3)
    made = {"tag": repair["tag"], "copies": [], "repair": repair, "objection": objection}
    # One submitted repair application and one filed objection, made by the services.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models.attachments import Attachment
    from cases.services import objection as objection_svc
    from cases.services import repair as repair_svc

    applicant = repair["applicant"]
    app = repair_svc.repair_draft_save(
        actor=applicant,
        record=repair["records"][0],
        contact_name="赵六",
        contact_phone="13800000000",
        statement="已缴清罚款并完成整改。",
    )
    repair_svc.repair_attach(
        actor=applicant,
        application=app,
        purpose=Attachment.Purpose.PROOF,
        uploaded=SimpleUploadedFile("proof.pdf", bench_repair.PDF, content_type="application/pdf"),
    )
    repair_svc.repair_sign_commitment(actor=applicant, application=app, signer_name="张三", capacity="legal_rep")
    repair_svc.repair_submit(actor=applicant, application=app)
    objection_case = objection_svc.objection_file(
        actor=objection["applicant"],
        record=objection["records"][0],
        matter="content",
        disputed={"decision_number": objection["records"][0].decision_number + "（更正）"},
        reason="文书号有误",
        contact_name="赵六",
        contact_phone="13800000000",
        uploads=[SimpleUploadedFile("evidence.pdf", bench_objection.PDF, content_type="application/pdf")],
    )
    n_repair, n_objection = int(total * 0.4), int(total * 0.3)
    with connection.cursor() as cur:
        _clone_case(
            cur,
            case_table="cases_repairapplication",
            case=RepairApplication.objects.get(pk=app.pk),
            n=n_repair - 1,
            ct_id=ContentType.objects.get_for_model(RepairApplication).pk,
            made=made,
            key="R",
        )
        _clone_case(
            cur,
            case_table="cases_objectioncase",
            case=ObjectionCase.objects.get(pk=objection_case.pk),
            n=n_objection - 1,
            ct_id=ContentType.objects.get_for_model(ObjectionCase).pk,
            made=made,
            key="O",
        )
        for table in ("cases_creditrecord", "cases_repairapplication", "cases_objectioncase", "viewflow_process"):
            cur.execute(f"ANALYZE {table}")
        cur.execute("ANALYZE viewflow_task; ANALYZE cases_inboxitem; ANALYZE workflows_clock")
    made["supervisor"] = steps.user_maker(f"bench-lists-{made['tag']}")(
        "supervisor",
        Role.SUPERVISOR,
        Organisation.objects.filter(kind=Organisation.Kind.SUPERVISOR).first()
        or Organisation.objects.create(name=f"督办基准{made['tag']}", kind=Organisation.Kind.SUPERVISOR),
    )
    print(
        f"setup: {n_repair:,} open repair applications and {n_objection:,} objections "
        f"(each with record, process, task, inbox row and clocks) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return made


def teardown(made: dict | None = None) -> None:
    """Delete every copy this script made, in this run or an interrupted earlier one (found by their marks)."""
    from django.db import connection, transaction

    copies = r"'^[RO][0-9a-f]{8}-[0-9]+$'"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # audit-protected rows refuse DELETE
        for table, ct in (("cases_repairapplication", "repairapplication"), ("cases_objectioncase", "objectioncase")):
            cur.execute(
                f"""CREATE TEMP TABLE gone ON COMMIT DROP AS
                    SELECT c.id, c.record_id, p.id AS process_id FROM {table} c
                    JOIN django_content_type k ON k.app_label = 'cases' AND k.model = '{ct}'
                    LEFT JOIN viewflow_process p
                      ON p.artifact_content_type_id = k.id AND p.artifact_object_id = c.id
                    WHERE c.tracking_number ~ {copies}"""
            )
            cur.execute(
                "DELETE FROM cases_inboxitem WHERE task_id IN (SELECT t.id FROM viewflow_task t JOIN gone g"
                " ON t.process_id = g.process_id)"
            )
            cur.execute("DELETE FROM viewflow_task WHERE process_id IN (SELECT process_id FROM gone)")
            cur.execute("DELETE FROM viewflow_process WHERE id IN (SELECT process_id FROM gone)")
            cur.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM gone)")
            cur.execute("DELETE FROM cases_creditrecord WHERE id IN (SELECT record_id FROM gone)")
            cur.execute("DROP TABLE gone")
        cur.execute("DELETE FROM workflows_clock WHERE label = %s", [MARK])


# --- measuring -----------------------------------------------------------------------------------------------


def pages(made: dict) -> dict[str, tuple]:
    """name → (user or None for anonymous, URL)."""
    from django.urls import reverse

    repair, objection = made["repair"], made["objection"]
    sup = reverse("supervision_cases")
    org = repair["org"].pk
    return {
        "repair_desk": (repair["handler"], reverse("repair_desk")),
        "repair_my_list": (repair["applicant"], reverse("repair_my_list")),
        "objection_desk": (objection["intake"], reverse("objection_desk")),
        "objection_my_list": (objection["applicant"], reverse("objection_my_list")),
        "supervision_repair": (made["supervisor"], f"{sup}?procedure=repair"),
        "supervision_repair_org_overdue": (made["supervisor"], f"{sup}?procedure=repair&organisation={org}&overdue=1"),
        "supervision_objection": (made["supervisor"], f"{sup}?procedure=objection"),
        "record_list": (repair["handler"], reverse("record_list")),
        "subject_list": (repair["handler"], reverse("subject_list")),
        "commitment_register_public": (None, reverse("commitment_register_public")),
        "public_search": (None, reverse("public_search") + "?q=" + repair["subject"].name[:6]),
        "inbox": (repair["handler"], reverse("inbox")),
    }


def measure(made: dict, requests: int) -> dict:
    from django.db import connection
    from django.test import Client

    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per login otherwise
    figures = {"load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count(), "pages": {}}
    print(f"\n{'page':<34} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}  status")
    for name, (user, url) in pages(made).items():
        client = Client()
        if user is not None:
            client.force_login(user)
        t0 = time.perf_counter()
        response = client.get(url)  # warm-up (and the status shown)
        # A page that takes seconds is measured a few times only: the figure is clear and the run stays short.
        n = requests if time.perf_counter() - t0 < 1 else 3
        executed: list[tuple[float, str]] = []

        def log(execute, sql, params, many, context, executed=executed):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                executed.append((time.perf_counter() - t0, sql))

        with connection.execute_wrapper(log):
            client.get(url)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        queries = len(executed)
        ok = response.status_code == 200 and queries <= GOAL_QUERIES and p95 <= GOAL_MS
        figures["pages"][name] = {
            "url": url,
            "status": response.status_code,
            "queries": queries,
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "ok": ok,
        }
        print(f"{name:<34} {queries:>7} {p50:>8.1f} {p95:>8.1f}  {response.status_code}{'' if ok else '  OVER'}")
        if os.environ.get("BENCH_LISTS_SQL") and not ok:
            for seconds, sql in sorted(executed, reverse=True)[:3]:
                print(f"    {seconds * 1000:.1f} ms {sql[:300]}")
    return figures


if __name__ == "__main__":
    sys.exit(main())
