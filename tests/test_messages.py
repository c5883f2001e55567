# ruff: noqa: F811  (pytest fixtures imported from tests.test_repair_flow)
"""Messages (issue 12, item 3): a site message for every event that concerns the applicant, the unread count
and read receipts, and copies by e-mail (a local SMTP server) and SMS (a local HTTP gateway, or the file
adapter) that leave through the outbox: after commit, retried, never twice."""

import datetime as dt
import json
import socket

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from cases.models import AuditEvent, Message, OutboxEvent
from cases.services import repair as svc
from cases.services.messages import deadline_reminders_send
from cases.services.outbox import outbox_deliver_due
from cases.services.outbox_transport import verify_signature
from notices.models import Notice
from notices.services import notice_render
from tests.test_outbox import Receiver
from tests.test_repair_flow import at, eligible_record, storage, submitted, travel  # noqa: F401

SECRET = "sms-gateway-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def sms_gateway(settings):
    with Receiver() as receiver:
        settings.SMS_GATEWAY_URL = receiver.url
        settings.SMS_GATEWAY_SECRET = SECRET
        yield receiver


@pytest.fixture
def reachable_applicant(applicant):
    applicant.email, applicant.phone = "jia@example.com", "13800001111"
    applicant.save(update_fields=["email", "phone"])
    return applicant


@pytest.mark.django_db
def test_a_supplement_request_reaches_the_applicant_in_the_site_by_email_and_by_sms(
    travel, submitted, reachable_applicant, handler, smtp, sms_gateway
):
    svc.repair_request_supplement(actor=handler, application=submitted, missing="缺少营业执照复印件")
    message = Message.objects.get(user=reachable_applicant, kind="supplement")
    assert submitted.tracking_number in message.body and "缺少营业执照复印件" in message.body
    assert "2026-07-13" in message.body  # the 5-working-day window from Mon 07-06
    assert message.body_en.startswith(f"Case {submitted.tracking_number} needs further materials")

    # Nothing has left yet: the copies are outbox rows, sent by the worker.
    assert smtp.envelopes == [] and sms_gateway.requests == []
    assert OutboxEvent.objects.filter(channel="email", status="pending").count() == 1
    run = outbox_deliver_due(channel="email", now=travel.now)
    assert run.delivered == 1
    (envelope,) = smtp.envelopes
    assert envelope.rcpt_tos == ["jia@example.com"]
    mail = envelope.content.decode()
    assert "Subject:" in mail and submitted.tracking_number in mail

    sms_gateway.status = 503
    assert outbox_deliver_due(channel="sms", now=travel.now).failed == 1
    event = OutboxEvent.objects.get(channel="sms")
    assert event.status == "failed" and event.next_attempt_at > travel.now
    sms_gateway.status = 200
    later = travel.to(2026, 7, 6, 11)
    assert outbox_deliver_due(channel="sms", now=later).delivered == 1
    headers, body = sms_gateway.requests[-1]
    assert verify_signature(SECRET, headers["x-casework-timestamp"], body, headers["x-casework-signature"])
    payload = json.loads(body)
    assert payload["phone"] == "13800001111" and "请补正申请材料" in payload["text"]
    # The retry carried the same id (the gateway's idempotency key); nothing is sent again.
    assert {json.loads(b)["id"] for _h, b in sms_gateway.requests} == {f"casework-{event.pk}"}
    assert outbox_deliver_due(channel="sms", now=travel.to(2026, 7, 7)).claimed == 0
    assert outbox_deliver_due(channel="email", now=travel.now).claimed == 0
    assert len(smtp.envelopes) == 1


@pytest.mark.django_db
def test_the_platform_sync_does_not_send_a_persons_copies_and_the_outbox_page_does_not_show_them(
    travel, submitted, reachable_applicant, handler, client, intake
):
    svc.repair_accept(actor=handler, application=submitted)
    assert OutboxEvent.objects.filter(channel__in=["email", "sms"]).count() == 2
    assert outbox_deliver_due(now=travel.now).claimed == 0  # the platform channel only
    client.force_login(intake)
    assert "13800001111" not in client.get(reverse("outbox:list")).content.decode()


@pytest.mark.django_db
def test_without_a_gateway_sms_go_to_the_file_adapter(
    travel, submitted, reachable_applicant, handler, settings, tmp_path
):
    settings.SMS_GATEWAY_URL = ""
    settings.SMS_FILE_SINK = tmp_path / "sms.jsonl"
    svc.repair_accept(actor=handler, application=submitted)
    assert outbox_deliver_due(channel="sms", now=travel.now).delivered == 1
    (line,) = (tmp_path / "sms.jsonl").read_text().splitlines()
    assert json.loads(line)["phone"] == "13800001111" and "您的申请已受理" in json.loads(line)["text"]


@pytest.mark.django_db
def test_the_person_chooses_the_channels_and_the_site_always_gets_the_message(
    travel, submitted, reachable_applicant, handler, client
):
    client.force_login(reachable_applicant)
    client.post(reverse("me_message_preferences"), {"by_email": "on"})
    svc.repair_accept(actor=handler, application=submitted)
    assert Message.objects.filter(user=reachable_applicant, kind="accepted").count() == 1
    assert list(OutboxEvent.objects.filter(channel__in=["email", "sms"]).values_list("channel", flat=True)) == ["email"]


@pytest.mark.django_db
def test_unread_count_in_the_top_bar_and_the_first_opening_is_recorded_as_delivery(
    travel, submitted, applicant, handler, client, other_applicant
):
    svc.repair_accept(actor=handler, application=submitted)
    message = Message.objects.get(user=applicant, kind="accepted")
    client.force_login(applicant)
    page = client.get(reverse("me")).content.decode()
    assert 'class="unread-messages"' in page and '<span class="count">1</span>' in page
    assert "您的申请已受理" in client.get(reverse("me_messages")).content.decode()

    client.get(reverse("me_message", args=[message.pk]))
    message.refresh_from_db()
    assert message.read_at is not None
    assert AuditEvent.objects.filter(action="message.read", object_id=str(message.pk)).count() == 1
    first = message.read_at
    client.get(reverse("me_message", args=[message.pk]))
    message.refresh_from_db()
    assert message.read_at == first  # the receipt is the first opening
    assert '<span class="count">' not in client.get(reverse("me")).content.decode()

    client.force_login(other_applicant)
    assert client.get(reverse("me_message", args=[message.pk])).status_code == 404


@pytest.mark.django_db
def test_the_applicant_is_reminded_two_working_days_before_the_supplement_window_ends_and_told_when_it_lapses(
    travel, submitted, applicant, handler
):
    svc.repair_request_supplement(actor=handler, application=submitted, missing="缺少营业执照复印件")
    # Window: Mon 07-06 + 5 WD = Mon 07-13. Two working days before is Thu 07-09.
    assert deadline_reminders_send(today=dt.date(2026, 7, 8)) == 0
    assert deadline_reminders_send(today=dt.date(2026, 7, 9)) == 1
    assert deadline_reminders_send(today=dt.date(2026, 7, 10)) == 0  # once per window
    reminder = Message.objects.get(user=applicant, kind="deadline")
    assert "2026-07-13" in reminder.body and reminder.tracking_number == submitted.tracking_number

    travel.to(2026, 7, 14, 9)
    assert svc.repairs_deem_withdrawn_due() == 1
    assert Message.objects.get(user=applicant, kind="deemed_withdrawn").tracking_number == submitted.tracking_number


@pytest.mark.django_db
def test_an_issued_notice_and_a_decision_are_messages_too(travel, submitted, applicant, handler, leader):
    svc.repair_accept(actor=handler, application=submitted)
    notice = Notice.objects.get(kind="repair_accepted")
    notice_render(notice_id=notice.pk)
    notice.refresh_from_db()
    told = Message.objects.get(user=applicant, kind="notice")
    assert notice.number in told.body and told.link == reverse("notices:detail", args=[notice.pk])

    svc.repair_propose(actor=handler, application=submitted, proposal="approve", reason="材料齐全")
    svc.repair_signoff(actor=leader, application=submitted, agree=True)
    decided = Message.objects.get(user=applicant, kind="decided")
    assert "准予修复" in decided.body


@pytest.mark.django_db
def test_an_objection_result_is_a_message_to_everyone_acting_for_the_subject_in_that_scope(
    travel, storage, applicant, enterprise, eligible_record, credit_centre, intake
):
    from cases.services import objection as objection_svc
    from tests.factories import AuthorisationFactory, UserFactory
    from tests.test_objection_paths import file as file_objection

    repair_only = UserFactory()
    AuthorisationFactory(user=repair_only, subject=enterprise, basis="employee", scope="repair")
    case = file_objection(applicant, eligible_record)
    objection_svc.objection_decide(
        actor=intake,
        case=case,
        outcome="corrected",
        reason="平台归集时录入错误",
        changes={"decision_number": "郑市监罚〔2026〕12号"},
    )
    told = Message.objects.get(user=applicant, kind="decided")
    assert case.tracking_number in told.body and "更正" in told.body
    assert not Message.objects.filter(user=repair_only, kind="decided").exists()


@pytest.mark.django_db(transaction=True)
def test_four_workers_sending_at_once_send_each_e_mail_exactly_once(smtp, monkeypatch):
    import threading
    from collections import Counter

    from django.db import connection, transaction

    from cases.services.messages import bilingual, message_send
    from tests.factories import UserFactory

    # The rows wait for the workers (no on-commit kick), so all four race for the same twelve.
    monkeypatch.setattr("cases.services.messages._kick", lambda channel: None)
    people = [UserFactory(email=f"p{i}@example.com") for i in range(12)]
    with transaction.atomic():
        for person in people:
            message_send(
                user=person,
                kind="account",
                dedupe_key="concurrency",
                title=bilingual("注册成功"),
                body=bilingual("注册成功"),
            )
    assert OutboxEvent.objects.filter(channel="email", status="pending").count() == 12
    barrier = threading.Barrier(4)
    errors = []

    def work():
        try:
            barrier.wait()
            outbox_deliver_due(channel="email", batch=100)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent = Counter(tuple(e.rcpt_tos) for e in smtp.envelopes)
    assert len(sent) == 12 and max(sent.values()) == 1
    assert set(OutboxEvent.objects.filter(channel="email").values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.django_db
def test_an_agent_whose_authorisation_was_revoked_hears_nothing_more(
    travel, storage, enterprise, eligible_record, handler
):
    from cases.services.accounts import agent_revoke
    from tests.factories import AuthorisationFactory, UserFactory
    from tests.test_repair_flow import make_submitted

    boss = UserFactory(display_name="张三")
    AuthorisationFactory(user=boss, subject=enterprise)
    agent = UserFactory(display_name="李四")
    auth = AuthorisationFactory(user=agent, subject=enterprise, basis="employee", scope="repair")
    app = make_submitted(agent, eligible_record)
    agent_revoke(actor=boss, authorisation=auth)
    svc.repair_accept(actor=handler, application=app)
    assert Message.objects.filter(user=boss, kind="accepted").exists()
    assert not Message.objects.filter(user=agent, kind="accepted").exists()
