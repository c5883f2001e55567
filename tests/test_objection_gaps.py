# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
"""Objections, the gaps closed after the first merge: the applicant withdraws an open objection (the mark
comes off, clocks stop, routing cancelled, audited, on the timeline; it may be filed again as a new case);
复核 may be asked only within ``objection.review_request_wd`` of the result's delivery (河南省社会信用条例
Art 28 names no period: [cfg]); the hourly escalation sweep gives a late provider's objection clock its
督办 step and still decides nothing."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.test import Client
from viewflow.workflow.status import PROCESS

from cases.models import AuditEvent, CaseActivity, CreditRecord, DisplayState, RecordChange
from cases.models.objection import ObjectionCase, ObjectionState
from cases.models.outbox import OutboxEvent
from cases.models.rectification import EscalationStep
from cases.services import objection as svc
from cases.services.escalation import escalation_sweep
from notices.services import notice_render
from tests.test_objection_paths import checking, clock_of, file, filed, notices_of, pdf_text  # noqa: F401
from tests.test_repair_flow import eligible_record, storage, travel, upload  # noqa: F401
from workflows import engine, rules
from workflows.models import Clock, RuleParameter, RuleSet

D = dt.date


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def clocks_of(case):
    return Clock.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk)


# --- withdrawal ------------------------------------------------------------------------------------------------
def test_applicant_withdraws_during_the_check_and_the_mark_comes_off(
    checking, applicant, handler, travel, eligible_record, client
):
    travel.to(2026, 7, 8)
    svc.objection_pause(actor=handler, case=checking, reason_code="appraisal", reason="委托鉴定")
    case = svc.objection_withdraw(actor=applicant, case=checking, reason="已与执法机关核对，文书号无误")
    case.refresh_from_db()
    assert case.state == ObjectionState.WITHDRAWN and case.outcome == "" and case.decided_by is None
    assert case.closed_at is not None and not case.is_open

    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.DISPLAYED
    cleared = RecordChange.objects.filter(record=record, field="display_state").order_by("-pk").first()
    assert (cleared.old_value, cleared.new_value, cleared.case_reference) == (
        "objection",
        "displayed",
        case.tracking_number,
    )
    assert "申请人撤回异议" in cleared.reason and "已与执法机关核对" in cleared.reason
    page = client.get(f"/public/subjects/{record.subject.pk}/").content.decode()
    assert record.title in page and "异议处理中" not in page

    # All limits stop, the paused ones included (the pause ends on the withdrawal day).
    assert clocks_of(case).count() == 3 and not clocks_of(case).filter(stopped_at__isnull=True).exists()
    assert not clock_of(case, svc.CASE).pauses.filter(resumed_on__isnull=True).exists()
    assert engine.process_for(case).status == PROCESS.CANCELED and engine.open_task(case) is None
    assert case.activities.filter(kind=CaseActivity.Kind.WITHDRAWN, actor=applicant).exists()
    event = AuditEvent.objects.get(action="objection.withdrawn")
    assert event.data["reason"] == "已与执法机关核对，文书号无误" and event.data["record_state"] == "displayed"
    assert AuditEvent.objects.filter(action="record.clear_objection").exists()
    synced = OutboxEvent.objects.get(topic="objection.withdrawn")
    assert synced.payload["display_state"] == "displayed" and synced.payload["record_id"] == record.pk


def test_nobody_decides_a_withdrawn_objection(checking, applicant, handler, intake):
    svc.objection_withdraw(actor=applicant, case=checking)
    with pytest.raises(PermissionDenied):  # no longer with the provider
        svc.objection_decide(
            actor=handler, case=checking, outcome="corrected", reason="x", changes={"decision_number": "新文号"}
        )
    with pytest.raises(engine.TaskConflict):  # and the platform has no open step either
        svc.objection_decide(actor=intake, case=checking, outcome="revoked", reason="x")
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_withdraw(actor=applicant, case=checking)
    assert error.value.code == "not_open"
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_request_review(actor=applicant, case=checking, reason="不服")
    assert error.value.code == "withdrawn"
    assert CaseActivity.objects.filter(kind=CaseActivity.Kind.DECIDED).count() == 0
    assert not notices_of(checking, "objection_result").exists()


def test_only_the_applicant_may_withdraw_and_only_before_the_outcome(
    checking, other_applicant, handler, intake, supervisor, applicant
):
    for actor in (other_applicant, handler, intake, supervisor):
        with pytest.raises(PermissionDenied):
            svc.objection_withdraw(actor=actor, case=checking)
    svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_withdraw(actor=applicant, case=checking)
    assert error.value.code == "not_open"
    assert ObjectionCase.objects.get(pk=checking.pk).state == ObjectionState.CLOSED


def test_a_withdrawn_objection_can_be_filed_again_as_a_new_case(filed, applicant, eligible_record, travel):
    svc.objection_withdraw(actor=applicant, case=filed)
    travel.to(2026, 7, 20)
    again = file(applicant, eligible_record, reason="补充了新的证据")
    assert again.pk != filed.pk and again.tracking_number != filed.tracking_number
    assert again.state == ObjectionState.SUBMITTED and again.marked
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION
    assert clock_of(again, svc.PLATFORM).due_date == D(2026, 7, 23)
    assert engine.open_node_name(again) == "triage"


def test_withdrawing_a_review_clears_the_mark_it_put_back(checking, handler, applicant, eligible_record, storage):
    first = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    review = svc.objection_request_review(actor=applicant, case=first, reason="仍有异议", uploads=[upload()])
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION
    review = svc.objection_withdraw(actor=applicant, case=review)
    assert review.state == ObjectionState.WITHDRAWN
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.DISPLAYED
    assert "撤回复核申请" in RecordChange.objects.filter(record=eligible_record).order_by("-pk").first().reason
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_request_review(actor=applicant, case=first, reason="再来一次")
    assert error.value.code == "already_reviewed"


def test_withdraw_button_asks_for_confirmation_on_the_status_page(
    checking, applicant, other_applicant, eligible_record
):
    c = login(applicant)
    status = c.get(f"/objection/{checking.pk}/").content.decode()
    assert f"/objection/{checking.pk}/withdraw/" in status and "撤回异议" in status
    confirm = c.get(f"/objection/{checking.pk}/withdraw/")
    assert confirm.status_code == 200 and "确认撤回" in confirm.content.decode()
    assert ObjectionCase.objects.get(pk=checking.pk).state == ObjectionState.CHECKING  # GET changes nothing
    assert login(other_applicant).post(f"/objection/{checking.pk}/withdraw/").status_code == 404
    r = c.post(f"/objection/{checking.pk}/withdraw/", {"reason": "不再异议"})
    assert r.status_code == 302 and r["Location"] == f"/objection/{checking.pk}/"
    status = c.get(f"/objection/{checking.pk}/").content.decode()
    assert "已撤回" in status and "不再异议" in status and f"/objection/{checking.pk}/withdraw/" not in status
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.DISPLAYED
    again = c.post(f"/objection/{checking.pk}/withdraw/", {"reason": ""})
    assert again.status_code == 400 and "不能撤回" in again.content.decode()


# --- the time limit for asking 复核 ----------------------------------------------------------------------------
@pytest.fixture
def delivered(checking, handler, travel, storage):
    """Decided and the result notice issued (= delivered on the platform) on Wed 2026-07-08."""
    travel.to(2026, 7, 8)
    case = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    notice_render(notice_id=notices_of(case, "objection_result").get().pk)
    return case


def test_the_review_request_period_is_a_parameter_of_every_rule_set(rule_sets):
    params = RuleParameter.objects.filter(key=rules.OBJECTION_REVIEW_REQUEST_WD)
    assert params.count() == RuleSet.objects.count() == 4
    for param in params:
        assert param.value == 15 and param.unit == "wd" and "[cfg]" in param.citation


def test_review_on_the_last_day_is_accepted(delivered, applicant, travel):
    assert svc.review_request_last_day(delivered) == D(2026, 7, 29)  # 15 WD after Wed 07-08
    travel.to(2026, 7, 29, 17, 30)
    review = svc.objection_request_review(actor=applicant, case=delivered, reason="仍有异议", uploads=[upload()])
    assert review.review_of == delivered


def test_review_after_the_last_day_is_refused_naming_it(delivered, applicant, travel):
    travel.to(2026, 7, 30, 9, 0)
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_request_review(actor=applicant, case=delivered, reason="仍有异议")
    assert error.value.code == "review_period_over"
    assert "2026-07-29" in error.value.messages[0] and "2026-07-08" in error.value.messages[0]
    assert not ObjectionCase.objects.filter(review_of=delivered).exists()


@pytest.fixture
def rule_cache():
    """Parameters changed behind the cache's back: forget them afterwards too."""
    rules.clear_rule_cache()
    yield
    rules.clear_rule_cache()


def test_the_period_follows_the_rule_set_of_the_case(delivered, applicant, travel, rule_cache):
    RuleParameter.objects.filter(rule_set=delivered.rule_set, key=rules.OBJECTION_REVIEW_REQUEST_WD).update(value=5)
    rules.clear_rule_cache()
    assert svc.review_request_last_day(delivered) == D(2026, 7, 15)
    travel.to(2026, 7, 16)
    with pytest.raises(svc.ObjectionError):
        svc.objection_request_review(actor=applicant, case=delivered, reason="仍有异议")


def test_the_period_runs_from_delivery_not_from_the_decision(checking, handler, applicant, travel, storage):
    travel.to(2026, 7, 8)
    case = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    assert svc.review_request_last_day(case) is None  # the notice is not out yet: the period has not begun
    travel.to(2026, 7, 10)
    notice_render(notice_id=notices_of(case, "objection_result").get().pk)
    assert svc.review_request_last_day(case) == D(2026, 7, 31)


def test_the_result_notice_and_status_page_state_the_period(delivered, applicant, travel):
    text = pdf_text(notices_of(delivered, "objection_result").get())
    assert "15个工作日内" in text and "逾期不再受理复核申请" in text
    travel.to(2026, 7, 20)
    page = login(applicant).get(f"/objection/{delivered.pk}/").content.decode()
    assert "申请复核的最后一日为2026-07-29" in page and f"/objection/{delivered.pk}/review/" in page
    travel.to(2026, 7, 30)
    page = login(applicant).get(f"/objection/{delivered.pk}/").content.decode()
    assert "期限已于2026-07-29届满" in page and f"/objection/{delivered.pk}/review/" not in page
    r = login(applicant).post(f"/objection/{delivered.pk}/review/", {"reason": "仍有异议"})
    assert r.status_code == 400 and "2026-07-29" in r.content.decode()


# --- the scheduled overdue check ---------------------------------------------------------------------------
def test_the_hourly_sweep_sends_a_late_provider_supervision_and_decides_nothing(
    checking, travel, eligible_record, storage
):
    travel.to(2026, 7, 10, 9, 0)  # the provider's last day (Fri 07-10): not yet late
    escalation_sweep()
    provider = clock_of(checking, svc.PROVIDER)
    assert not EscalationStep.objects.filter(clock=provider, step=EscalationStep.Step.SUPERVISION).exists()
    travel.to(2026, 7, 13, 9, 0)  # Monday: one working day late
    escalation_sweep()
    step = EscalationStep.objects.get(clock=provider, step=EscalationStep.Step.SUPERVISION)
    assert step.organisation_id == checking.provider_id and not step.manual and step.notified
    assert checking.activities.filter(kind=CaseActivity.Kind.NOTE, text__contains="督办").exists()
    escalation_sweep()  # once only
    assert EscalationStep.objects.filter(clock=provider, step=EscalationStep.Step.SUPERVISION).count() == 1
    # Never an automatic decision: still with the provider, still marked, its task still open.
    case = ObjectionCase.objects.get(pk=checking.pk)
    assert case.state == ObjectionState.CHECKING and case.outcome == "" and case.decided_by is None
    assert engine.open_node_name(case) == "provider_check"
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION
    assert not notices_of(case, "objection_result").exists()


def test_a_rule_set_without_the_parameter_leaves_the_request_open(delivered, applicant, travel, rule_cache):
    RuleParameter.objects.filter(rule_set=delivered.rule_set, key=rules.OBJECTION_REVIEW_REQUEST_WD).delete()
    rules.clear_rule_cache()
    assert svc.review_request_last_day(delivered) is None
    travel.to(2026, 9, 1)
    assert svc.objection_request_review(actor=applicant, case=delivered, reason="仍有异议").review_of == delivered
