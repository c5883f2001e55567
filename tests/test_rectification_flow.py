"""政务失信 rectification, the whole path (PROCEDURES.md §4) at the service level."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.status import PROCESS

from cases.models import CreditRecord, DisplayState, OutboxEvent, RecordKind, RectificationState
from cases.models.rectification import RectificationReport
from cases.services import rectification as svc
from cases.services.outbox import topic_label
from notices.models import Notice
from tests.rectification_support import clock_of, new_case, substantiated_case
from workflows import engine
from workflows.engine import TaskConflict
from workflows.flows.rectification import RectificationFlow

pytestmark = pytest.mark.django_db

# The step of workflows.flows.rectification.RectificationFlow each open legal state calls for.
EXPECTED_NODE = {
    RectificationState.SUBMITTED: "forward",
    RectificationState.VERIFYING: "verification",
    RectificationState.AWAITING_PLAN: "plan",
    RectificationState.RECTIFYING: "rectify",
    RectificationState.COMPLETION_SUBMITTED: "check",
}


def assert_task_matches_state(case):
    """The invariant: exactly the open task the legal state calls for, and none once the case is final."""
    case.refresh_from_db()
    assert engine.open_node_name(case) == EXPECTED_NODE.get(case.state), case.state
    assert engine.open_tasks(case).count() == (1 if case.state in EXPECTED_NODE else 0)
    process = engine.process_for(case)
    if case.state in EXPECTED_NODE:
        assert process.status == PROCESS.NEW
    else:
        assert process.status in (PROCESS.DONE, PROCESS.CANCELED)
    return case


@pytest.fixture
def travel(rect_travel):
    return rect_travel


def test_it_runs_from_complaint_to_repaired_record(
    rule_sets, travel, complainant, enterprise, body, city_gov, office, intake, reviewer, body_user, city_user
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    assert case.state == RectificationState.SUBMITTED
    assert_task_matches_state(case)
    assert case.subject.organisation == body and case.handling_organisation == body
    assert clock_of(case, svc.FORWARD).due_date == dt.date(2026, 7, 7)  # 1 WD ("第一时间")

    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    assert_task_matches_state(case)
    # The superior department records its own finding.
    svc.rectification_verify(
        actor=city_user, case=case, substantiated=True, reason="经核实，拖欠属实。", requirements="限期支付欠款。"
    )
    case.refresh_from_db()
    assert case.state == RectificationState.AWAITING_PLAN
    assert_task_matches_state(case)
    record = case.record
    assert record.kind == RecordKind.GOVERNMENT_DISHONESTY and record.subject.organisation == body
    assert record.display_state == DisplayState.DISPLAYED
    assert case.deadline == dt.date(2026, 8, 5)  # 30 calendar days, a Wednesday
    assert clock_of(case, svc.PLAN).due_date == dt.date(2026, 7, 13)  # 5 WD
    notice = Notice.objects.get(kind="rectification_notice", object_id=case.pk)
    assert notice.addressee_subject == case.subject
    assert notice.context["deadline"] == "2026-08-05"

    svc.rectification_submit_plan(actor=body_user, case=case, text="分三期支付。")
    case.refresh_from_db()
    assert case.state == RectificationState.RECTIFYING
    assert_task_matches_state(case)
    assert clock_of(case, svc.PROGRESS).due_date == dt.date(2026, 7, 20)  # every 10 WD
    travel.to(2026, 7, 15)
    svc.rectification_report_progress(actor=body_user, case=case, text="已支付第一期。")
    assert_task_matches_state(case)
    assert clock_of(case, svc.PROGRESS).due_date == dt.date(2026, 7, 29)  # a new interval from the report
    svc.rectification_submit_completion(actor=body_user, case=case, text="已全部支付，附银行回单。")
    case.refresh_from_db()
    assert case.state == RectificationState.COMPLETION_SUBMITTED
    assert_task_matches_state(case)
    assert clock_of(case, svc.DEADLINE).stopped_at is not None

    svc.rectification_check_completion(actor=reviewer, case=case, accepted=True)
    case.refresh_from_db()
    assert case.state == RectificationState.CLOSED and case.closed_at
    assert_task_matches_state(case)
    assert CreditRecord.objects.get(pk=record.pk).display_state == DisplayState.REPAIRED
    assert [r.kind for r in case.reports.all()] == ["plan", "progress", "completion"]


def test_not_substantiated_ends_with_a_reasoned_reply(
    rule_sets, travel, complainant, enterprise, body, city_gov, office, intake, reviewer
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    with pytest.raises(ValidationError):
        svc.rectification_verify(actor=reviewer, case=case, substantiated=False, reason="  ")
    svc.rectification_verify(actor=reviewer, case=case, substantiated=False, reason="合同约定的付款条件尚未成就。")
    case.refresh_from_db()
    assert case.state == RectificationState.NOT_SUBSTANTIATED and case.record is None
    assert_task_matches_state(case)
    reply = Notice.objects.get(kind="rectification_reply", object_id=case.pk)
    assert reply.addressee_user == complainant and "付款条件" in reply.context["reasons"]
    assert not CreditRecord.objects.filter(subject__organisation=body).exists()


def test_sme_payment_complaints_follow_order_802_limits(
    rule_sets, travel, complainant, enterprise, body, city_gov, office, intake
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise, sme=True)
    assert clock_of(case, svc.FORWARD).due_date == dt.date(2026, 7, 20)  # 10 WD of acceptance
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    verification = clock_of(case, svc.VERIFICATION)
    assert verification.due_date == dt.date(2026, 8, 5)  # 30 days
    assert verification.extension_cap == 60  # extendable to at most 90 days in all


def test_sme_limits_apply_only_to_arrears(rule_sets, travel, complainant, enterprise, body, office):
    with pytest.raises(ValidationError):
        new_case(actor=complainant, body=body, office=office, enterprise=enterprise, sme=True, source="promise")


def test_a_change_of_staff_changes_nothing(
    rule_sets, travel, body, city_gov, office, intake, reviewer, body_user, body_user2
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_submit_plan(actor=body_user, case=case, text="整改方案。")
    deadline_due = clock_of(case, svc.DEADLINE).due_date
    # The liaison who submitted the plan leaves; a colleague of the same organisation carries on.
    body_user.is_active = False
    body_user.save()
    with pytest.raises(PermissionDenied):
        svc.rectification_report_progress(actor=body_user, case=case, text="离职后不能再报送")
    svc.rectification_report_progress(actor=body_user2, case=case, text="继续整改。")
    svc.rectification_submit_completion(actor=body_user2, case=case, text="完成。")
    case.refresh_from_db()
    assert case.state == RectificationState.COMPLETION_SUBMITTED
    assert clock_of(case, svc.DEADLINE).due_date == deadline_due  # nothing reset
    assert list(case.reports.values_list("submitted_by__username", flat=True)) == [
        "body_liaison",
        "body_liaison2",
        "body_liaison2",
    ]


def test_another_body_cannot_act_on_the_case(
    rule_sets, travel, body, city_gov, office, intake, reviewer, other_body_user, supervisor
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    for user in (other_body_user, supervisor, reviewer):
        with pytest.raises(PermissionDenied):
            svc.rectification_submit_plan(actor=user, case=case, text="x")


def test_refusal_is_confirmed_with_its_consequences(rule_sets, travel, body, city_gov, office, intake, reviewer):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    with pytest.raises(PermissionDenied):
        svc.rectification_confirm_refusal(actor=intake, case=case, reason="x", consequences=["honours"])
    svc.rectification_confirm_refusal(
        actor=reviewer, case=case, reason="逾期拒不报送整改方案。", consequences=["honours", "assessment"]
    )
    case.refresh_from_db()
    assert case.state == RectificationState.REFUSED
    assert_task_matches_state(case)  # the body's plan step is cancelled with the case
    assert case.record.display_state == DisplayState.DISPLAYED  # the record stays
    # The measures in the order of the list, each with its source, in the Chinese original.
    assert case.consequence_codes == ["assessment", "honours"]
    assert case.consequences == (
        "纳入政务诚信考核，作为综合评价的重要参考（《河南省社会信用条例》第五十四条）；"
        "取消年度评优评先资格（《郑州市社会信用体系建设“十四五”规划》专栏1）"
    )
    assert all(c.stopped_at for c in [clock_of(case, svc.PLAN), clock_of(case, svc.DEADLINE)])


def test_a_rejected_completion_goes_back_with_the_same_deadline(
    rule_sets, travel, body, city_gov, office, intake, reviewer, body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=case, text="完成")
    with pytest.raises(ValidationError):
        svc.rectification_check_completion(actor=reviewer, case=case, accepted=False)
    svc.rectification_check_completion(actor=reviewer, case=case, accepted=False, comment="尚欠二期款。")
    case.refresh_from_db()
    assert case.state == RectificationState.RECTIFYING
    assert_task_matches_state(case)  # back in the body's inbox
    deadline = clock_of(case, svc.DEADLINE)
    assert deadline.stopped_at is None and deadline.due_date == case.deadline


def test_only_platform_staff_enter_court_and_inspection_leads(
    rule_sets, travel, complainant, enterprise, body, office, intake
):
    with pytest.raises(PermissionDenied):
        new_case(actor=complainant, body=body, office=office, enterprise=enterprise, source="court")
    case = new_case(actor=intake, body=body, office=office, source="court")
    assert case.applicant is None and case.entered_by == intake


def test_reports_belong_to_the_case(rule_sets, travel, body, city_gov, office, intake, reviewer, body_user):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    report = svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    assert report.kind == RectificationReport.Kind.PLAN and report.case_id == case.pk
    with pytest.raises(ValidationError):
        svc.rectification_submit_plan(actor=body_user, case=case, text="第二份方案")


def test_each_step_is_routed_to_the_organisation_that_must_take_it(
    rule_sets,
    travel,
    complainant,
    enterprise,
    body,
    city_gov,
    office,
    intake,
    reviewer,
    body_user,
    city_user,
    other_body_user,
    handler,
):
    """The open task names the role and the organisation (cases.task_permissions): the credit office, then
    the verifier, then the body; officers of another organisation cannot take it."""
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    task = engine.open_task(case)
    assert task.owner_permission == "cases.act_platform" and task.owner_permission_obj_pk == str(office.pk)
    with pytest.raises(PermissionDenied):
        svc.rectification_forward(actor=handler, case=case, verifier=city_gov)
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    task = engine.open_task(case)
    assert task.owner_permission == "cases.act_verifier" and task.owner_permission_obj_pk == str(city_gov.pk)
    # A department that is not the verifier may not record the finding.
    with pytest.raises(PermissionDenied):
        svc.rectification_verify(actor=handler, case=case, substantiated=True, reason="x")
    assert_task_matches_state(case)
    svc.rectification_verify(actor=city_user, case=case, substantiated=True, reason="属实。")
    task = engine.open_task(case)
    assert task.owner_permission == "cases.act_gov_body" and task.owner_permission_obj_pk == str(body.pk)
    with pytest.raises(PermissionDenied):
        svc.rectification_submit_plan(actor=other_body_user, case=case, text="别的机构")
    assert_task_matches_state(case)


def test_a_step_done_twice_is_refused_and_the_task_stays_consistent(
    rule_sets, travel, body, city_gov, office, intake, reviewer, body_user, body_user2
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=case, text="完成")
    # A colleague's tab still shows the rectification step.
    with pytest.raises(ValidationError):
        svc.rectification_submit_completion(actor=body_user2, case=case, text="再次报送")
    assert_task_matches_state(case)
    # Should the state check be passed in a race, the engine still refuses the closed task.
    with pytest.raises(TaskConflict):
        engine.complete_task(case=case, node=RectificationFlow.rectify, user=body_user2, action=lambda: None)
    assert_task_matches_state(case)


def test_a_refusal_during_the_completion_check_ends_the_routing(
    rule_sets, travel, body, city_gov, office, intake, reviewer, body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=case, text="完成")
    svc.rectification_confirm_refusal(actor=reviewer, case=case, reason="整改材料不实。", consequences=["criticism"])
    assert assert_task_matches_state(case).state == RectificationState.REFUSED
    assert engine.process_for(case).status == PROCESS.CANCELED


# --- platform sync (DESIGN.md, "Integration with the credit platform") ------------------------------------
def _events(case):
    return {
        e.topic: e
        for e in OutboxEvent.objects.filter(aggregate_type="cases.rectificationcase", aggregate_id=str(case.pk))
    }


def test_the_substantiated_record_and_the_closing_go_to_the_platform(
    rule_sets, travel, body, city_gov, office, intake, reviewer, body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    events = _events(case)
    assert set(events) == {"rectification.recorded"}
    recorded = events["rectification.recorded"].payload
    assert recorded["record_id"] == case.record_id and recorded["organisation_uscc"] == body.uscc
    assert recorded["record_display_state"] == DisplayState.DISPLAYED and recorded["deadline"] == "2026-08-05"
    assert recorded["state"] == RectificationState.AWAITING_PLAN
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=case, text="完成")
    svc.rectification_check_completion(actor=reviewer, case=case, accepted=False, comment="未到位")
    assert set(_events(case)) == {"rectification.recorded"}  # a returned completion ends nothing
    svc.rectification_submit_completion(actor=body_user, case=case, text="已完成")
    svc.rectification_check_completion(actor=reviewer, case=case, accepted=True)
    closed = _events(case)["rectification.closed"]
    assert closed.payload["state"] == RectificationState.CLOSED
    assert closed.payload["record_display_state"] == DisplayState.REPAIRED
    assert topic_label("rectification.closed") == "政务失信整改销号"


def test_a_confirmed_refusal_goes_to_the_platform_with_its_consequences(
    rule_sets, travel, body, city_gov, office, intake, reviewer
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_confirm_refusal(actor=reviewer, case=case, reason="拒不报送方案。", consequences=["honours"])
    refused = _events(case)["rectification.refused"].payload
    assert refused["state"] == RectificationState.REFUSED
    assert refused["consequences"] == "取消年度评优评先资格（《郑州市社会信用体系建设“十四五”规划》专栏1）"
    assert refused["record_display_state"] == DisplayState.DISPLAYED


def test_a_lead_not_substantiated_reports_nothing(
    rule_sets, travel, complainant, enterprise, body, city_gov, office, intake, reviewer
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    svc.rectification_verify(actor=reviewer, case=case, substantiated=False, reason="不属实。")
    assert _events(case) == {}
