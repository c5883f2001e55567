"""The platform-sync outbox: results reach the city credit platform once, signed, retried with backoff,
and tracked against the legal limit for reporting them (DESIGN.md, "Integration with the credit platform")."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from cases.models import AuditEvent, OutboxEvent
from cases.services.outbox import backoff_delay, outbox_deliver_due, outbox_enqueue, outbox_retry
from cases.services.outbox_transport import FileSink
from cases.tasks import outbox_deliver_task
from tests.factories import CreditRecordFactory, EnterpriseFactory, OrganisationFactory
from workflows.calendar import get_calendar
from workflows.selectors import overdue_clocks

Status = OutboxEvent.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "test-shared-secret"


@pytest.fixture
def sink(settings, tmp_path):
    """No endpoint configured: the default file sink, in a scratch directory."""
    settings.OUTBOX_ENDPOINT = ""
    settings.OUTBOX_FILE_SINK = tmp_path / "outbox" / "events.jsonl"
    return settings.OUTBOX_FILE_SINK


def sink_lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def enqueue(record, *, key="repair-result:1", actor=None, **kwargs) -> OutboxEvent:
    kwargs.setdefault("topic", "repair.result")
    kwargs.setdefault("payload", {"record": record.pk, "result": "准予修复"})
    with transaction.atomic():
        return outbox_enqueue(aggregate=record, dedupe_key=key, actor=actor, **kwargs)


class Receiver:
    """A real HTTP server on 127.0.0.1 playing the city platform: records each request, answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write("已接收".encode() if receiver.status < 300 else "服务暂不可用".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(settings):
    with Receiver() as receiver:
        settings.OUTBOX_ENDPOINT = receiver.url
        settings.OUTBOX_HMAC_SECRET = SECRET
        yield receiver


@pytest.fixture
def dead_endpoint(settings):
    """Nothing listens there: every attempt fails with a refused connection."""
    with Receiver() as receiver:
        url = receiver.url
    settings.OUTBOX_ENDPOINT = url
    settings.OUTBOX_HMAC_SECRET = SECRET
    return url


# --- enqueue -------------------------------------------------------------------------------------------------


def test_enqueue_is_idempotent_on_the_dedupe_key(record, reviewer, sink):
    first = enqueue(record, key="repair-result:7", actor=reviewer)
    again = enqueue(record, key="repair-result:7", actor=reviewer, payload={"something": "else"})

    assert again.pk == first.pk
    assert OutboxEvent.objects.count() == 1
    assert OutboxEvent.objects.get().payload == {"record": record.pk, "result": "准予修复"}
    assert first.aggregate_type == "cases.creditrecord" and first.aggregate_id == str(record.pk)
    assert first.status == Status.PENDING
    audit = AuditEvent.objects.filter(action="outbox.enqueue")
    assert [(a.object_id, a.actor) for a in audit] == [(str(first.pk), reviewer)]


def test_enqueue_rolls_back_with_the_callers_transaction(record, reviewer, sink):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(topic="repair.result", aggregate=record, payload={}, dedupe_key="k", actor=reviewer)
        raise RuntimeError("the decision failed after the event was queued")

    assert not OutboxEvent.objects.exists()


# --- the file sink (default) ---------------------------------------------------------------------------------


def test_file_sink_writes_one_line_per_event_and_marks_it_delivered(record, other_record, sink):
    one = enqueue(record, key="a")
    two = enqueue(other_record, key="b", topic="objection.result", payload={"outcome": "更正"})

    run = outbox_deliver_due()

    assert (run.claimed, run.delivered) == (2, 2)
    lines = sink_lines(sink)
    assert sorted(line["id"] for line in lines) == [one.pk, two.pk]
    by_id = {line["id"]: line for line in lines}
    assert by_id[two.pk]["topic"] == "objection.result"
    assert by_id[two.pk]["payload"] == {"outcome": "更正"}
    assert by_id[two.pk]["aggregate_id"] == str(other_record.pk)
    for event in OutboxEvent.objects.all():
        assert event.status == Status.DELIVERED
        assert event.delivered_at is not None and event.attempts == 1 and event.claimed_at is None

    # Delivered is final: the next run sends nothing again.
    assert outbox_deliver_due().claimed == 0
    assert len(sink_lines(sink)) == 2
    assert AuditEvent.objects.filter(action="outbox.delivered").count() == 2


def test_the_scheduled_task_delivers_what_is_due(record, sink):
    enqueue(record, key="a")

    assert outbox_deliver_task()["delivered"] == 1
    assert OutboxEvent.objects.get().status == Status.DELIVERED


def test_an_event_not_yet_due_waits(record, sink):
    event = enqueue(record)
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() + dt.timedelta(hours=1))

    assert outbox_deliver_due().claimed == 0
    assert sink_lines(sink) == []


# --- HTTP --------------------------------------------------------------------------------------------------


def test_http_delivery_is_signed_with_the_shared_secret(record, endpoint):
    event = enqueue(record, key="repair-result:42")

    outbox_deliver_due()

    [(headers, body)] = endpoint.requests
    # The receiver's check, written out independently of the sender's code.
    timestamp = headers["x-casework-timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-casework-signature"] == f"sha256={expected}"
    assert headers["x-casework-event-id"] == str(event.pk)
    assert headers["content-type"].startswith("application/json")
    document = json.loads(body)
    assert document["id"] == event.pk
    assert document["dedupe_key"] == "repair-result:42"
    assert document["payload"] == {"record": record.pk, "result": "准予修复"}

    event.refresh_from_db()
    assert event.status == Status.DELIVERED and event.response_code == 200 and event.last_error == ""


def test_a_non_2xx_answer_is_a_failed_attempt_with_the_answer_kept(record, endpoint):
    endpoint.status = 503
    event = enqueue(record)

    outbox_deliver_due()

    event.refresh_from_db()
    assert event.status == Status.FAILED
    assert event.response_code == 503
    assert "503" in event.last_error and "服务暂不可用" in event.last_error
    assert event.delivered_at is None


# --- retries -------------------------------------------------------------------------------------------------


def test_failures_back_off_and_end_dead_after_the_last_attempt(record, dead_endpoint, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 5
    event = enqueue(record)
    now = event.next_attempt_at
    waits = []
    for attempt in range(1, 5):
        outbox_deliver_due(now=now)
        event.refresh_from_db()
        assert (event.status, event.attempts) == (Status.FAILED, attempt)
        assert "Connection refused" in event.last_error or "URLError" in event.last_error
        waits.append(event.next_attempt_at - now)
        # Not retried before its time.
        assert outbox_deliver_due(now=event.next_attempt_at - dt.timedelta(seconds=1)).claimed == 0
        now = event.next_attempt_at

    assert waits == sorted(waits) and len(set(waits)) == len(waits)
    assert dt.timedelta(seconds=45) <= waits[0] <= dt.timedelta(minutes=1)

    outbox_deliver_due(now=now)
    event.refresh_from_db()
    assert (event.status, event.attempts) == (Status.DEAD, 5)
    # Dead stays dead until someone retries it.
    assert outbox_deliver_due(now=now + dt.timedelta(days=30)).claimed == 0
    assert AuditEvent.objects.filter(action="outbox.dead", object_id=str(event.pk)).count() == 1


def test_backoff_doubles_up_to_six_hours():
    delays = [backoff_delay(n) for n in range(1, 16)]
    assert all(a < b for a, b in zip(delays[:8], delays[1:9], strict=True))
    assert all(dt.timedelta(hours=4, minutes=30) <= d <= dt.timedelta(hours=6) for d in delays[9:])
    assert backoff_delay(10_000) <= dt.timedelta(hours=6)


def test_a_delivery_whose_worker_died_is_picked_up_after_the_lease(record, sink, settings):
    settings.OUTBOX_CLAIM_LEASE_SECONDS = 600
    event = enqueue(record)
    crashed_at = timezone.now()
    # A worker claimed the event and died before recording anything.
    assert OutboxEvent.objects.filter(pk=event.pk, claimed_at__isnull=True).update(claimed_at=crashed_at) == 1

    assert outbox_deliver_due(now=crashed_at + dt.timedelta(minutes=5)).claimed == 0
    assert sink_lines(sink) == []

    run = outbox_deliver_due(now=crashed_at + dt.timedelta(minutes=10, seconds=1))

    assert run.delivered == 1
    event.refresh_from_db()
    assert event.status == Status.DELIVERED and event.claimed_at is None
    assert [line["id"] for line in sink_lines(sink)] == [event.pk]


class SlowFileSink(FileSink):
    """The real file sink, with the window between claim and record held open a little longer."""

    def send(self, event):
        result = super().send(event)
        threading.Event().wait(0.002)
        return result


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliverers_never_deliver_one_event_twice(sink):
    enterprise = EnterpriseFactory()
    provider = OrganisationFactory()
    records = CreditRecordFactory.create_batch(3, subject=enterprise, provider=provider)
    events = [enqueue(records[i % 3], key=f"event-{i}") for i in range(40)]
    workers = 4
    barrier = threading.Barrier(workers)
    transport = SlowFileSink(sink)
    errors = []

    def work():
        try:
            barrier.wait()
            outbox_deliver_due(batch=100, transport=transport)
        except Exception as exc:  # surfaced below: an exception in a thread would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = Counter(line["id"] for line in sink_lines(sink))
    assert set(sent) == {e.pk for e in events}
    assert max(sent.values()) == 1
    assert set(OutboxEvent.objects.values_list("status", "attempts")) == {(Status.DELIVERED, 1)}


# --- the legal limit -------------------------------------------------------------------------------------------

REPAIR_SYNC_CITATION = "信用修复管理办法（国家发展改革委令2023年第58号）；发改办财金〔2019〕527号"


def test_the_limit_clock_stops_when_the_event_is_delivered(record, credit_centre, reviewer, sink):
    decided = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    event = enqueue(
        record,
        limit_budget=3,
        limit_citation=REPAIR_SYNC_CITATION,
        organisation=credit_centre,
        actor=reviewer,
        occurred_at=decided,
    )
    clock = event.clock
    assert clock is not None and clock.stopped_at is None
    assert clock.kind == "legal" and clock.budget == 3 and clock.organisation == credit_centre
    assert clock.citation == REPAIR_SYNC_CITATION
    assert clock.case == record
    # PROCEDURES.md "Counting time": received Wed 2026-09-30, 3 WD → Sat 2026-10-10 (a make-up working day).
    assert clock.due_date == dt.date(2026, 10, 10)

    outbox_deliver_due()

    clock.refresh_from_db()
    assert clock.stopped_at is not None and clock.stop_reason


def test_an_undelivered_report_turns_overdue_after_its_limit(
    record, credit_centre, reviewer, dead_endpoint, settings, client
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    decided = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    event = enqueue(
        record,
        limit_budget=3,
        limit_citation=REPAIR_SYNC_CITATION,
        organisation=credit_centre,
        actor=reviewer,
        occurred_at=decided,
    )
    outbox_deliver_due()
    event.refresh_from_db()
    clock = event.clock
    assert event.status == Status.DEAD and clock.stopped_at is None

    # Due at the end of Sat 2026-10-10 (a make-up working day): on time until then, overdue a second later.
    assert clock not in overdue_clocks(now=dt.datetime(2026, 10, 10, 23, 59, 59, tzinfo=SHANGHAI))
    assert clock in overdue_clocks(now=dt.datetime(2026, 10, 11, 0, 0, 1, tzinfo=SHANGHAI))

    # The staff page shows it overdue by the working days since the due date (today is after 2026-10-10).
    client.force_login(reviewer)
    page = client.get(reverse("outbox:list"))
    [row] = page.context["rows"]
    assert row.clock.is_overdue
    expected = get_calendar().working_days_between(dt.date(2026, 10, 10), timezone.localdate())
    assert row.clock.overdue_working_days == expected > 0
    assert f"已超期 {expected} 个工作日" in page.content.decode()


def test_a_report_delivered_in_time_shows_as_on_time(record, credit_centre, reviewer, sink, client):
    enqueue(record, limit_budget=3, organisation=credit_centre, actor=reviewer)
    outbox_deliver_due()

    client.force_login(reviewer)
    page = client.get(reverse("outbox:list"))
    [row] = page.context["rows"]
    assert row.clock.stopped_on_time is True
    assert "按时报送" in page.content.decode()


# --- the staff page ---------------------------------------------------------------------------------------------


@pytest.fixture
def dead_event(record, dead_endpoint, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    event = enqueue(record, key="dead-one")
    outbox_deliver_due()
    event.refresh_from_db()
    assert event.status == Status.DEAD
    return event


def test_platform_staff_and_supervisors_see_the_outbox(client, intake, supervisor, dead_event):
    client.force_login(intake)
    page = client.get(reverse("outbox:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "repair.result" in html and "Connection refused" in html
    assert reverse("outbox:retry", args=[dead_event.pk]) in html

    client.force_login(supervisor)
    page = client.get(reverse("outbox:list"))
    assert page.status_code == 200
    assert "repair.result" in page.content.decode()
    assert reverse("outbox:retry", args=[dead_event.pk]) not in page.content.decode()


@pytest.mark.parametrize("persona", ["applicant", "handler", "leader", "gov_user", "outsider"])
def test_everyone_else_gets_404(client, request, persona, dead_event):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("outbox:list")).status_code == 404
    assert client.post(reverse("outbox:retry", args=[dead_event.pk])).status_code == 404
    dead_event.refresh_from_db()
    assert dead_event.status == Status.DEAD


def test_anonymous_visitors_are_sent_to_log_in(client, dead_event):
    response = client.get(reverse("outbox:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_list_filters_by_state(client, reviewer, dead_event, other_record, sink):
    enqueue(other_record, key="waiting", topic="commitment.report")
    client.force_login(reviewer)

    dead_only = client.get(reverse("outbox:list"), {"status": "dead"})
    assert [row.event.pk for row in dead_only.context["rows"]] == [dead_event.pk]
    pending_only = client.get(reverse("outbox:list"), {"status": "pending"})
    assert [row.event.topic for row in pending_only.context["rows"]] == ["commitment.report"]
    everything = client.get(reverse("outbox:list"), {"status": "nonsense"})
    assert len(everything.context["rows"]) == 2


def test_platform_staff_retry_a_dead_event_and_it_is_delivered(client, reviewer, dead_event, sink):
    client.force_login(reviewer)

    response = client.post(reverse("outbox:retry", args=[dead_event.pk]))

    assert response.status_code == 302
    dead_event.refresh_from_db()
    assert (dead_event.status, dead_event.attempts) == (Status.PENDING, 0)
    assert AuditEvent.objects.filter(action="outbox.retry", actor=reviewer, object_id=str(dead_event.pk)).exists()
    # The endpoint was fixed (here: back to the file sink); the next run delivers it.
    outbox_deliver_due()
    dead_event.refresh_from_db()
    assert dead_event.status == Status.DELIVERED
    assert [line["id"] for line in sink_lines(sink)] == [dead_event.pk]


def test_supervisors_may_not_retry(client, supervisor, dead_event):
    client.force_login(supervisor)
    assert client.post(reverse("outbox:retry", args=[dead_event.pk])).status_code == 403
    dead_event.refresh_from_db()
    assert dead_event.status == Status.DEAD


def test_only_dead_events_can_be_retried(client, reviewer, record, sink):
    event = enqueue(record)
    outbox_deliver_due()
    client.force_login(reviewer)

    response = client.post(reverse("outbox:retry", args=[event.pk]), follow=True)

    assert "只有已停止重试的推送事件可以重新推送" in response.content.decode()
    event.refresh_from_db()
    assert (event.status, event.attempts) == (Status.DELIVERED, 1)


def test_retry_service_refuses_anyone_but_platform_staff(supervisor, dead_event):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        outbox_retry(event=dead_event, actor=supervisor)


# --- schedules ---------------------------------------------------------------------------------------------------


def test_setup_schedules_is_idempotent(db):
    call_command("setup_schedules", stdout=StringIO())
    Schedule.objects.filter(name="outbox-deliver").update(minutes=30)
    call_command("setup_schedules", stdout=StringIO())

    [schedule] = Schedule.objects.filter(name="outbox-deliver")
    assert schedule.func == "cases.tasks.outbox_deliver_task"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
