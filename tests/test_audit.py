"""The audit trail is append-only (a database trigger) and a keyed hash chain (HMAC, key only in the
environment); any edit, deletion or truncation is found, even by someone who can write to the database."""

import hashlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from cases.models import AuditChainHead, AuditEvent, OutboxEvent, Subject
from cases.services import audit as audit_services
from cases.services.audit import audit_checkpoint, audit_log, audit_verify
from cases.services.subjects import subject_create_enterprise
from tests.factories import make_uscc


def _append(n: int, actor=None) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_log(actor=actor, action="test.event", object_type="test", object_id=i, data={"i": i, "text": "甲"})


def _as_table_owner(sql: str, params=()) -> None:
    """What an attacker who owns the table can do: switch the append-only trigger off, write, switch it on."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no pending FK checks
        cursor.execute("ALTER TABLE cases_auditevent DISABLE TRIGGER cases_auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE cases_auditevent ENABLE TRIGGER cases_auditevent_append_only")


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
        _as_table_owner("UPDATE cases_auditevent SET data = %s WHERE seq = 3", ['{"i": 99, "text": "甲"}'])
        assert "#3" in _verify_error()

    def test_editing_who_acted_names_that_event(self, handler, reviewer):
        _append(4, actor=handler)
        _as_table_owner("UPDATE cases_auditevent SET actor_id = %s WHERE seq = 2", [reviewer.pk])
        assert "#2" in _verify_error()

    def test_deleting_an_event_names_the_missing_one(self):
        _append(5)
        _as_table_owner("DELETE FROM cases_auditevent WHERE seq = 2")
        assert "#2" in _verify_error()

    def test_truncating_the_tail_names_the_first_missing_event(self):
        _append(6)
        _as_table_owner("DELETE FROM cases_auditevent WHERE seq >= 5")
        assert "#5" in _verify_error()

    def test_a_forger_who_recomputes_the_hash_breaks_the_next_link(self):
        _append(5)
        event = AuditEvent.objects.get(seq=3)
        event.data = {"i": 99}
        forged = event.compute_hash()
        _as_table_owner("UPDATE cases_auditevent SET data = %s, hash = %s WHERE seq = 3", ['{"i": 99}', forged])
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

    def test_the_database_refuses_to_update_or_delete_events(self):
        _append(3)
        for sql in ("UPDATE cases_auditevent SET action = 'forged' WHERE seq = 2", "DELETE FROM cases_auditevent"):
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
        assert AuditEvent.objects.get(seq=2).action == "test.event"
        assert audit_verify() is None

    def test_a_forger_without_the_key_cannot_rewrite_the_chain(self):
        """Edit an event, then recompute every seal after it and the head the way an unkeyed chain would be
        recomputed (plain SHA-256), or with a guessed key: the edited event is named."""
        _append(5)
        for recompute in (
            lambda event: hashlib.sha256((event.prev_hash + event.canonical()).encode()).hexdigest(),
            lambda event: event.compute_hash(key="a-guessed-key"),
        ):
            events = list(AuditEvent.objects.order_by("seq"))
            events[2].data = {"i": 99, "text": "乙"}
            prev = events[1].hash
            for event in events[2:]:
                event.prev_hash = prev
                event.hash = recompute(event)
                prev = event.hash
                _as_table_owner(
                    "UPDATE cases_auditevent SET data = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                    [json.dumps(event.data, ensure_ascii=False), event.prev_hash, event.hash, event.seq],
                )
            with connection.cursor() as cursor:
                cursor.execute("UPDATE cases_auditchainhead SET last_hash = %s", [prev])
            problem = audit_verify()
            assert problem is not None and problem.seq == 3
            assert "#3" in _verify_error()

    def test_verification_needs_the_chains_key(self):
        _append(2)
        assert audit_verify() is None
        problem = audit_verify(key="not-the-key")
        assert problem is not None and problem.seq == 1

    def test_a_checkpoint_sent_out_finds_a_tail_cut_off_with_the_head_moved_back(self):
        _append(6)
        sixth, fourth = AuditEvent.objects.get(seq=6), AuditEvent.objects.get(seq=4)
        _as_table_owner("DELETE FROM cases_auditevent WHERE seq >= 5")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_auditchainhead SET last_seq = 4, last_hash = %s", [fourth.hash])
        assert audit_verify() is None  # the database alone cannot tell
        problem = audit_verify(checkpoints=[(6, sixth.hash)])
        assert problem is not None and problem.seq == 5
        with pytest.raises(CommandError, match="#5"):
            call_command("verify_audit", "--checkpoint", f"6:{sixth.hash}")
        # A checkpoint of a replaced event is found too.
        with pytest.raises(CommandError, match="#4"):
            call_command("verify_audit", "--checkpoint", f"4:{'0' * 64}")

    def test_checkpoints_send_the_head_to_the_log_and_the_outbox(self, caplog):
        _append(3)
        with caplog.at_level("INFO", logger="casework.audit"):
            head = audit_checkpoint()
        assert head is not None and head.last_seq == 3
        sent = OutboxEvent.objects.get(topic="audit.checkpoint")
        assert sent.payload["seq"] == 3 and sent.payload["hash"] == AuditEvent.objects.get(seq=3).hash
        assert f"seq=3 hash={sent.payload['hash']}" in caplog.text
        # Nothing appended since but the checkpoint's own outbox event: no new checkpoint.
        assert audit_checkpoint() is None
        _append(1)
        assert audit_checkpoint().last_seq == 5
        assert OutboxEvent.objects.filter(topic="audit.checkpoint").count() == 2
        assert audit_verify() is None

    def test_a_transactions_events_are_one_gap_free_batch_without_what_an_inner_block_rolled_back(self):
        with transaction.atomic():
            audit_log(actor=None, action="test.kept", data={"n": 1})
            with pytest.raises(ValueError), transaction.atomic():
                audit_log(actor=None, action="test.rolled_back")
                raise ValueError
            last = audit_log(actor=None, action="test.kept", data={"n": 2})
        assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "test.kept"), (2, "test.kept")]
        assert last.seq == 2 and last.pk is not None
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
    _as_table_owner("UPDATE cases_auditevent SET action = 'forged' WHERE seq = 2")
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
    real_audit_log = audit_services.audit_log

    def audit_then_fail(**kwargs):
        real_audit_log(**kwargs)
        raise RuntimeError("disk full")

    # The service writes its event through audited_create, which looks audit_log up in its own module.
    monkeypatch.setattr(audit_services, "audit_log", audit_then_fail)
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


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_with_events_does_not_block_other_writers():
    """The chain head is locked only while a transaction appends its batch, just before COMMIT: a long
    transaction that has logged an event does not hold up another one (issue 15: no global lock)."""
    logged, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            with transaction.atomic():
                audit_log(actor="slow", action="test.slow")
                logged.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert logged.wait(10)
        start = time.monotonic()
        with transaction.atomic():
            audit_log(actor="fast", action="test.fast")
        assert time.monotonic() - start < 2
        assert list(AuditEvent.objects.values_list("actor_label", flat=True)) == ["fast"]
    finally:
        release.set()
        thread.join()
    assert not errors
    assert list(AuditEvent.objects.order_by("seq").values_list("actor_label", flat=True)) == ["fast", "slow"]
    assert audit_verify() is None


@pytest.mark.django_db
def test_after_a_key_rotation_older_events_verify_with_the_previous_key(settings):
    _append(3)
    old_key = settings.AUDIT_HMAC_KEY
    settings.AUDIT_HMAC_KEY = "a-new-key-after-rotation-0123456789"
    _append(2)
    assert audit_verify() is not None and audit_verify().seq == 1  # the old events need the old key
    settings.AUDIT_HMAC_PREVIOUS_KEYS = [(3, old_key)]
    assert audit_verify() is None
    settings.AUDIT_HMAC_PREVIOUS_KEYS = [
        (2, old_key)
    ]  # the wrong rotation point names the first event sealed otherwise
    assert audit_verify().seq == 3
