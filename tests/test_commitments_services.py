# ruff: noqa: F811  (pytest fixtures imported from tests.commitment_helpers)
"""Credit commitments at service level: signing, immutability, eligibility, verification, consequences,
reporting within 7 working days, permissions (PROCEDURES.md §3; Henan Arts 32, 33, 58; seed 003 item 6)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from cases.models import (
    Commitment,
    CommitmentVerification,
    CreditRecord,
    DecisionRevocation,
    OutboxEvent,
    Role,
    Severity,
    VerificationState,
)
from cases.models.records import RecordKind
from cases.services.commitment import lifecycle as svc
from cases.services.commitment.sweep import sample_draw, verification_clock, verifications_schedule_due
from cases.services.outbox import outbox_deliver_due
from cases.services.outbox_transport import DeliveryResult
from notices.models import Notice
from tests.commitment_helpers import make_matter, matter, sample_matter, storage, tolerance_matter, travel  # noqa: F401
from tests.factories import CreditRecordFactory, EnterpriseFactory, UserFactory
from tests.test_repair_flow import PDF


def sign(applicant, matter, subject, name="张三", capacity=Commitment.Capacity.LEGAL_REPRESENTATIVE):
    return svc.commitment_sign(actor=applicant, matter=matter, subject=subject, signer_name=name, capacity=capacity)


def evidence():
    return [SimpleUploadedFile("check.pdf", PDF, content_type="application/pdf")]


def decide_breach(v, *, handler, leader, travel, outcome, finding, serious=False):
    """A breach as the law has it: proposed with evidence, the subject's hearing period runs out unanswered,
    then the department's leader decides (行政处罚法 Art 44, 45)."""
    svc.verification_record(
        actor=handler,
        verification=v,
        outcome=outcome,
        finding=finding,
        serious_consequences=serious,
        evidence=evidence(),
    )
    v = CommitmentVerification.objects.get(pk=v.pk)
    day = v.hearing_until + dt.timedelta(days=1)
    travel.to(day.year, day.month, day.day)
    return svc.verification_decide(
        actor=leader, verification=v, outcome=outcome, reasons="期满未陈述申辩，维持拟认定。"
    )


# --- signing and immutability ------------------------------------------------------------------------------


def test_signing_renders_the_template_timestamps_and_issues_the_letter(travel, storage, applicant, enterprise, matter):
    travel.to(2026, 7, 6, 9, 30)
    c = sign(applicant, matter, enterprise)
    assert enterprise.name in c.text and enterprise.uscc in c.text and "张三" in c.text
    assert "2026年7月6日" in c.text and "{" not in c.text
    assert c.text_sha256 == Commitment.hash_text(c.text)
    assert c.signed_at == travel.now and c.signed_by == applicant and c.status == Commitment.Status.IN_FORCE
    notice = Notice.objects.get(object_id=c.pk, kind="commitment_letter")
    assert notice.context["sha256"] == c.text_sha256 and notice.addressee_subject == enterprise


def test_a_signed_commitment_cannot_be_changed_or_deleted(travel, storage, applicant, enterprise, matter):
    c = sign(applicant, matter, enterprise)
    c.text = "另一份承诺"
    with pytest.raises(PermissionError):
        c.save()
    # Around the model, the database refuses too.
    for sql in (
        "UPDATE cases_commitment SET text = 'x' WHERE id = %s",
        "UPDATE cases_commitment SET signer_name = 'x' WHERE id = %s",
        "DELETE FROM cases_commitment WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [c.pk])
    c.refresh_from_db()
    assert c.text_sha256 == Commitment.hash_text(c.text)


def test_only_the_subjects_own_users_sign(travel, storage, other_applicant, handler, enterprise, matter):
    for user in (other_applicant, handler):
        with pytest.raises(PermissionDenied):
            sign(user, matter, enterprise)
    assert not Commitment.objects.exists()


def test_an_enterprise_cannot_sign_as_itself(travel, storage, applicant, enterprise, matter):
    with pytest.raises(svc.CommitmentError):
        sign(applicant, matter, enterprise, capacity=Commitment.Capacity.SELF)


# --- eligibility (Henan Art 32(1)) -------------------------------------------------------------------------


def test_a_serious_record_on_display_refuses_告知承诺_with_the_reason(
    travel, storage, applicant, enterprise, market_bureau, matter
):
    CreditRecordFactory(subject=enterprise, provider=market_bureau, severity=Severity.SERIOUS, title="无证经营")
    with pytest.raises(svc.CommitmentError) as exc:
        sign(applicant, matter, enterprise)
    assert "无证经营" in exc.value.messages[0] and "第三十二条" in exc.value.messages[0]
    assert not Commitment.objects.exists()


def test_a_voluntary_commitment_is_not_a_simplified_procedure(
    travel, storage, applicant, enterprise, market_bureau, rule_sets
):
    voluntary = make_matter(market_bureau, code="vol", type="voluntary", title="诚信经营承诺")
    CreditRecordFactory(subject=enterprise, provider=market_bureau, severity=Severity.SERIOUS)
    assert sign(applicant, voluntary, enterprise).pk


def test_a_past_false_commitment_blocks_until_its_record_is_repaired(
    travel, storage, applicant, handler, leader, enterprise, matter, sample_matter
):
    c = sign(applicant, matter, enterprise)
    v = svc.verification_start(actor=handler, commitment=c)
    decide_breach(
        v, handler=handler, leader=leader, travel=travel, outcome=VerificationState.FALSE, finding="经营场所不存在"
    )
    with pytest.raises(svc.CommitmentError) as exc:
        sign(applicant, sample_matter, enterprise)
    assert any("虚假承诺" in m for m in exc.value.messages)
    # The false-commitment record is serious (Henan Art 33(9)) and is itself a reason; once repaired, neither.
    record = Commitment.objects.get(pk=c.pk).breach_record
    assert record.severity == Severity.SERIOUS
    CreditRecord.objects.filter(pk=record.pk).update(display_state="repaired")
    assert sign(applicant, sample_matter, enterprise).pk


# --- verification, sampling ---------------------------------------------------------------------------------


def test_the_sweep_opens_a_check_with_its_clock_for_every_commitment_due(
    travel, storage, applicant, enterprise, matter, handler
):
    travel.to(2026, 9, 24)
    c = sign(applicant, matter, enterprise)
    result = verifications_schedule_due()
    assert (result.screened, result.opened) == (1, 1)
    v = CommitmentVerification.objects.get(commitment=c)
    assert v.handling_organisation == matter.department and v.state == VerificationState.OPEN
    clock = verification_clock(v)
    # 20 working days from Thursday 2026-09-24 across Mid-Autumn (09-25) and National Day (10-01 … 10-07 off,
    # 10-10 worked): due 2026-10-29, not 2026-10-22 as a weekends-only count would say.
    assert clock.start_date == dt.date(2026, 9, 24) and clock.due_date == dt.date(2026, 10, 29)
    # Screened once: a second run opens nothing.
    assert verifications_schedule_due().screened == 0


def test_sampling_is_deterministic_and_reproducible_from_the_stored_draw(
    travel, storage, handler, market_bureau, sample_matter
):
    subjects = [EnterpriseFactory() for _ in range(60)]
    commitments = [
        svc.commitment_register(
            actor=handler,
            matter=sample_matter,
            subject=s,
            signer_name="李四",
            capacity="legal_rep",
            signed_on=dt.date(2026, 7, 1),
        )
        for s in subjects
    ]
    result = verifications_schedule_due()
    assert result.screened == 60
    drawn = set(CommitmentVerification.objects.values_list("commitment_id", flat=True))
    for c in Commitment.objects.filter(pk__in=[c.pk for c in commitments]):
        expected = sample_draw(sample_matter.sample_seed, c.pk)
        assert c.sample_draw == pytest.approx(expected)
        assert (c.pk in drawn) == (expected < 0.1)
    assert result.opened == len(drawn) and result.sampled_out == 60 - len(drawn)


def test_a_commitment_waits_for_its_decision_date(travel, storage, handler, enterprise, matter):
    svc.commitment_register(
        actor=handler,
        matter=matter,
        subject=enterprise,
        signer_name="李四",
        capacity="legal_rep",
        signed_on=dt.date(2026, 7, 1),
        decision_date=dt.date(2026, 7, 20),
    )
    assert verifications_schedule_due().screened == 0
    travel.to(2026, 7, 20)
    assert verifications_schedule_due().opened == 1


# --- consequences -------------------------------------------------------------------------------------------


def test_breach_creates_the_record_sends_the_notice_and_reports_it(
    travel, storage, applicant, handler, leader, enterprise, matter
):
    c = sign(applicant, matter, enterprise)
    verifications_schedule_due()
    v = CommitmentVerification.objects.get(commitment=c)
    with pytest.raises(svc.CommitmentError):  # a breach needs reasons and evidence
        svc.verification_record(actor=handler, verification=v, outcome=VerificationState.BROKEN, finding="")
    decide_breach(
        v,
        handler=handler,
        leader=leader,
        travel=travel,
        outcome=VerificationState.BROKEN,
        finding="未按承诺配备冷藏设施",
    )
    c.refresh_from_db()
    assert c.status == Commitment.Status.BROKEN and c.public_status == "违诺"
    record = c.breach_record
    assert record.kind == RecordKind.OTHER_DISHONESTY and record.severity == matter.breach_severity
    assert record.provider == matter.department and "第三十三条第（八）项" in record.legal_basis
    assert Notice.objects.filter(object_id=v.pk, kind="commitment_breach", addressee_subject=enterprise).exists()
    topics = set(OutboxEvent.objects.values_list("topic", flat=True))
    assert topics == {"commitment.made", "commitment.fulfilment"}
    assert verification_clock(v).stopped_at is not None
    # The department may revoke the decision as a tracked task, decided by its leader.
    revocation = svc.revocation_start(actor=handler, verification=v, reason="承诺不实")
    with pytest.raises(PermissionDenied):
        svc.revocation_close(actor=handler, revocation=revocation, revoked=True, note="撤销")
    svc.revocation_close(actor=leader, revocation=revocation, revoked=True, note="已撤销许可")
    assert Notice.objects.filter(kind="commitment_revocation").count() == 1


def test_the_revocation_decision_is_routed_to_the_departments_leaders(
    travel, storage, applicant, handler, leader, enterprise, matter
):
    """撤销行政决定 is a task in the leaders' queue of the department (workflows/flows/commitment.py); the open task
    and the revocation's legal state agree before and after the decision."""
    from workflows import engine
    from workflows.flows.commitment import CommitmentFlow

    c = sign(applicant, matter, enterprise)
    v = svc.verification_start(actor=handler, commitment=c)
    decide_breach(
        v, handler=handler, leader=leader, travel=travel, outcome=VerificationState.FALSE, finding="资质材料伪造"
    )
    revocation = svc.revocation_start(actor=handler, verification=v, reason="承诺不实")
    task = engine.open_task(revocation)
    assert task.flow_task == CommitmentFlow.decide and revocation.state == "open"
    assert engine.may_take(CommitmentFlow.decide, leader, task)
    assert not engine.may_take(CommitmentFlow.decide, handler, task)
    svc.revocation_close(actor=leader, revocation=revocation, revoked=False, note="决定不撤销，已责令整改")
    assert engine.open_task(revocation) is None
    assert DecisionRevocation.objects.get(pk=revocation.pk).state == "kept"
    with pytest.raises(engine.TaskConflict):  # a second decision (another tab) changes nothing
        svc.revocation_close(actor=leader, revocation=revocation, revoked=True, note="撤销")
    assert not Notice.objects.filter(kind="commitment_revocation").exists()


def test_serious_consequences_make_a_broken_commitment_serious(
    travel, storage, applicant, handler, leader, enterprise, matter
):
    c = sign(applicant, matter, enterprise)
    v = svc.verification_start(actor=handler, commitment=c)
    decide_breach(
        v,
        handler=handler,
        leader=leader,
        travel=travel,
        outcome=VerificationState.BROKEN,
        finding="造成食物中毒",
        serious=True,
    )
    assert Commitment.objects.get(pk=c.pk).breach_record.severity == Severity.SERIOUS


def test_a_kept_commitment_is_reported_without_a_record(travel, storage, applicant, handler, enterprise, matter):
    c = sign(applicant, matter, enterprise)
    v = svc.verification_start(actor=handler, commitment=c)
    svc.verification_record(actor=handler, verification=v, outcome=VerificationState.KEPT, finding="")
    c.refresh_from_db()
    assert c.status == Commitment.Status.KEPT and c.breach_record is None
    assert OutboxEvent.objects.filter(topic="commitment.fulfilment").count() == 1


def test_only_the_responsible_department_verifies(
    travel, storage, applicant, handler, other_handler, supervisor, enterprise, matter
):
    c = sign(applicant, matter, enterprise)
    v = svc.verification_start(actor=handler, commitment=c)
    for user in (other_handler, supervisor, applicant):
        with pytest.raises(PermissionDenied):
            svc.verification_record(actor=user, verification=v, outcome=VerificationState.KEPT, finding="")
    with pytest.raises(PermissionDenied):
        svc.verification_start(actor=other_handler, commitment=c)
    with pytest.raises(PermissionDenied):
        svc.commitment_register(
            actor=other_handler,
            matter=matter,
            subject=enterprise,
            signer_name="x",
            capacity="legal_rep",
            signed_on=dt.date(2026, 7, 1),
        )


def test_a_broken_repair_commitment_flags_the_repair(
    travel, storage, applicant, handler, leader, enterprise, matter, market_bureau
):
    from cases.models import RepairApplication, RepairState
    from tests.factories import CreditRecordFactory as F

    record = F(subject=enterprise, provider=market_bureau)
    repair_commitment = Commitment.objects.create(
        subject=enterprise,
        type="repair",
        matter="信用修复",
        department=market_bureau,
        text="承诺",
        text_sha256=Commitment.hash_text("承诺"),
        signer_name="张三",
        signer_capacity="legal_rep",
        signed_at=travel.now,
    )
    application = RepairApplication.objects.create(
        subject=enterprise,
        handling_organisation=market_bureau,
        record=record,
        kind="penalty",
        contact_name="a",
        contact_phone="1",
        statement="s",
        commitment=repair_commitment,
    )
    RepairApplication.objects.filter(pk=application.pk).update(state=RepairState.APPROVED)
    v = svc.verification_start(actor=handler, commitment=repair_commitment)
    decide_breach(
        v, handler=handler, leader=leader, travel=travel, outcome=VerificationState.BROKEN, finding="再次违法"
    )
    repair_commitment.refresh_from_db()
    assert repair_commitment.repair_review_flagged_at is not None
    svc.repair_review_close(actor=handler, commitment=repair_commitment, note="已启动撤销修复")
    repair_commitment.refresh_from_db()
    assert repair_commitment.repair_review_closed_at is not None


def test_late_documents_to_follow_have_a_working_day_deadline(
    travel, storage, applicant, handler, enterprise, tolerance_matter
):
    travel.to(2026, 9, 28)  # Monday; 5 WD across the National Day holiday
    c = sign(applicant, tolerance_matter, enterprise)
    # 09-29, 09-30, 10-08, 10-09, 10-10 (make-up Saturday).
    assert c.follow_due_date == dt.date(2026, 10, 10)
    svc.commitment_follow_documents_received(actor=handler, commitment=c)
    assert Commitment.objects.get(pk=c.pk).follow_received_at is not None


# --- reporting within 7 working days (seed 003 item 6) ------------------------------------------------------


class _Down:
    def send(self, event):
        return DeliveryResult(delivered=False, error="503")


class _Up:
    def send(self, event):
        return DeliveryResult(delivered=True, response_code=200)


def test_each_report_is_a_7_working_day_clock_counted_across_the_holiday(
    travel, storage, applicant, enterprise, matter
):
    from workflows.selectors import clock_status

    travel.to(2026, 9, 29, 10)  # Tuesday before National Day
    c = sign(applicant, matter, enterprise)
    event = OutboxEvent.objects.get(topic="commitment.made", aggregate_id=str(c.pk))
    # Day 0 is 09-29; 09-30, 10-08, 10-09, 10-10 (make-up), 10-12, 10-13, 10-14 → due 2026-10-14
    # (a weekends-only count would say 10-08).
    assert event.clock.budget == 7 and event.clock.due_date == dt.date(2026, 10, 14)
    outbox_deliver_due(transport=_Down())
    travel.to(2026, 10, 14, 18)
    assert not clock_status(OutboxEvent.objects.get(pk=event.pk).clock).is_overdue
    travel.to(2026, 10, 15, 9)
    event.refresh_from_db()
    status = clock_status(event.clock)
    assert status.is_overdue and event.status == OutboxEvent.Status.FAILED
    travel.to(2026, 10, 15, 10)
    outbox_deliver_due(transport=_Up())
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED and event.clock.stopped_at is not None


def test_users_see_commitments_by_role(
    travel, storage, applicant, other_applicant, handler, other_handler, supervisor, enterprise, matter
):
    from cases.selectors.commitment import commitments_for

    c = sign(applicant, matter, enterprise)
    assert list(commitments_for(applicant)) == [c]
    assert list(commitments_for(other_applicant)) == []
    assert list(commitments_for(handler)) == [c]
    assert list(commitments_for(other_handler)) == []
    assert list(commitments_for(supervisor)) == [c]
    assert UserFactory(role=Role.APPLICANT) and not commitments_for(None).exists()
