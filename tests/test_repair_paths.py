# ruff: noqa: F811 — pytest fixtures imported from tests.test_repair_flow are requested by name
"""Every path of the credit-repair state machine at service level (PROCEDURES.md §1), with the invariant that
the open viewflow task always matches the legal state; deadlines across a holiday; who may do what;
eligibility explained; the rule set pinned at receipt; notices and their PDFs."""

import datetime as dt
import subprocess
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.utils import translation

from cases.models import (
    AuditEvent,
    CaseActivity,
    CreditRecord,
    DisplayState,
    RecordChange,
    RepairApplication,
    RepairBar,
    RepairState,
)
from cases.models.attachments import Attachment
from cases.models.outbox import OutboxEvent
from cases.selectors.records import public_records_for_subject
from cases.services import repair as svc
from cases.services.records import record_revoke
from notices import services as notice_services
from notices.models import Notice
from notices.services import notice_render
from tests.factories import CreditRecordFactory
from tests.test_repair_flow import (  # noqa: F401 — fixtures shared with the other repair modules
    assert_task_matches_state,
    case_clock,
    drive,
    eligible_record,
    handler2,
    make_draft,
    make_submitted,
    open_clocks,
    other_leader,
    step,
    storage,
    submitted,
    travel,
    upload,
)
from workflows import engine, rules
from workflows.models import Clock, ClockPause
from workflows.selectors import State, clock_status

D = dt.date


def notices_of(app, kind=None):
    qs = Notice.objects.filter(content_type=ContentType.objects.get_for_model(app), object_id=app.pk)
    return qs.filter(kind=kind) if kind else qs


def pdf_text(notice) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", notice.pdf.path, "-"], capture_output=True, text=True, check=True
    ).stdout


def compact(text: str) -> str:
    """pdftotext lays the page out with spaces and line breaks; Chinese prose has neither."""
    return "".join(text.split())


def audited(app, action) -> bool:
    return AuditEvent.objects.filter(action=f"repair.{action}", object_id=str(app.pk)).exists()


# --- accept ---------------------------------------------------------------------------------------------
def test_accepting_stops_the_acceptance_clock_and_sends_the_acceptance_notice(submitted, travel, handler):
    app = assert_task_matches_state(submitted)
    assert case_clock(app, svc.ACCEPTANCE).due_date == D(2026, 7, 9)
    assert case_clock(app, svc.DECISION).due_date == D(2026, 7, 20)
    travel.to(2026, 7, 8)
    step(app, svc.repair_accept, actor=handler)
    assert app.state == RepairState.ACCEPTED
    acceptance, decision = case_clock(app, svc.ACCEPTANCE), case_clock(app, svc.DECISION)
    assert acceptance.stopped_at is not None and acceptance.stop_reason == "已受理"
    assert decision.stopped_at is None
    [notice] = notices_of(app, "repair_accepted")
    assert notice.context["decide_by"] == "2026-07-20"
    assert notice.context["tracking_number"] == app.tracking_number
    assert notice.addressee_user_id == app.applicant_id
    assert app.activities.filter(kind=CaseActivity.Kind.ACCEPTED).exists()
    assert audited(app, "accepted")


# --- refuse ---------------------------------------------------------------------------------------------
def test_refusal_to_accept_is_the_leaders_with_reasons(submitted, handler, leader):
    app = submitted
    with pytest.raises(PermissionDenied):
        svc.repair_refuse(actor=handler, application=app, reason="不属于本机关认定的信息")
    with pytest.raises(svc.RepairError):
        svc.repair_refuse(actor=leader, application=app, reason="  ")
    assert assert_task_matches_state(app).state == RepairState.SUBMITTED

    step(app, svc.repair_refuse, actor=leader, reason="该信息不属于本机关认定的信息")
    assert app.state == RepairState.NOT_ACCEPTED
    assert app.refusal_reason == "该信息不属于本机关认定的信息" and app.closed_at is not None
    assert not open_clocks(app).exists()
    [notice] = notices_of(app, "repair_not_accepted")
    assert notice.context["reasons"] == "该信息不属于本机关认定的信息"
    assert audited(app, "refused")
    # A final case takes no further step.
    with pytest.raises(engine.TaskConflict):
        svc.repair_accept(actor=handler, application=app)


# --- supplement then continue ----------------------------------------------------------------------------
def test_supplementing_pauses_the_authority_runs_the_applicant_and_moves_the_due_dates(
    submitted, travel, applicant, handler
):
    app = submitted
    travel.to(2026, 7, 7)
    with pytest.raises(svc.RepairError):
        svc.repair_request_supplement(actor=handler, application=app, missing="")
    step(app, svc.repair_request_supplement, actor=handler, missing="罚款缴纳凭证")
    assert app.state == RepairState.SUPPLEMENTING
    assert app.supplement_due == D(2026, 7, 14)  # 5 WD from Tue 07-07
    for purpose in (svc.ACCEPTANCE, svc.DECISION):
        clock = case_clock(app, purpose)
        assert clock.is_paused
        assert clock.pauses.get().reason_code == ClockPause.Reason.SUPPLEMENT
    window = case_clock(app, svc.SUPPLEMENT_WINDOW)
    assert not window.is_paused and window.due_date == D(2026, 7, 14)
    [notice] = notices_of(app, "repair_supplement")
    assert notice.context["missing"] == ["罚款缴纳凭证"] and notice.context["supplement_by"] == "2026-07-14"

    travel.to(2026, 7, 9)
    # The applicant's window runs while the authority waits.
    assert clock_status(window).state == State.RUNNING
    assert clock_status(case_clock(app, svc.ACCEPTANCE)).state == State.PAUSED
    # Saying "done" without uploading anything is refused.
    with pytest.raises(svc.RepairError):
        svc.repair_supplement(actor=applicant, application=app)

    travel.to(2026, 7, 10)
    svc.repair_attach(
        actor=applicant, application=app, purpose=Attachment.Purpose.SUPPLEMENT, uploaded=upload("receipt.pdf")
    )
    step(app, svc.repair_supplement, actor=applicant, note="已上传缴款凭证")
    assert app.state == RepairState.SUBMITTED
    acceptance, decision = case_clock(app, svc.ACCEPTANCE), case_clock(app, svc.DECISION)
    # Paused over Wed 07-08 – Fri 07-10: three working days added to each authority clock.
    assert not acceptance.is_paused and acceptance.due_date == D(2026, 7, 14)  # was 07-09
    assert not decision.is_paused and decision.due_date == D(2026, 7, 23)  # was 07-20
    window = case_clock(app, svc.SUPPLEMENT_WINDOW)
    assert window.stopped_at is not None and window.stop_reason == "已补正"

    # Back in the department's acceptance step; the case carries on.
    step(app, svc.repair_accept, actor=handler)
    assert app.state == RepairState.ACCEPTED
    assert notices_of(app, "repair_accepted").get().context["decide_by"] == "2026-07-23"


def test_a_second_supplement_request_needs_the_leaders_signature_and_gets_its_own_notice(
    submitted, travel, applicant, handler, leader
):
    """一次性告知 (行政许可法 Art 32(1)(4)): everything missing is asked for at once; asking again takes the
    leader's signature and a reason."""
    app = submitted
    step(app, svc.repair_request_supplement, actor=handler, items=["proof"], missing="罚款缴纳凭证")
    svc.repair_attach(actor=applicant, application=app, purpose=Attachment.Purpose.SUPPLEMENT, uploaded=upload())
    step(app, svc.repair_supplement, actor=applicant)
    travel.to(2026, 7, 7)
    with pytest.raises(svc.RepairError) as refused:
        svc.repair_request_supplement(actor=handler, application=app, items=["licence"])
    assert refused.value.code == "one_time_notice" and "一次性告知" in refused.value.messages[0]
    with pytest.raises(svc.RepairError) as no_reason:
        svc.repair_request_supplement(actor=leader, application=app, items=["licence"])
    assert no_reason.value.code == "no_repeat_reason"
    app.refresh_from_db()
    assert app.state == RepairState.SUBMITTED and notices_of(app, "repair_supplement").count() == 1
    step(app, svc.repair_request_supplement, actor=leader, items=["licence"], repeat_reason="原营业执照复印件已过期")
    assert notices_of(app, "repair_supplement").count() == 2
    second = notices_of(app, "repair_supplement").get(trigger="supplement-2")
    assert second.context["missing"] == ["营业执照或身份证明"]
    assert second.context["repeat_reason"] == "原营业执照复印件已过期"
    assert AuditEvent.objects.filter(action="repair.supplement_requested", data__repeat=True).count() == 1
    # The earlier upload does not answer the new request.
    with pytest.raises(svc.RepairError):
        svc.repair_supplement(actor=applicant, application=app)


def test_a_supplement_request_picks_items_of_the_materials_list(submitted, travel, handler):
    with pytest.raises(svc.RepairError) as unknown:
        svc.repair_request_supplement(actor=handler, application=submitted, items=["birth_certificate"])
    assert unknown.value.code == "unknown_material"
    step(
        submitted,
        svc.repair_request_supplement,
        actor=handler,
        items=["proof", "attorney"],
        missing="回单须加盖银行印章",
    )
    assert submitted.supplement_items == ["proof", "attorney"]
    assert submitted.supplement_request.splitlines() == [
        "履行法定义务的证明材料",
        "授权委托书",
        "其他说明：回单须加盖银行印章",
    ]


# --- withdraw -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "state", [RepairState.SUBMITTED, RepairState.SUPPLEMENTING, RepairState.ACCEPTED, RepairState.PENDING_SIGNOFF]
)
def test_the_applicant_withdraws_from_every_open_state(submitted, applicant, handler, leader, state):
    app = drive(submitted, state, handler=handler, leader=leader)
    assert app.state == state
    step(app, svc.repair_withdraw, actor=applicant, reason="已另行处理")
    assert app.state == RepairState.WITHDRAWN and app.closed_at is not None
    assert engine.open_node_name(app) is None
    assert not open_clocks(app).exists()
    assert app.activities.filter(kind=CaseActivity.Kind.WITHDRAWN, text="已另行处理").exists()
    assert audited(app, "withdrawn")
    with pytest.raises(svc.RepairError):
        svc.repair_withdraw(actor=applicant, application=app)
    # The record is free for a new application.
    assert not [p for p in svc.repair_eligibility(subject=app.subject, record=app.record) if p.code == "already_open"]


@pytest.mark.parametrize("state", [RepairState.APPROVED, RepairState.REJECTED])
def test_a_decided_case_cannot_be_withdrawn(submitted, applicant, handler, leader, state):
    app = drive(submitted, state, handler=handler, leader=leader)
    with pytest.raises(svc.RepairError):
        svc.repair_withdraw(actor=applicant, application=app)
    assert assert_task_matches_state(app).state == state


def test_a_refused_case_cannot_be_withdrawn(submitted, applicant, leader):
    step(submitted, svc.repair_refuse, actor=leader, reason="不属于本机关认定的信息")
    with pytest.raises(svc.RepairError):
        svc.repair_withdraw(actor=applicant, application=submitted)


# --- extension ------------------------------------------------------------------------------------------
def test_one_extension_within_the_cap_signed_by_the_leader(submitted, travel, handler, leader):
    app = drive(submitted, RepairState.ACCEPTED, handler=handler, leader=leader)
    travel.to(2026, 7, 8)
    cap = rules.rule_param(app.rule_set, rules.REPAIR_EXTENSION_CAP_WD)
    assert cap == 10
    with pytest.raises(svc.RepairError) as beyond:
        svc.repair_propose(actor=handler, application=app, proposal="extend", reason="需向税务部门核实", days=11)
    assert beyond.value.code == "extension_cap"
    with pytest.raises(svc.RepairError):
        svc.repair_propose(actor=handler, application=app, proposal="extend", reason=" ", days=5)
    assert assert_task_matches_state(app).state == RepairState.ACCEPTED

    step(app, svc.repair_propose, actor=handler, proposal="extend", reason="需向税务部门核实", days=5)
    assert app.state == RepairState.PENDING_SIGNOFF
    assert case_clock(app, svc.DECISION).due_date == D(2026, 7, 20)  # nothing moves before the sign-off
    step(app, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.ACCEPTED and app.proposal == ""
    decision = case_clock(app, svc.DECISION)
    assert decision.extension_days == 5 and decision.due_date == D(2026, 7, 27)
    [notice] = notices_of(app, "repair_extension")
    assert notice.context["extended_until"] == "2026-07-27"
    assert notice.context["reasons"] == "需向税务部门核实" and notice.context["days"] == 5
    assert app.activities.filter(kind=CaseActivity.Kind.EXTENDED).exists() and audited(app, "extended")

    with pytest.raises(svc.RepairError) as again:
        svc.repair_propose(actor=handler, application=app, proposal="extend", reason="仍需核实", days=3)
    assert again.value.code == "already_extended"
    # The extended case is decided as usual.
    step(app, svc.repair_propose, actor=handler, proposal="approve", reason="已核实")
    step(app, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.APPROVED


# --- approve --------------------------------------------------------------------------------------------
def test_approval_stops_display_records_why_and_queues_the_sync(
    submitted, travel, handler, leader, enterprise, eligible_record
):
    assert eligible_record in public_records_for_subject(subject=enterprise)
    app = drive(submitted, RepairState.PENDING_SIGNOFF, handler=handler, leader=leader)
    travel.to(2026, 7, 8)
    step(app, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.APPROVED
    assert app.decided_at == travel.now and app.effective_at == travel.now

    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.REPAIRED
    assert record not in public_records_for_subject(subject=enterprise)
    change = RecordChange.objects.filter(record=record).latest("id")
    assert (change.field, change.old_value, change.new_value) == ("display_state", "displayed", "repaired")
    assert change.reason == "准予信用修复" and change.case_reference == app.tracking_number
    assert change.actor == leader

    event = OutboxEvent.objects.get(topic="repair.granted", aggregate_id=str(app.pk))
    assert event.payload["tracking_number"] == app.tracking_number and event.payload["decision"] == "approved"
    assert event.clock.budget == 3 and event.clock.unit == Clock.Unit.WORKING_DAYS
    assert event.clock.due_date == D(2026, 7, 13)  # 3 WD from Wed 07-08
    [granted] = notices_of(app, "repair_granted")
    assert granted.context["effective_by"] == "2026-07-09"  # Henan Art 43: 1 WD
    assert not open_clocks(app).exists()
    assert app.activities.filter(kind=CaseActivity.Kind.EFFECTIVE).exists() and audited(app, "decided")


# --- reject ---------------------------------------------------------------------------------------------
def test_rejection_keeps_the_record_and_tells_the_remedies(submitted, handler, leader, enterprise, eligible_record):
    app = drive(submitted, RepairState.ACCEPTED, handler=handler, leader=leader)
    with pytest.raises(svc.RepairError):
        svc.repair_propose(actor=handler, application=app, proposal="reject", reason="")
    with pytest.raises(svc.RepairError):
        svc.repair_propose(actor=handler, application=app, proposal="maybe", reason="x")
    step(app, svc.repair_propose, actor=handler, proposal="reject", reason="罚款尚未缴清")
    step(app, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.REJECTED and app.decision_reason == "罚款尚未缴清"
    assert eligible_record in public_records_for_subject(subject=enterprise)
    assert not OutboxEvent.objects.filter(aggregate_id=str(app.pk)).exists()
    assert not notices_of(app, "repair_granted").exists()

    notice = notice_render(notice_id=notices_of(app, "repair_refused").get().pk)
    text = compact(pdf_text(notice))
    assert "不予信用修复决定书" in text and notice.number in text
    assert "罚款尚未缴清" in text
    assert "行政复议" in text and "行政诉讼" in text


# --- revoke ---------------------------------------------------------------------------------------------
def test_revoking_a_repair_restores_display_bars_the_subject_and_explains_the_bar(
    submitted, travel, applicant, handler, leader, other_leader, enterprise, eligible_record
):
    app = drive(submitted, RepairState.APPROVED, handler=handler, leader=leader)
    granted = notice_render(notice_id=notices_of(app, "repair_granted").get().pk)
    travel.to(2026, 9, 1)
    with pytest.raises(PermissionDenied):
        svc.repair_revoke(actor=handler, application=app, reason="缴款凭证系伪造")
    with pytest.raises(PermissionDenied):
        svc.repair_revoke(actor=other_leader, application=app, reason="缴款凭证系伪造")
    with pytest.raises(svc.RepairError):
        svc.repair_revoke(actor=leader, application=app, reason="")

    step(app, svc.repair_revoke, actor=leader, reason="缴款凭证系伪造")
    assert app.state == RepairState.REVOKED and app.revocation_reason == "缴款凭证系伪造"
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.DISPLAYED
    assert record in public_records_for_subject(subject=enterprise)
    change = RecordChange.objects.filter(record=record).latest("id")
    assert change.new_value == "displayed" and "缴款凭证系伪造" in change.reason
    bar = RepairBar.objects.get(subject=enterprise)
    assert bar.barred_until == D(2029, 9, 1) and bar.source == app
    [revoked] = notices_of(app, "repair_revoked")
    assert revoked.context["original_number"] == granted.number and revoked.context["bar_years"] == 3
    assert OutboxEvent.objects.filter(topic="repair.revoked", aggregate_id=str(app.pk)).exists()
    assert audited(app, "revoked")
    with pytest.raises(svc.RepairError):
        svc.repair_revoke(actor=leader, application=app, reason="再次撤销")

    # A new application by the barred subject is refused, and the date the bar ends is said.
    sentence = "本主体曾以虚假材料取得信用修复，2029年9月1日前不得再次申请。"
    assert [p.message for p in svc.repair_eligibility(subject=enterprise, record=record)] == [sentence]
    again = make_draft(applicant, record)
    with pytest.raises(svc.RepairError) as refused:
        svc.repair_submit(actor=applicant, application=again)
    assert sentence in refused.value.messages
    # The bar ends when it says.
    assert svc.repair_eligibility(subject=enterprise, record=record, on=D(2029, 9, 2)) == []


# --- deadlines across a holiday -----------------------------------------------------------------------------
def test_received_the_day_before_national_day_acceptance_is_due_on_the_makeup_saturday(
    travel, storage, applicant, eligible_record
):
    travel.to(2026, 9, 30, 15)
    app = make_submitted(applicant, eligible_record)
    acceptance = case_clock(app, svc.ACCEPTANCE)
    assert app.received_on == D(2026, 9, 30)
    assert acceptance.due_date == D(2026, 10, 10)  # Sat, a make-up working day
    assert case_clock(app, svc.DECISION).due_date == D(2026, 10, 20)
    with translation.override("zh-hans"):
        explanation = clock_status(acceptance).explanation
    assert "国庆" in explanation and "10月10日（星期六）调休上班" in explanation


def test_received_during_the_holiday_counts_from_the_first_working_day(travel, storage, applicant, eligible_record):
    travel.to(2026, 10, 3, 11)
    app = make_submitted(applicant, eligible_record)
    acceptance = case_clock(app, svc.ACCEPTANCE)
    assert acceptance.start_date == D(2026, 10, 8) and app.received_on == D(2026, 10, 8)
    assert acceptance.due_date == D(2026, 10, 12)  # Fri 9, Sat 10 (make-up), Mon 12
    with translation.override("zh-hans"):
        assert "视为10月8日收到" in clock_status(acceptance).explanation


# --- permissions ----------------------------------------------------------------------------------------
def test_the_other_enterprise_cannot_touch_this_enterprises_repair(
    submitted, travel, applicant, other_applicant, eligible_record
):
    with pytest.raises(PermissionDenied):
        svc.repair_draft_save(
            actor=other_applicant, record=eligible_record, contact_name="x", contact_phone="1", statement="s"
        )
    draft = svc.repair_draft_save(
        actor=applicant,
        record=CreditRecordFactory(subject=eligible_record.subject, provider=eligible_record.provider),
        contact_name="赵六",
        contact_phone="1",
        statement="s",
    )
    with pytest.raises(PermissionDenied):
        svc.repair_attach(actor=other_applicant, application=draft, purpose=Attachment.Purpose.PROOF, uploaded=upload())
    with pytest.raises(PermissionDenied):
        svc.repair_sign_commitment(actor=other_applicant, application=draft, signer_name="李四", capacity="x")
    with pytest.raises(PermissionDenied):
        svc.repair_submit(actor=other_applicant, application=draft)
    with pytest.raises(PermissionDenied):
        svc.repair_withdraw(actor=other_applicant, application=submitted)
    with pytest.raises(PermissionDenied):
        svc.repair_chase(actor=other_applicant, application=submitted, message="请尽快办理")
    assert assert_task_matches_state(submitted).state == RepairState.SUBMITTED
    assert not submitted.activities.filter(kind=CaseActivity.Kind.CHASED).exists()


def test_the_wrong_department_cannot_take_any_step(submitted, handler, leader, other_handler, other_leader):
    for call in (
        lambda: svc.repair_accept(actor=other_handler, application=submitted),
        lambda: svc.repair_request_supplement(actor=other_handler, application=submitted, missing="x"),
        lambda: svc.repair_refuse(actor=other_leader, application=submitted, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    app = drive(submitted, RepairState.ACCEPTED, handler=handler, leader=leader)
    with pytest.raises(PermissionDenied):
        svc.repair_propose(actor=other_handler, application=app, proposal="approve", reason="")
    step(app, svc.repair_propose, actor=handler, proposal="approve", reason="")
    with pytest.raises(PermissionDenied):
        svc.repair_signoff(actor=other_leader, application=app, agree=True)
    assert assert_task_matches_state(app).state == RepairState.PENDING_SIGNOFF


def test_a_handler_cannot_take_the_leaders_steps_nor_the_applicants(submitted, applicant, handler, leader):
    with pytest.raises(PermissionDenied):
        svc.repair_refuse(actor=handler, application=submitted, reason="不属于本机关")
    with pytest.raises(PermissionDenied):
        svc.repair_withdraw(actor=handler, application=submitted)
    with pytest.raises(PermissionDenied):
        svc.repair_accept(actor=applicant, application=submitted)
    app = drive(submitted, RepairState.PENDING_SIGNOFF, handler=handler, leader=leader)
    with pytest.raises(PermissionDenied):
        svc.repair_signoff(actor=handler, application=app, agree=True)
    assert assert_task_matches_state(app).state == RepairState.PENDING_SIGNOFF


def test_a_colleague_in_the_same_department_may_finish_a_step(submitted, handler, handler2, leader):
    app = drive(submitted, RepairState.ACCEPTED, handler=handler, leader=leader)
    step(app, svc.repair_propose, actor=handler2, proposal="approve", reason="")
    assert app.proposed_by == handler2


def test_chasing_up_is_logged_once_a_day_and_only_while_open(submitted, travel, applicant, handler, leader):
    activity = svc.repair_chase(actor=applicant, application=submitted, message="请尽快办理")
    assert activity.kind == CaseActivity.Kind.CHASED and activity.actor == applicant
    with pytest.raises(svc.RepairError):
        svc.repair_chase(actor=applicant, application=submitted)
    travel.to(2026, 7, 7)
    svc.repair_chase(actor=applicant, application=submitted)
    assert submitted.activities.filter(kind=CaseActivity.Kind.CHASED).count() == 2
    assert audited(submitted, "chased")
    drive(submitted, RepairState.APPROVED, handler=handler, leader=leader)
    travel.to(2026, 7, 8)
    with pytest.raises(svc.RepairError):
        svc.repair_chase(actor=applicant, application=submitted)


# --- concurrency ----------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_handlers_accepting_at_once_one_wins_one_conflicts(submitted, handler, handler2, monkeypatch):
    monkeypatch.setattr(notice_services, "_enqueue_render", lambda notice_id: None)
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def accept(user):
        try:
            app = RepairApplication.objects.get(pk=submitted.pk)
            barrier.wait()
            svc.repair_accept(actor=user, application=app)
            outcomes.append("ok")
        except engine.TaskConflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(user,)) for user in (handler, handler2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["conflict", "ok"]
    app = assert_task_matches_state(submitted)
    assert app.state == RepairState.ACCEPTED
    assert notices_of(app, "repair_accepted").count() == 1
    assert AuditEvent.objects.filter(action="repair.accepted", object_id=str(app.pk)).count() == 1


# --- eligibility ----------------------------------------------------------------------------------------
def test_the_minimum_period_is_explained_in_one_plain_sentence(travel, enterprise, eligible_record):
    problems = svc.repair_eligibility(subject=enterprise, record=eligible_record, on=D(2026, 5, 1))
    assert [(p.code, p.message) for p in problems] == [
        ("min_period", "该行政处罚信息最短公示期为3个月，自2026年3月5日起算，2026年6月5日后方可申请。")
    ]
    assert svc.repair_eligibility(subject=enterprise, record=eligible_record, on=D(2026, 6, 5)) == []


def test_a_record_the_law_excludes_is_not_repairable(travel, enterprise, market_bureau, rule_sets):
    record = CreditRecordFactory(subject=enterprise, provider=market_bureau, repairable=False)
    assert [p.message for p in svc.repair_eligibility(subject=enterprise, record=record)] == [
        "依照法律、法规规定，该信息不可修复。"
    ]


def test_a_record_no_longer_displayed_cannot_be_repaired(travel, enterprise, eligible_record, handler):
    record_revoke(actor=handler, record=eligible_record, reason="原处罚决定已被撤销")
    eligible_record.refresh_from_db()
    assert [p.message for p in svc.repair_eligibility(subject=enterprise, record=eligible_record)] == [
        "该信息当前状态为“已撤销”，只有公示中的信息可以申请信用修复。"
    ]


def test_another_subjects_record_is_refused(travel, other_enterprise, eligible_record):
    assert [p.code for p in svc.repair_eligibility(subject=other_enterprise, record=eligible_record)] == [
        "not_own_record"
    ]


def test_a_second_application_for_an_open_case_is_refused(submitted, applicant, enterprise, eligible_record):
    assert [p.message for p in svc.repair_eligibility(subject=enterprise, record=eligible_record)] == [
        "该信息已有正在办理的信用修复申请，请勿重复申请。"
    ]
    # The open case itself is not counted against itself.
    assert svc.repair_eligibility(subject=enterprise, record=eligible_record, exclude=submitted) == []
    # A second application is refused when it is started: no orphan draft (issue 10 item 1).
    with pytest.raises(svc.RepairError) as refused:
        make_draft(applicant, eligible_record)
    assert "该信息已有正在办理的信用修复申请，请勿重复申请。" in refused.value.messages
    assert RepairApplication.objects.filter(record=eligible_record).count() == 1


def test_missing_materials_are_listed(travel, storage, applicant, eligible_record):
    draft = svc.repair_draft_save(
        actor=applicant, record=eligible_record, contact_name="赵六", contact_phone="1", statement="", by_agent=True
    )
    with pytest.raises(svc.RepairError) as refused:
        svc.repair_submit(actor=applicant, application=draft)
    messages = "\n".join(refused.value.messages)
    for item in ("履行法定义务的证明材料", "授权委托书", "签署信用承诺书", "整改及履行情况说明"):
        assert item in messages
    assert engine.process_for(draft) is None


def test_obligations_confirmed_by_the_department_need_no_proof(
    travel, storage, applicant, enterprise, market_bureau, rule_sets
):
    record = CreditRecordFactory(subject=enterprise, provider=market_bureau, obligations_performed=True)
    draft = svc.repair_draft_save(
        actor=applicant, record=record, contact_name="赵六", contact_phone="1", statement="已整改"
    )
    commitment = svc.repair_sign_commitment(
        actor=applicant, application=draft, signer_name="张三", capacity="legal_rep"
    )
    assert commitment.type == "repair" and record.title in commitment.text
    app = svc.repair_submit(actor=applicant, application=draft)
    assert assert_task_matches_state(app).state == RepairState.SUBMITTED


# --- the rule set pinned at receipt -------------------------------------------------------------------------
def test_a_case_received_under_order_58_keeps_its_rules_after_order_36_takes_effect(
    travel, storage, applicant, handler, leader, enterprise, market_bureau, rule_sets
):
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=D(2025, 11, 3),
        publication_date=D(2025, 11, 5),
        display_min_until=D(2026, 2, 3),
        display_max_until=D(2028, 11, 3),
    )
    travel.to(2026, 3, 31, 16)
    app = make_submitted(applicant, record)
    assert app.rule_set.code == "ndrc-58-2023"
    travel.to(2026, 4, 2)
    assert rules.ruleset_in_force(travel.now).code == "ndrc-36-2026"
    drive(app, RepairState.APPROVED, handler=handler, leader=leader)
    assert app.rule_set.code == "ndrc-58-2023"
    assert "58号令期间" in case_clock(app, svc.DECISION).citation
    sync = OutboxEvent.objects.get(topic="repair.granted", aggregate_id=str(app.pk)).clock
    assert sync.citation == rules.rule_param_detail(app.rule_set, rules.REPAIR_SYNC_WD).citation
    assert sync.citation != rules.rule_param_detail(rules.ruleset_in_force(travel.now), rules.REPAIR_SYNC_WD).citation


# --- notices --------------------------------------------------------------------------------------------
def test_the_decision_notice_is_issued_once_and_its_pdf_says_what_matters(submitted, travel, handler, leader):
    app = drive(submitted, RepairState.PENDING_SIGNOFF, handler=handler, leader=leader)
    travel.to(2026, 7, 8)
    step(app, svc.repair_signoff, actor=leader, agree=True)
    pending = notices_of(app, "repair_granted").get()
    first = notice_render(notice_id=pending.pk)
    second = notice_render(notice_id=pending.pk)
    assert first is not None and second is None
    notice = Notice.objects.get(pk=pending.pk)
    assert notice.status == Notice.Status.ISSUED and notice.number == first.number
    assert notice.number.startswith("郑市监修决〔2026〕第")
    assert notices_of(app, "repair_granted").count() == 1
    text = compact(pdf_text(notice))
    assert "信用修复决定书" in text
    assert notice.number in text
    assert app.tracking_number in text
    assert "2026年7月6日" in text  # received
    assert "2026年7月9日" in text  # effective by (1 WD)
    assert app.record.title in text


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_an_acceptance_ends_withdrawn_without_deadlock(submitted, applicant, handler, monkeypatch):
    monkeypatch.setattr(notice_services, "_enqueue_render", lambda notice_id: None)
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def run(name, call):
        try:
            app = RepairApplication.objects.get(pk=submitted.pk)
            barrier.wait()
            call(app)
            outcomes[name] = "ok"
        except engine.TaskConflict:
            outcomes[name] = "conflict"
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=run, args=("withdraw", lambda app: svc.repair_withdraw(actor=applicant, application=app))
        ),
        threading.Thread(target=run, args=("accept", lambda app: svc.repair_accept(actor=handler, application=app))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Either the acceptance came first and the applicant then withdrew the accepted case, or the withdrawal
    # came first and the acceptance found no open task; both ways the case ends withdrawn with no task.
    assert outcomes["withdraw"] == "ok" and outcomes["accept"] in ("ok", "conflict")
    app = assert_task_matches_state(submitted)
    assert app.state == RepairState.WITHDRAWN
    assert not open_clocks(app).exists()
