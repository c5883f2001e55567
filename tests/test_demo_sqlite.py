"""README's first command, `make demo`, on the embedded default: SQLite and nothing else.

The suite runs on PostgreSQL (tests/plugins.py), so the demo is run here in subprocesses of its own with
DATABASE_URL pointing at a fresh SQLite file: migrate, load_demo twice, setup_schedules, every scheduled job
the demo's task cluster runs, every demo login's pages, and the real development server. The test's own
PostgreSQL connection is never touched.

The portable paths (sweep and import written through the ORM where PostgreSQL gets set-based SQL and COPY) are
also compared with the PostgreSQL paths on the same data, in the test database itself.
"""

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from cases.models import AuditEvent, Commitment, CommitmentMatter, CommitmentVerification, OutboxEvent
from cases.services.commitment import lifecycle as svc
from cases.services.commitment import sweep as commitment_sweep
from tests.commitment_helpers import make_matter, storage, travel  # noqa: F401  (fixtures)
from tests.factories import EnterpriseFactory, PersonFactory
from workflows.models import Clock

ROOT = Path(__file__).resolve().parent.parent
DEMO = json.loads((ROOT / "fixtures" / "demo.json").read_text(encoding="utf-8"))

# Pages each kind of demo login works from (followed through redirects, all must answer 200).
APPLICANT_PAGES = ["/", "/subjects/", "/records/", "/repair/", "/objection/", "/commitments/", "/notices/"]
STAFF_PAGES = [
    "/",
    "/desk/",
    "/records/",
    "/repair/desk/",
    "/objection/desk/",
    "/commitments/desk/",
    "/rectification/",
    "/reminders/",
    "/notices/",
]
SUPERVISION_PAGES = ["/supervision/", "/supervision/export.csv"]

# Run in the subprocess with the SQLite settings: every demo login signs in and opens its pages; then every
# job setup_schedules registered runs once, as the demo's qcluster would run it.
CLIENT_SCRIPT = """
import importlib, json, sys
from django.test import Client
from django_q.models import Schedule

demo = json.loads(sys.argv[1])
pages = json.loads(sys.argv[2])
seen = {}
for user in demo["users"]:
    client = Client()
    assert client.login(username=user["username"], password=demo["password"]), user["username"]
    for path in pages[user["role"]]:
        response = client.get(path, follow=True)
        assert response.status_code == 200, (user["username"], path, response.status_code)
        seen[(user["username"], path)] = response.content.decode()
jobs = {}
for schedule in Schedule.objects.order_by("name"):
    module, name = schedule.func.rsplit(".", 1)
    jobs[schedule.name] = getattr(importlib.import_module(module), name)()
print(json.dumps({
    "dashboard": seen[("duban", "/supervision/")],
    "jobs": jobs,
}, default=str))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def demo_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PG", "Q_", "DJANGO_SETTINGS"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        CASEWORK_VAR_DIR=str(tmp_path / "var"),
        Q_SYNC="0",
        DEBUG="0",
        FAST_PASSWORD_HASHER="1",
        PYTHONUNBUFFERED="1",
    )
    (tmp_path / "var").mkdir()
    return env


def _manage(env, *args, timeout=120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_demo_runs_on_the_embedded_sqlite_database_alone(demo_env):
    _manage(demo_env, "migrate", "--noinput", "-v", "0")
    first = _manage(demo_env, "load_demo")
    assert "commitments" in first and "verification checks opened" in first
    assert "escalation steps" in first
    # Loading again adds nothing: the demo can be started any number of times.
    second = _manage(demo_env, "load_demo")
    assert second.strip() == "demo data already loaded, nothing to do"
    _manage(demo_env, "setup_schedules")

    pages = {}
    for user in DEMO["users"]:
        if user["role"] == "applicant":
            pages[user["role"]] = APPLICANT_PAGES
        else:
            pages[user["role"]] = STAFF_PAGES + (
                SUPERVISION_PAGES
                if user["role"] in ("supervisor", "platform_intake", "platform_reviewer", "administrator")
                else []
            )
    out = _manage(
        demo_env,
        "shell",
        "-c",
        f"import sys; sys.argv = ['x', {json.dumps(DEMO)!r}, {json.dumps(pages)!r}]\n{CLIENT_SCRIPT}",
    )
    result = json.loads(out.strip().splitlines()[-1])
    # The supervisor's dashboard counts from the raw per-organisation SQL: the demo's overdue 整改 of the
    # district 城市管理局 is on it.
    assert "郑州市某区城市管理局" in result["dashboard"]
    # The daily commitment sweep already ran inside load_demo: nothing left to screen.
    assert result["jobs"]["commitment-verifications"]["screened"] == 0
    assert {"outbox-deliver", "escalation-sweep", "notices-render-due"} <= result["jobs"].keys()

    # The web server and the task cluster together on the one database file, as scripts/demo.sh runs them: the
    # cluster works off the notices load_demo queued while pages are served.
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env={**demo_env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "DEBUG": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _body = _get(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.3)
        assert status == 200
        status, body = _get(f"http://127.0.0.1:{port}/public/")
        assert status == 200 and "信用" in body
        status, body = _get(f"http://127.0.0.1:{port}/public/commitments/")
        assert status == 200
        # DEBUG off, as in production: the site's own error page, and static files served by the app itself.
        status, body = _get(f"http://127.0.0.1:{port}/no-such-page/")
        assert status == 404 and "页面不存在" in body and "Django" not in body
        status, body = _get(f"http://127.0.0.1:{port}/static/css/site.css")
        assert status == 200 and "Credit Casework" in body
        # Signed-in pages send an anonymous visitor to the login page.
        status, body = _get(f"http://127.0.0.1:{port}/supervision/")
        assert status == 200 and 'name="password"' in body
        # Every task the demo queued is done, none failed (e.g. "database is locked" between the processes).
        db = sqlite3.connect(Path(demo_env["DATABASE_URL"].removeprefix("sqlite:///")), timeout=20)
        try:
            while True:
                (queued,) = db.execute("SELECT count(*) FROM django_q_ormq").fetchone()
                done = dict(db.execute("SELECT success, count(*) FROM django_q_task GROUP BY success").fetchall())
                if not queued or done.get(0):
                    break
                assert time.monotonic() < deadline + 30, f"the task cluster left {queued} tasks"
                time.sleep(0.5)
            failed = db.execute("SELECT name, result FROM django_q_task WHERE success = 0").fetchall()
        finally:
            db.close()
        assert not failed and done.get(1, 0) >= 1
        status, _body = _get(f"http://127.0.0.1:{port}/public/")
        assert status == 200
    finally:
        # As scripts/demo.sh stops them: the cluster's own process (it stops its workers), the server's group.
        cluster.terminate()
        os.killpg(server.pid, signal.SIGTERM)
        for process in (server, cluster):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever of its group is left
            process.wait()


# --- the portable paths give what the PostgreSQL paths give ---------------------------------------------------


class _Elsewhere:
    """The database connection as a module sees it, but reporting another vendor: the module takes its portable
    path while every query still runs here on PostgreSQL."""

    vendor = "sqlite"

    def __getattr__(self, name):
        return getattr(connection, name)


def _both_ways(monkeypatch, module, work):
    """``work()`` on the PostgreSQL path and on the portable path, from the same data (rolled back between)."""
    out = []
    for portable in (False, True):
        sid = transaction.savepoint()
        if portable:
            monkeypatch.setattr(module, "connection", _Elsewhere())
        try:
            out.append(work())
        finally:
            monkeypatch.undo()
            transaction.savepoint_rollback(sid)
    return out


def test_the_portable_sweep_screens_draws_and_opens_what_the_sql_sweep_does(
    travel,  # noqa: F811
    storage,  # noqa: F811
    handler,  # noqa: F811
    other_handler,
    applicant,
    enterprise,
    market_bureau,
    tax_bureau,
    rule_sets,
    monkeypatch,
):
    travel.to(2026, 9, 24, 10)
    every = make_matter(market_bureau, code="all")
    sampled = make_matter(
        tax_bureau,
        code="half",
        verification=CommitmentMatter.Verification.SAMPLE,
        sample_ratio=Decimal("0.5"),
        verify_within=30,
        verify_unit="cd",
    )
    unchecked = make_matter(market_bureau, code="none", verification=CommitmentMatter.Verification.NONE)
    officers = {market_bureau.pk: handler, tax_bureau.pk: other_handler}
    for i in range(60):
        of = (every, sampled, unchecked)[i % 3]
        person = i % 2 == 0
        decided = dt.date(2026, 9, 1) + dt.timedelta(days=i // 2)  # some still in the future on 2026-09-24
        svc.commitment_register(
            actor=officers[of.department_id],
            matter=of,
            subject=PersonFactory() if person else EnterpriseFactory(),
            signer_name="李四",
            capacity="self" if person else "legal_rep",
            signed_on=min(decided, dt.date(2026, 9, 24)),
            decision_date=None if i % 4 == 0 else decided,
        )
    # A check a department already opened by hand keeps its commitment out (ON CONFLICT DO NOTHING).
    manual = Commitment.objects.filter(commitment_matter=every).order_by("pk")[1]
    svc.verification_start(actor=handler, commitment=manual)
    # Signed online without a decision date: due from the signing date in Beijing, not in UTC — 00:30 on the
    # 25th in Beijing is still the 24th in UTC, and is not due on the 24th.
    for hour, minute, day in ((23, 30, 24), (0, 30, 25)):
        travel.to(2026, 9, day, hour, minute)
        svc.commitment_sign(actor=applicant, matter=every, subject=enterprise, signer_name="张三", capacity="legal_rep")
    late_evening, after_midnight = Commitment.objects.filter(channel="online").order_by("signed_at")

    def sweep():
        runs = []
        for minute, limit in ((1, 7), (2, None), (3, None)):
            travel.to(2026, 9, 24, 10, minute)  # each run at its own moment, as the daily sweep is
            runs.append(commitment_sweep.verifications_schedule_due(limit=limit))
        commitments = list(Commitment.objects.order_by("pk").values_list("pk", "screened_at", "sample_draw"))
        checks = list(
            CommitmentVerification.objects.order_by("commitment_id", "pk").values(
                "pk",
                "commitment_id",
                "subject_id",
                "handling_organisation_id",
                "rule_set_id",
                "received_at",
                "received_on",
                "created_at",
                "reason",
                "state",
                "finding",
                "serious_consequences",
            )
        )
        clocks = {
            c["object_id"]: c
            for c in Clock.objects.filter(purpose="commitment.verify").values(
                "object_id",
                "organisation_id",
                "label",
                "kind",
                "unit",
                "budget",
                "citation",
                "started_at",
                "start_rule",
                "start_date",
                "extension_cap",
                "due_date",
                "due_at",
                "provisional",
                "is_paused",
                "created_at",
            )
        }
        screened = {pk: at for pk, at, _draw in commitments}
        assert screened[late_evening.pk] is not None and screened[after_midnight.pk] is None
        rows = []
        for check in checks:
            clock = clocks.pop(check.pop("pk"), None)
            if check["reason"] == "manual":
                rows.append(check["commitment_id"])
                continue
            # Each check and its clock carry the moment of the run that screened the commitment.
            moment = screened[check["commitment_id"]]
            assert check.pop("received_at") == check.pop("created_at") == clock.pop("created_at") == moment
            clock.pop("object_id")
            rows.append((check, clock))
        audits = AuditEvent.objects.filter(action="verification.sweep").order_by("pk")
        return (
            runs,
            [(pk, at is not None, draw) for pk, at, draw in commitments],
            rows,
            [{k: v for k, v in a.data.items()} for a in audits],
        )

    on_postgresql, portable = _both_ways(monkeypatch, commitment_sweep, sweep)
    runs = on_postgresql[0]
    assert runs[0].screened == 7 and runs[1].opened > 0 and runs[1].sampled_out > 0 and runs[2].screened == 0
    assert any(draw is not None for _pk, _screened, draw in on_postgresql[1])
    # The same counts, the same commitments screened with the same stored draws (exactly: the Python formula
    # is the SQL one), the same checks and clocks with the same due dates, one audit event per run.
    assert portable == on_postgresql


def test_the_portable_import_writes_and_reports_what_copy_does(
    travel,  # noqa: F811
    storage,  # noqa: F811
    handler,
    market_bureau,  # noqa: F811
    rule_sets,
    monkeypatch,
):
    from cases.services.commitment import bulk_import as imp
    from tests.factories import make_id_number, make_uscc

    travel.to(2026, 7, 6, 9)
    # 容缺受理, so every row also gets its documents-to-follow date.
    matter = make_matter(market_bureau, type="tolerance", follow_documents=["房屋产权证明"], follow_within_wd=5)
    known = EnterpriseFactory()
    rows = [
        {
            "subject_name": "已登记企业（文件中的写法）",
            "identifier": known.uscc,
            "matter_code": matter.code,
            "signer_name": "王五",
            "signer_capacity": "法定代表人",
            "signed_on": "2026-07-01",
            "decision_date": "2026-07-02",
            "decision_number": "郑市监许〔2026〕1号",
            "source_reference": "R1",
        }
    ]
    for i in range(30):
        person = i % 3 == 0
        rows.append(
            {
                "subject_name": f"个体户{i}" if person else f"企业{i}有限公司",
                "identifier": make_id_number() if person else make_uscc(),
                "matter_code": matter.code,
                "signer_name": f"签署人{i}",
                "signer_capacity": "本人" if person else "受托代理人",
                "signed_on": f"2026-07-0{1 + i % 5}",
                "decision_date": "" if person else "2026-07-06",
                "decision_number": "",
                "source_reference": f"R\t{i}\\",
            }
        )
    rows.append(dict(rows[2], source_reference="again"))  # a new subject twice: created once
    rows.insert(5, None)  # a blank line

    def run():
        result = imp.commitments_import(
            actor=handler, department=market_bureau, raw_rows=rows, source="file", filename="commitments.csv"
        )
        stored = list(
            Commitment.objects.filter(import_batch=result.batch)
            .order_by("pk")
            .values(
                "subject__name",
                "subject__uscc",
                "subject__id_number",
                "subject__kind",
                "type",
                "matter",
                "department_id",
                "text",
                "text_sha256",
                "signer_name",
                "signer_capacity",
                "signed_at",
                "status",
                "source_reference",
                "commitment_matter_id",
                "channel",
                "decision_date",
                "decision_number",
                "registered_by_id",
                "follow_due_date",
                "screened_at",
                "sample_draw",
                "follow_received_at",
            )
        )
        ids = list(Commitment.objects.filter(import_batch=result.batch).order_by("pk").values_list("pk", flat=True))
        events = (
            OutboxEvent.objects.filter(aggregate_id=str(result.batch.pk), topic="commitment.batch")
            .select_related("clock")
            .order_by("pk")
        )
        reports = [e.payload["commitments"] for e in events]
        assert [row[0] for chunk in reports for row in chunk] == ids  # every commitment reported, by its id
        assert all(row["follow_due_date"] for row in stored)
        return (
            (result.created, result.subjects_created, result.events),
            stored,
            [([row[1:] for row in e.payload["commitments"]], e.clock.due_date) for e in events],
        )

    on_postgresql, portable = _both_ways(monkeypatch, imp, run)
    assert on_postgresql[0] == (32, 30, 1)  # the known subject reused, the repeated one created once
    assert portable == on_postgresql

    # All or nothing, with every row's errors, on either path.
    bad = [dict(rows[0]), dict(rows[1], signed_on="2026-13-01")]
    for module_connection in (None, _Elsewhere()):
        if module_connection:
            monkeypatch.setattr(imp, "connection", module_connection)
        with pytest.raises(imp.ImportRefused) as refused:
            imp.commitments_import(actor=handler, department=market_bureau, raw_rows=bad, source="file")
        assert [(e.row, e.column) for e in refused.value.row_errors] == [(3, "签署日期")]
        monkeypatch.undo()
    assert not Commitment.objects.exists()
