"""Notice rendering under real concurrency and real failures, on PostgreSQL with committed transactions:
many workers at once, a worker that dies after claiming, and a django-q2 cluster killed with SIGKILL.

Whatever happens, every notice is issued exactly once, numbers run 1..N without a gap, and there is one PDF
per notice whose SHA-256 is the recorded one.
"""

import datetime as dt
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from cases.models import AuditEvent, NumberSequence
from notices import rendering, services
from notices.models import Notice
from notices.services import notice_render, notice_request

pytestmark = pytest.mark.django_db(transaction=True)

CONTEXT = {"matter": "终止公示行政处罚信息", "received_on": "2026-04-02", "reasons": ["最短公示期尚未届满"]}


@pytest.fixture
def storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def request_many(record, market_bureau, enterprise, handler, storage):
    def make(n: int) -> list[int]:
        return [
            notice_request(
                case=record,
                kind="repair_refused",
                trigger=f"t{i}",
                issuer=market_bureau,
                addressee_subject=enterprise,
                context=CONTEXT,
                actor=handler,
            ).pk
            for i in range(n)
        ]

    return make


@pytest.fixture
def no_queue(monkeypatch):
    """For the tests that drive notice_render themselves: requesting queues nothing (with Q_SYNC=1 the
    queued task would otherwise render the notice at once, on commit)."""
    monkeypatch.setattr(services, "_enqueue_render", lambda notice_id: None)


def assert_issued_exactly_once(ids: list[int], storage: Path) -> None:
    notices = list(Notice.objects.filter(pk__in=ids).order_by("serial"))
    assert {n.status for n in notices} == {Notice.Status.ISSUED}
    assert [n.serial for n in notices] == list(range(1, len(ids) + 1))
    assert len({n.number for n in notices}) == len(ids)
    assert NumberSequence.objects.get(scope__startswith="notice:").last_value == len(ids)
    assert AuditEvent.objects.filter(action="notice.issued").count() == len(ids)
    files = sorted(storage.rglob("*.pdf"))
    assert len(files) == len(ids)
    for notice in notices:
        assert hashlib.sha256(Path(notice.pdf.path).read_bytes()).hexdigest() == notice.sha256


def test_many_workers_at_once_issue_each_notice_once_with_gap_free_numbers(no_queue, request_many, storage):
    ids = request_many(16)
    assert issued_count(ids) == 0
    errors = []

    def worker():
        try:
            for notice_id in random.sample(ids, len(ids)):
                notice_render(notice_id=notice_id)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_issued_exactly_once(ids, storage)


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, so no handler of ours runs, as when the process dies."""


def test_a_worker_that_dies_while_rendering_burns_no_number(no_queue, request_many, storage, monkeypatch):
    [notice_id] = request_many(1)
    real = rendering.pdf_bytes

    def die(html, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(rendering, "pdf_bytes", die)
    with pytest.raises(WorkerKilled):
        notice_render(notice_id=notice_id)
    monkeypatch.setattr(rendering, "pdf_bytes", real)

    notice = Notice.objects.get(pk=notice_id)
    # The number was recorded with the notice before rendering: it stays the notice's, for the next attempt.
    assert notice.status == Notice.Status.NUMBERED and notice.claimed_at is not None and notice.serial == 1
    assert NumberSequence.objects.get(scope__startswith="notice:").last_value == 1
    assert list(storage.rglob("*.pdf")) == []
    # While the dead worker's lease runs, nobody else takes the notice (it might still be alive)...
    assert notice_render(notice_id=notice_id) is None
    # ...after it, the next run does, and issues number 1.
    Notice.objects.filter(pk=notice_id).update(
        claimed_at=timezone.now() - services.claim_lease() - dt.timedelta(seconds=1)
    )
    assert notice_render(notice_id=notice_id).serial == 1
    assert_issued_exactly_once([notice_id], storage)


def test_a_slow_worker_that_lost_its_lease_does_not_issue_again(no_queue, request_many, storage):
    [notice_id] = request_many(1)
    slow_claim = services._claim(notice_id)
    Notice.objects.filter(pk=notice_id).update(claimed_at=slow_claim - services.claim_lease() - dt.timedelta(seconds=1))
    assert notice_render(notice_id=notice_id) is not None  # the second worker took over and issued
    # The slow one wakes up, at either step: nothing to do.
    assert services._number(notice_id, slow_claim) is None
    assert services._issue(notice_id, slow_claim, "notices/stale.pdf", b"%PDF-stale") is None
    assert_issued_exactly_once([notice_id], storage)


# --- a real django-q2 cluster ----------------------------------------------------------------------------
# The cluster runs in its own process group against this test's database. Its timings are shortened so a
# killed cluster's tasks come back within seconds: the broker re-delivers an unacknowledged task after
# `retry` seconds, and the notice claim lease is shorter than that, so the re-delivered task may re-claim.
CLUSTER_SCRIPT = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings
settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False, "workers": 2, "timeout": 8, "retry": 10,
                      "poll": 0.1, "catch_up": False, "max_attempts": 0}
settings.NOTICE_CLAIM_LEASE_SECONDS = 5
import django
django.setup()
from django.core.management import call_command
call_command("qcluster")
"""


@pytest.fixture
def cluster(storage, tmp_path, monkeypatch):
    # This process only enqueues; the cluster does the work.
    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "PRIVATE_STORAGE_ROOT": str(storage),
        "Q_SYNC": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    started = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"qcluster-{len(started)}.log", "wb")  # noqa: SIM115 — closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-c", CLUSTER_SCRIPT],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((proc, log))
        return proc

    def kill(proc: subprocess.Popen) -> None:
        # The cluster forks a sentinel, workers, a monitor and a pusher: kill the whole group we started.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    yield start, kill
    for proc, log in started:
        kill(proc)
        log.close()
    # Let PostgreSQL notice the dead connections before the test database is flushed.
    time.sleep(0.5)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def issued_count(ids) -> int:
    return Notice.objects.filter(pk__in=ids, status=Notice.Status.ISSUED).count()


def test_a_django_q_cluster_issues_every_requested_notice(cluster, request_many, storage):
    start, kill = cluster
    ids = request_many(10)  # each request queues its task on commit
    assert issued_count(ids) == 0  # queued, not run in this process
    proc = start()
    wait_until(lambda: issued_count(ids) == len(ids), 120, "the cluster to issue all notices")
    kill(proc)
    assert_issued_exactly_once(ids, storage)


def test_a_cluster_killed_mid_run_and_restarted_issues_each_notice_exactly_once(cluster, request_many, storage):
    start, kill = cluster
    ids = request_many(30)
    first = start()
    wait_until(lambda: issued_count(ids) >= 3, 120, "the first cluster to issue a few notices")
    kill(first)
    done_before = issued_count(ids)
    assert done_before < len(ids), "the cluster finished before it could be killed; raise the notice count"
    second = start()
    wait_until(lambda: issued_count(ids) == len(ids), 180, "the restarted cluster to issue the rest")
    kill(second)
    assert_issued_exactly_once(ids, storage)
