"""The audit trail is append-only and hash-chained; any edit, deletion or truncation is found."""

import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from cases.models import AuditChainHead, AuditEvent, Subject
from cases.services import subjects as subject_services
from cases.services.audit import audit_log, audit_verify
from cases.services.subjects import subject_create_enterprise
from tests.factories import make_uscc


def _append(n: int, actor=None) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_log(actor=actor, action="test.event", object_type="test", object_id=i, data={"i": i, "text": "甲"})


def _verify_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def _verify_error() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    return str(caught.value)


@pytest.mark.django_db
class TestTamperDetection:
    def test_an_untouched_chain_verifies(self, handler):
        _append(5, actor=handler)
        assert audit_verify() is None
        assert "5" in _verify_output()

    def test_editing_an_events_data_names_that_event(self):
        _append(5)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_auditevent SET data = %s WHERE seq = 3", ['{"i": 99, "text": "甲"}'])
        assert "#3" in _verify_error()

    def test_editing_who_acted_names_that_event(self, handler, reviewer):
        _append(4, actor=handler)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_auditevent SET actor_id = %s WHERE seq = 2", [reviewer.pk])
        assert "#2" in _verify_error()

    def test_deleting_an_event_names_the_missing_one(self):
        _append(5)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_auditevent WHERE seq = 2")
        assert "#2" in _verify_error()

    def test_truncating_the_tail_names_the_first_missing_event(self):
        _append(6)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_auditevent WHERE seq >= 5")
        assert "#5" in _verify_error()

    def test_a_forger_who_recomputes_the_hash_breaks_the_next_link(self):
        _append(5)
        event = AuditEvent.objects.get(seq=3)
        event.data = {"i": 99}
        forged = event.compute_hash()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_auditevent SET data = %s, hash = %s WHERE seq = 3", ['{"i": 99}', forged])
        problem = audit_verify()
        assert problem is not None and problem.seq == 4
        assert "#4" in _verify_error()

    def test_an_event_appended_behind_the_heads_back_is_found(self):
        _append(3)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_auditchainhead SET last_seq = 2")
        assert "#3" in _verify_error()

    def test_the_orm_refuses_to_change_or_delete_events(self):
        _append(2)
        event = AuditEvent.objects.get(seq=1)
        event.action = "changed"
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(seq=1).update(action="changed")
        with pytest.raises(PermissionError):
            AuditEvent.objects.all().delete()
        assert audit_verify() is None

    def test_numbers_that_jsonb_rewrites_still_verify(self):
        """jsonb prints 1e+20 as 100000000000000000000: the hash must cover what comes back."""
        with transaction.atomic():
            audit_log(actor=None, action="test.float", data={"big": 1e20, "small": 0.1, "nested": [{"x": 2.5}]})
        assert audit_verify() is None

    def test_every_service_write_is_audited_with_its_actor(self, handler):
        subject = subject_create_enterprise(actor=handler, name="甲公司", uscc=make_uscc())
        event = AuditEvent.objects.get(action="subject.create")
        assert (event.object_type, event.object_id, event.actor) == ("cases.subject", str(subject.pk), handler)
        assert event.actor_label == handler.username


def _manage(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_verify_audit_exit_status_is_zero_only_for_an_untouched_chain():
    _append(4)
    clean = _manage("verify_audit")
    assert clean.returncode == 0, clean.stderr
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_auditevent SET action = 'forged' WHERE seq = 2")
    tampered = _manage("verify_audit")
    assert tampered.returncode != 0
    assert "#2" in tampered.stderr


@pytest.mark.django_db(transaction=True)
def test_audit_log_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_log(actor=None, action="test.autocommit")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_error_inside_a_service_rolls_back_the_change_and_its_event(handler, monkeypatch):
    subject_create_enterprise(actor=handler, name="甲公司", uscc=make_uscc())
    real_audit_log = subject_services.audit_log

    def audit_then_fail(**kwargs):
        real_audit_log(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(subject_services, "audit_log", audit_then_fail)
    with pytest.raises(RuntimeError):
        subject_create_enterprise(actor=handler, name="乙公司", uscc=make_uscc())
    monkeypatch.undo()

    assert list(Subject.objects.values_list("name", flat=True)) == ["甲公司"]
    assert AuditEvent.objects.count() == 1
    assert AuditChainHead.objects.get().last_seq == 1
    # The rolled-back event's number is given back: the chain stays gap-free.
    subject_create_enterprise(actor=handler, name="丙公司", uscc=make_uscc())
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2]
    assert audit_verify() is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    threads_n, per_thread = 8, 6
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_log(actor=f"worker-{t}", action="test.concurrent", data={"t": t, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors

    events = list(AuditEvent.objects.order_by("seq"))
    total = threads_n * per_thread
    assert [e.seq for e in events] == list(range(1, total + 1))
    # No fork: every event links to the one before it, and no two events share a predecessor.
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert len({e.prev_hash for e in events}) == total
    assert audit_verify() is None
    assert AuditChainHead.objects.get().last_seq == total
