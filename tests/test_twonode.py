"""Two nodes, one of each killed under load (DESIGN.md, "Running at scale"; issue 11).

Two gunicorn web nodes and two django-q2 clusters run against one PostgreSQL database (this test's), one Redis
(broker and cache) and one S3-compatible server (moto in server mode), all started here on 127.0.0.1. An
applicant submits repair applications and an officer accepts them, alternating between the nodes; half way
through, one web node and one cluster are killed with SIGKILL; every request a dead node refused is sent to the
survivor, as a load balancer would. Then: every acknowledged submission exists exactly once, every decision has
exactly one issued notice, the notice numbers have no gap, each scheduled job ran once per period, every PDF
downloads from the surviving node, and nothing answered 500 or more.

Run it alone with `make test PYTEST_ARGS="-m twonode"`; TWONODE_SUBMISSIONS changes the volume (default 200).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import boto3
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule, Task

from cases.models import Organisation, RepairApplication, RepairState, Role
from notices.models import Notice
from tests.factories import (
    AuthorisationFactory,
    CreditRecordFactory,
    EnterpriseFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.servers import BIN, Processes, free_port, kill_group, s3_env, s3_server, wait_for_port
from tests.test_repair_views import FIELDS, tiny_pdf

pytestmark = [pytest.mark.twonode, pytest.mark.django_db(transaction=True)]

SUBMISSIONS = int(os.environ.get("TWONODE_SUBMISSIONS", "200"))
PASSWORD = "pass-1234"  # tests.factories.UserFactory
PEOPLE = 3  # applicant/officer pairs working at once


# --- a small HTTP client: cookies shared by both nodes (one site), no redirects followed ----------------------
class NodeDown(Exception):
    """The node refused or dropped the connection: it is dead (or being killed)."""


@dataclass
class Outcome:
    node: int
    method: str
    path: str
    status: int | None  # None: connection refused/reset by a dead node
    error: str = ""


@dataclass
class Client:
    ports: list[int]
    outcomes: list[Outcome]
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, node: int, method: str, path: str, *, fields: dict | None = None, files: dict | None = None
    ) -> http.client.HTTPResponse:
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            if files:
                boundary = uuid.uuid4().hex
                parts = []
                for name, value in (fields or {}).items():
                    parts.append(
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    )
                for name, (filename, content, mime) in files.items():
                    parts.append(
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                        f'filename="{filename}"\r\nContent-Type: {mime}\r\n\r\n'.encode()
                        + content
                        + b"\r\n"
                    )
                body = b"".join(parts) + f"--{boundary}--\r\n".encode()
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                body = urlencode(fields or {}).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.ports[node], timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.data = response.read()
        except (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead) as exc:
            self.outcomes.append(Outcome(node, method, path, None, type(exc).__name__))
            raise NodeDown(str(exc)) from exc
        finally:
            conn.close()
        self.outcomes.append(Outcome(node, method, path, response.status))
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def login(self, node: int, username: str) -> None:
        self.request(node, "GET", "/accounts/login/")
        response = self.request(
            node,
            "POST",
            "/accounts/login/",
            fields={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.cookies["csrftoken"]},
        )
        assert response.status == 302, response.data.decode()[:500]


class Balancer:
    """Sends each step to the next live node; a step a node dropped goes to the other (like nginx upstreams)."""

    def __init__(self, alive: list[int]):
        self.alive = alive
        self.turn = 0
        self.lock = threading.Lock()

    def next_node(self) -> int:
        with self.lock:
            self.turn += 1
            return self.alive[self.turn % len(self.alive)]

    def mark_dead(self, node: int) -> None:
        with self.lock:
            if node in self.alive and len(self.alive) > 1:
                self.alive.remove(node)

    def run(self, step):
        node = self.next_node()
        for _attempt in range(3):
            try:
                return step(node)
            except NodeDown:
                self.mark_dead(node)
                node = self.next_node()
        raise AssertionError("no live node answered three times in a row")


# --- the test ---------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)  # shown with -s: where the minutes go


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def schedule_names() -> list[str]:
    return list(Schedule.objects.order_by("name").values_list("name", flat=True))


def park_schedules() -> None:
    """Nothing fires until the test opens the next period."""
    Schedule.objects.update(next_run=timezone.now() + dt.timedelta(days=1))


def run_period(number: int) -> None:
    """One period of every scheduled job: make all due, let the clusters' schedulers (each polls every 30 s)
    take them, park them again, and wait until each job of this period has finished."""
    log(f"period {number}")
    Schedule.objects.update(next_run=timezone.now() - dt.timedelta(seconds=1))
    wait_until(
        lambda: not Schedule.objects.filter(next_run__lte=timezone.now()).exists(),
        120,
        f"the schedulers to take period {number}",
    )
    park_schedules()
    names = schedule_names()
    wait_until(
        lambda: Task.objects.filter(group__in=names).count() >= number * len(names),
        180,
        f"the jobs of period {number} to finish",
    )
    log(f"period {number} done")


@pytest.fixture
def site(tmp_path):
    """The people and records the load works on, committed so the nodes see them."""
    call_command("load_rule_sets", verbosity=0)
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    park_schedules()
    bureau = OrganisationFactory(name="郑州市市场监督管理局", kind=Organisation.Kind.DEPARTMENT, notice_prefix="郑市监")
    enterprise = EnterpriseFactory(name="郑州甲科技有限公司")
    applicant = UserFactory(username="applicant2n", role=Role.APPLICANT, display_name="甲公司经办人")
    AuthorisationFactory(user=applicant, subject=enterprise)
    UserFactory(username="handler2n", role=Role.DEPT_HANDLER, organisation=bureau)
    records = [CreditRecordFactory(subject=enterprise, provider=bureau) for _ in range(SUBMISSIONS)]
    return {"records": [r.pk for r in records], "bureau": bureau}


@pytest.fixture
def cluster_env(tmp_path):
    db = connection.settings_dict
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    name = f"cw2n{uuid.uuid4().hex[:10]}"  # own queue and key prefix: other test runs share this Redis
    with s3_server(tmp_path) as (endpoint, bucket):
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "DB_CONN_MAX_AGE": "60",
            "Q_SYNC": "0",
            "Q_BROKER_URL": redis_url,
            "REDIS_URL": redis_url,
            "Q_CLUSTER_NAME": name,
            "CACHE_KEY_PREFIX": name,
            "Q_WORKERS": "2",
            # a notice claimed by a killed worker may be taken over after 5 s instead of 5 min
            "NOTICE_CLAIM_LEASE_SECONDS": "5",
            "DEBUG": "0",
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **s3_env(endpoint, bucket),
        }
        yield env, endpoint, bucket


def test_two_nodes_one_of_each_killed_under_load_lose_and_double_nothing(site, cluster_env, tmp_path):
    env, endpoint, bucket = cluster_env
    procs = Processes(tmp_path)
    try:
        ports = [free_port(), free_port()]
        webs = [
            procs.start(
                f"web{i}",
                [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
                {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
            )
            for i, port in enumerate(ports)
        ]
        clusters = [procs.start(f"cluster{i}", [str(BIN / "python"), "manage.py", "qcluster"], env) for i in range(2)]
        log("started")
        for web, port in zip(webs, ports, strict=True):
            wait_for_port(port, 90, web, "gunicorn")
        outcomes: list[Outcome] = []
        probe = Client(ports, outcomes)
        # Both nodes healthy: database, Redis broker and cache, the bucket, and the clusters' heartbeats.
        wait_until(
            lambda: all(probe.request(i, "GET", "/healthz").status == 200 for i in (0, 1)),
            90,
            "both nodes to report healthy",
        )

        log("healthy")
        run_period(1)  # before the kill: every job once

        balancer = Balancer([0, 1])
        acknowledged: dict[int, int] = {}  # record id → application id the applicant was shown
        decided: list[int] = []
        proof = ("缴款凭证.pdf", tiny_pdf(), "application/pdf")
        form = {**FIELDS, "action": "submit"}
        killed = threading.Event()
        lock = threading.Lock()

        def kill_one_of_each() -> None:
            # SIGKILL: no graceful shutdown, requests and tasks in flight die with them.
            kill_group(webs[0])
            kill_group(clusters[0])
            killed.set()

        def person(records: list[int]) -> None:
            """One applicant's and one officer's browser sessions working through their share of the records."""
            applicant, officer = Client(ports, outcomes), Client(ports, outcomes)
            balancer.run(lambda node: applicant.login(node, "applicant2n"))
            balancer.run(lambda node: officer.login(node, "handler2n"))

            def submit(record_id: int, node: int) -> int:
                response = applicant.request(
                    node, "POST", f"/repair/records/{record_id}/apply/", fields=form, files={"proof": proof}
                )
                location = response.headers.get("Location", "")
                if re.fullmatch(r"/repair/\d+/edit/", location):
                    # A retry after a node died between saving the draft and submitting it: finish the draft.
                    response = applicant.request(node, "POST", location, fields=form, files={"proof": proof})
                    location = response.headers.get("Location", "")
                match = re.fullmatch(r"/repair/(\d+)/", location)
                assert response.status == 302 and match, (response.status, location, response.data.decode()[:800])
                return int(match.group(1))

            def accept(application_id: int, node: int) -> None:
                response = officer.request(node, "POST", f"/repair/desk/{application_id}/accept/")
                assert response.status == 302, (response.status, response.data.decode()[:800])

            for record_id in records:
                application_id = balancer.run(lambda node, r=record_id: submit(r, node))
                balancer.run(lambda node, a=application_id: accept(a, node))
                with lock:
                    acknowledged[record_id] = application_id
                    decided.append(application_id)
                    if len(decided) == SUBMISSIONS // 2:
                        # half way: kill while the other people's requests are on their way
                        threading.Thread(target=kill_one_of_each).start()

        errors = []

        def guarded(records):
            try:
                person(records)
            except BaseException as exc:  # noqa: BLE001 — reported by the main thread below
                errors.append(exc)

        people = [threading.Thread(target=guarded, args=(site["records"][i::PEOPLE],)) for i in range(PEOPLE)]
        for thread in people:
            thread.start()
        for thread in people:
            thread.join()
        if errors:
            raise errors[0]
        log("load done")
        wait_until(killed.is_set, 30, "the kill")
        assert webs[0].poll() is not None and clusters[0].poll() is not None

        # The survivor's cluster renders the rest; notices the killed cluster had taken are picked up by the
        # notices-render-due job (after their lease, or a minute unclaimed) in the following periods.
        ct = ContentType.objects.get_for_model(RepairApplication)
        accepted = Notice.objects.filter(content_type=ct, object_id__in=decided, kind="repair_accepted")

        def issued() -> int:
            return accepted.filter(status=Notice.Status.ISSUED).count()

        seen, still_since = -1, time.monotonic()
        while issued() < SUBMISSIONS and time.monotonic() - still_since < 20:
            if issued() != seen:
                seen, still_since = issued(), time.monotonic()
            time.sleep(1)
        log(f"queue drained: {issued()} of {SUBMISSIONS} notices issued")
        periods = 1
        while periods < 2 or (issued() < SUBMISSIONS and periods < 5):
            periods += 1
            run_period(periods)  # at least one period after the kill, on the surviving cluster alone
        log(f"all notices issued after {periods} periods")
        # Every acknowledged submission exists exactly once, and was decided.
        apps = RepairApplication.objects.filter(record_id__in=site["records"])
        assert apps.count() == SUBMISSIONS
        assert {a.record_id: a.pk for a in apps} == acknowledged
        assert set(apps.values_list("state", flat=True)) == {RepairState.ACCEPTED}

        # Every decision has exactly one notice, issued, numbered without a gap.
        assert accepted.count() == len(decided) == SUBMISSIONS
        assert accepted.filter(status=Notice.Status.ISSUED).count() == SUBMISSIONS
        serials = sorted(
            Notice.objects.filter(
                issuer=site["bureau"], kind="repair_accepted", status=Notice.Status.ISSUED
            ).values_list("serial", flat=True)
        )
        assert serials == list(range(1, SUBMISSIONS + 1))

        # Each scheduled job ran once per period, across both clusters (and the killed one's periods).
        runs = {name: Task.objects.filter(group=name).count() for name in schedule_names()}
        assert runs and set(runs.values()) == {periods}, runs

        # Every PDF is in the bucket (none on a node's disk) and downloads from the surviving node, as issued.
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        stored = {
            obj["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        }
        assert {f"files/{name}" for name in accepted.values_list("pdf", flat=True)} <= stored
        survivor = [i for i in (0, 1) if (webs[i].poll() is None)]
        assert survivor == [1]
        reader = Client(ports, outcomes)
        reader.login(1, "applicant2n")
        for notice in accepted.order_by("pk"):
            response = reader.request(1, "GET", f"/notices/{notice.pk}/pdf/")
            assert response.status == 200 and response.data.startswith(b"%PDF")
            assert hashlib.sha256(response.data).hexdigest() == notice.sha256

        # Nothing answered 500 or more; the only failures are connections the killed node dropped.
        assert [o for o in outcomes if o.status is not None and o.status >= 500] == []
        assert {o.node for o in outcomes if o.status is None} <= {0}
        # And the survivor is still healthy.
        assert probe.request(1, "GET", "/healthz").status == 200
    finally:
        procs.stop_all()
        # Let PostgreSQL notice the dead connections before the test database is flushed.
        time.sleep(1)
