"""Benchmark: credit-repair applications end to end through the services, on PostgreSQL.

One application is: draft → attach (one PDF proof) → sign the commitment → submit → accept → propose
(approve) → leader's sign-off, which makes the repair effective, queues the 信用修复决定书 and the platform-sync
event. Measured: applications per second from the first step to the decision notice queued (each step its
own committed transaction, as from the web), and the SQL queries and time of each step.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_repair.py \
        --cases 200 --json

In the same run: the raw-SQL floor of the same case (bench/floor.py: the same legal writes in plain SQL), a
bare viewflow flow with the same three human tasks used the plain way (workflows/flows/bare.py: no case, no
legal writes), and the throughput with 1 and 4 processes running cases at once (--processes), so the ratios
floor_ratio, bare_viewflow_ratio and scaling_4_over_1 come from one machine state.

Notice rendering is not in the timed path: requesting a notice inserts its row, and the job that renders it is
replaced by a no-op here (bench/bench_notices.py measures rendering and the django-q2 cluster). Uploads go to
a temporary directory, removed at the end. Each run makes its own organisation, users, subject and records
(tagged with a random suffix) and leaves them in the benchmark database: the audit trail they are part of is
append-only. Use a dedicated database (its name must contain "bench" unless BENCH_ALLOW_ANY_DB=1).
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import uuid
from pathlib import Path

import steps  # bench/steps.py (the script's own folder is on sys.path)

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STEPS = ["draft", "attach", "sign", "submit", "accept", "propose", "signoff"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", "--cases", type=int, default=200, help="cases in the timed run")
    parser.add_argument("--counted", type=int, default=5, help="applications whose queries are counted")
    parser.add_argument("--processes", default="1,4", help="process counts for the scaling run (e.g. 1,4; 0 = skip)")
    parser.add_argument("--json", action="store_true", help="write bench/results/<stamp>/repair.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    storage_root = steps.setup_procedure_bench("bench-repair-")
    if storage_root is None:
        return 2
    try:
        if args.worker:
            return scaling_worker(args.applications)
        made = setup_data(args.applications + args.counted + 1)
        records = iter(made["records"])
        run_one = functools.partial(one_application, made)
        run_one(next(records))  # warm-up: caches (content types, rule sets, calendar), imports
        per_step, figures = steps.timed_run(
            STEPS,
            run_one,
            [next(records) for _ in range(args.applications)],
            noun="application",
            path="draft → decision notice queued",
        )
        figures.update(
            steps.counted_run(
                STEPS, run_one, [next(records) for _ in range(args.counted)], per_step, noun="application"
            )
        )
        figures.update(floor(args.applications, args.counted))
        figures["floor_ratio"] = round(figures["cases_per_s"] / figures["floor_cases_per_s"], 3)
        print(
            f"raw-SQL floor: {figures['floor_cases_per_s']:.1f} cases/s, {figures['floor_queries_per_case']} statements"
            f" per case; ours/floor = {figures['floor_ratio']:.2f}"
        )
        figures.update(bare_viewflow(made["handler"], args.applications, args.counted))
        figures["bare_viewflow_ratio"] = round(figures["cases_per_s"] / figures["bare_viewflow_cases_per_s"], 3)
        print(
            f"bare viewflow flow (3 human tasks, used plainly): {figures['bare_viewflow_cases_per_s']:.1f} cases/s,"
            f" {figures['bare_viewflow_queries_per_case']} queries per case; ours/bare = {figures['bare_viewflow_ratio']:.2f}"
        )
        counts = [int(n) for n in args.processes.split(",") if int(n) > 0]
        if counts:
            figures.update(scaling(counts, max(20, args.applications // 2)))
        if args.json:
            steps.write_json("repair", figures)
    finally:
        shutil.rmtree(storage_root, ignore_errors=True)
    return 0


def floor(n: int, n_counted: int) -> dict:
    """The raw-SQL floor (bench/floor.py), same run, same database."""
    import time

    import floor as raw
    from django.db import connection

    conn = raw.connect(connection.settings_dict)
    try:
        raw.create_tables(conn)
        raw.one_case(conn, 0)  # warm-up
        start = time.perf_counter()
        for i in range(n):
            raw.one_case(conn, i)
        elapsed = time.perf_counter() - start
        statements = []
        for i in range(n_counted):
            counter = CountingConnection(conn)
            raw.one_case(counter, i)
            statements.append(counter.count)
    finally:
        conn.close()
    return {"floor_cases_per_s": round(n / elapsed, 2), "floor_queries_per_case": max(statements)}


def bare_viewflow(user, n: int, n_counted: int) -> dict:
    """The same three human steps in a bare viewflow flow (workflows/flows/bare.py), same run, same database."""
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bare_case(user)  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        bare_case(user)
    elapsed = time.perf_counter() - start
    counts = []
    for _ in range(n_counted):
        with CaptureQueriesContext(connection) as ctx:
            bare_case(user)
        counts.append(len(ctx.captured_queries))
    return {"bare_viewflow_cases_per_s": round(n / elapsed, 2), "bare_viewflow_queries_per_case": max(counts)}


def bare_case(user) -> None:
    """Start, then for each human task what viewflow's own pages do: one request assigns it, the next executes
    it, each in its own transaction under the flow's lock, reading the task afresh."""
    from django.db import transaction
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows.flows.bare import BareFlow

    with transaction.atomic():
        process = BareFlow.start.run()
    for node in (BareFlow.acceptance, BareFlow.review, BareFlow.signoff):
        pk = Task.objects.filter(process=process, flow_task=node, status=STATUS.NEW).values_list("pk", flat=True).get()
        with BareFlow.lock(process.pk):
            task = Task.objects.get(pk=pk)
            task.flow_task.activation_class(task).assign(user)
        with BareFlow.lock(process.pk):
            task = Task.objects.get(pk=pk)
            activation = task.flow_task.activation_class(task)
            activation.start(None)
            activation.execute()
    assert Task.objects.filter(process=process, status=STATUS.DONE).count() == 5  # start, 3 steps, end


class CountingConnection:
    """Counts statements (and COMMITs, as round trips) sent through a psycopg2 connection."""

    def __init__(self, conn):
        self.conn, self.count = conn, 0

    def cursor(self):
        outer, cur = self, self.conn.cursor()

        class Cursor:
            def execute(self, sql, params=None):
                outer.count += 1
                return cur.execute(sql, params)

            def __getattr__(self, name):
                return getattr(cur, name)

        return Cursor()

    def commit(self):
        self.count += 1
        self.conn.commit()


def scaling(counts: list[int], per_process: int) -> dict:
    """Cases per second with P processes running cases at once (each on its own subject and records):
    all start together once every one is set up; throughput = all cases / the overlapping wall time."""
    import json
    import os
    import subprocess
    import time

    figures = {}
    for processes in counts:
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", "--cases", str(per_process)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "BENCH_WORKER": "1"},
            )
            for _ in range(processes)
        ]
        for worker in workers:
            _line_from(worker, lambda line: line == "ready")
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [json.loads(_line_from(worker, lambda line: line.startswith('{"start"'))) for worker in workers]
        for worker in workers:
            worker.wait(timeout=60)
        wall = max(r["end"] for r in results) - min(r["start"] for r in results)
        rate = processes * per_process / wall
        figures[f"cases_per_s_{processes}_processes"] = round(rate, 2)
        print(f"{processes} processes × {per_process} cases at once: {rate:.1f} cases/s")
        time.sleep(0.5)
    if len(counts) > 1:
        ratio = figures[f"cases_per_s_{counts[-1]}_processes"] / figures[f"cases_per_s_{counts[0]}_processes"]
        figures[f"scaling_{counts[-1]}_over_{counts[0]}"] = round(ratio, 2)
        print(f"scaling {counts[-1]} over {counts[0]} processes: {ratio:.2f}×")
    return figures


def _line_from(worker, wanted) -> str:
    """The next line of a worker's output that ``wanted`` accepts (log lines go to stdout too)."""
    for line in worker.stdout:
        if wanted(line.strip()):
            return line.strip()
    raise RuntimeError(f"worker exited with {worker.wait()} before answering")


def scaling_worker(n: int) -> int:
    import json
    import time

    made = setup_data(n + 1)
    records = iter(made["records"])
    one_application(made, next(records))
    todo = [next(records) for _ in range(n)]
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    for record in todo:
        one_application(made, record)
    print(json.dumps({"start": start, "end": time.time()}), flush=True)
    return 0


def setup_data(n_records: int) -> dict:
    from cases.models import Role

    tag = uuid.uuid4().hex[:8]
    org = steps.department(f"郑州市修复基准局{tag}", f"郑修{tag[:4]}")
    user = steps.user_maker(f"bench-{tag}")

    applicant, subject, records = steps.applicant_with_records(
        user, org, n_records, subject_name=f"郑州修复基准科技有限公司{tag}", tag=tag
    )
    handler = user("handler", Role.DEPT_HANDLER, org)
    leader = user("leader", Role.DEPT_LEADER, org)
    return {
        "org": org,
        "applicant": applicant,
        "handler": handler,
        "leader": leader,
        "subject": subject,
        "records": records,
        "tag": tag,
    }


def one_application(made: dict, record, measure=None) -> None:
    """Run the seven steps for ``record``; ``measure(step_name)`` returns a context manager around each."""
    from contextlib import nullcontext

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models.attachments import Attachment
    from cases.services import repair as svc

    measure = measure or (lambda name: nullcontext())
    applicant, handler, leader = made["applicant"], made["handler"], made["leader"]
    with measure("draft"):
        app = svc.repair_draft_save(
            actor=applicant,
            record=record,
            contact_name="赵六",
            contact_phone="13800000000",
            statement="已缴清罚款并完成整改。",
        )
    with measure("attach"):
        svc.repair_attach(
            actor=applicant,
            application=app,
            purpose=Attachment.Purpose.PROOF,
            uploaded=SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf"),
        )
    with measure("sign"):
        svc.repair_sign_commitment(actor=applicant, application=app, signer_name="张三", capacity="legal_rep")
    with measure("submit"):
        svc.repair_submit(actor=applicant, application=app)
    with measure("accept"):
        svc.repair_accept(actor=handler, application=app)
    with measure("propose"):
        svc.repair_propose(actor=handler, application=app, proposal="approve", reason="材料齐全")
    with measure("signoff"):
        svc.repair_signoff(actor=leader, application=app, agree=True)
    app.refresh_from_db()
    assert app.state == "approved", app.state


if __name__ == "__main__":
    sys.exit(main())
