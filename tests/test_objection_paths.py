# ruff: noqa: F811 — pytest fixtures imported from tests.test_repair_flow are requested by name
"""Objections (异议处理, PROCEDURES.md §2; 河南省社会信用条例 Art 41, 42, 28, 65) at service level: every path
and limit (one across the 2026 National Day holiday and its make-up Saturday), the 异议标注 mark and its
removal, field-level corrections, pauses, the late provider and 督办, 复核, permissions, notices (pdftotext)."""

import datetime as dt
import subprocess

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.test import Client
from viewflow.workflow.status import PROCESS

from cases.models import AuditEvent, CaseActivity, CreditRecord, DisplayState, RecordChange, Role
from cases.models.objection import ObjectionCase, ObjectionState
from cases.models.outbox import OutboxEvent
from cases.selectors.records import public_records_for_subject
from cases.services import objection as svc
from notices.models import Notice
from notices.services import notice_render
from tests.factories import UserFactory
from tests.test_repair_flow import eligible_record, storage, travel, upload  # noqa: F401
from workflows import engine
from workflows.models import Clock, ClockPause
from workflows.selectors import State, clock_status

D = dt.date

EXPECTED_NODE = {ObjectionState.SUBMITTED: "triage", ObjectionState.CHECKING: "provider_check"}


def clock_of(case, purpose) -> Clock | None:
    return (
        Clock.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk, purpose=purpose)
        .order_by("-id")
        .first()
    )


def notices_of(case, kind=None):
    qs = Notice.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk)
    return qs.filter(kind=kind) if kind else qs


def pdf_text(notice) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", notice.pdf.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return "".join(out.split())


def assert_task_matches_state(case) -> ObjectionCase:
    case.refresh_from_db()
    expected = "review" if case.is_review else EXPECTED_NODE.get(case.state)
    if case.state == ObjectionState.CLOSED:
        expected = None
    assert engine.open_node_name(case) == expected, case.state
    if expected is None:
        assert engine.process_for(case).status in (PROCESS.DONE, PROCESS.CANCELED)
    return case


def file(applicant, record, **kwargs):
    params = {
        "matter": "content",
        "disputed": {"decision_number": "郑市监罚〔2026〕12号"},
        "reason": "决定文书号录入错误，应以处罚决定书原件为准。",
        "contact_name": "赵六",
        "contact_phone": "13800000000",
        "uploads": [upload("decision.pdf")],
    }
    params.update(kwargs)
    return svc.objection_file(actor=applicant, record=record, **params)


@pytest.fixture
def filed(travel, storage, applicant, eligible_record, credit_centre):
    """Received Mon 2026-07-06 10:00: platform limit Thu 07-09 (3 WD)."""
    return file(applicant, eligible_record)


@pytest.fixture
def checking(filed, intake, travel):
    travel.to(2026, 7, 7)
    return svc.objection_send_check(actor=intake, case=filed, note="请核对处罚决定书原件")


# --- filing and the mark --------------------------------------------------------------------------------------
def test_filing_marks_the_record_for_everyone_including_anonymous_visitors(filed, eligible_record, client):
    case = assert_task_matches_state(filed)
    assert case.tracking_number.startswith("YY2026")
    assert case.state == ObjectionState.SUBMITTED and case.marked
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.UNDER_OBJECTION
    change = RecordChange.objects.get(record=record, field="display_state")
    assert (change.old_value, change.new_value, change.case_reference) == (
        "displayed",
        "objection",
        case.tracking_number,
    )
    assert record in public_records_for_subject(subject=record.subject)
    page = Client().get(f"/public/subjects/{record.subject.pk}/")
    assert page.status_code == 200 and "异议处理中" in page.content.decode()
    marked = OutboxEvent.objects.get(topic="objection.marked")
    assert marked.payload["display_state"] == "objection" and marked.payload["record_id"] == record.pk
    assert case.disputed == [
        {"field": "decision_number", "current": record.decision_number, "proposed": "郑市监罚〔2026〕12号"}
    ]
    assert case.attachments.count() == 1
    assert clock_of(case, svc.PLATFORM).due_date == D(2026, 7, 9)


def test_filing_needs_what_wrong_why_and_evidence(travel, storage, applicant, eligible_record, credit_centre):
    with pytest.raises(svc.ObjectionError) as error:
        file(applicant, eligible_record, disputed={}, reason=" ", uploads=[])
    messages = " ".join(error.value.messages)
    assert "理由" in messages and "证明材料" in messages and "至少选择一项" in messages
    with pytest.raises(svc.ObjectionError):
        file(applicant, eligible_record, disputed={"provider": "1"})
    with pytest.raises(svc.ObjectionError):
        file(applicant, eligible_record, matter="display_period", disputed={"title": "x"})
    assert not ObjectionCase.objects.exists()
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.DISPLAYED


def test_a_second_open_objection_on_the_same_record_is_refused(filed, applicant, eligible_record):
    with pytest.raises(svc.ObjectionError) as error:
        file(applicant, eligible_record)
    assert error.value.code == "already_open"


def test_another_enterprise_cannot_object_to_this_record(
    travel, storage, other_applicant, eligible_record, credit_centre
):
    with pytest.raises(PermissionDenied):
        file(other_applicant, eligible_record)


def test_objection_to_the_display_period_is_corrected_on_the_window(
    travel, storage, applicant, eligible_record, credit_centre, intake
):
    case = file(
        applicant,
        eligible_record,
        matter="display_period",
        disputed={"display_max_until": "2026-12-05"},
        reason="最长公示期应按轻微情形计算。",
    )
    svc.objection_decide(
        actor=intake,
        case=case,
        outcome="corrected",
        reason="平台归集时公示期限计算有误",
        changes={"display_max_until": "2026-12-05"},
    )
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_max_until == D(2026, 12, 5)
    assert record.display_state == DisplayState.DISPLAYED


# --- platform handles it itself (3 WD) -----------------------------------------------------------------------
def test_platform_corrects_its_own_error_within_three_working_days(filed, intake, travel, eligible_record):
    travel.to(2026, 7, 8)
    case = svc.objection_decide(
        actor=intake,
        case=filed,
        outcome="corrected",
        reason="平台归集时录入错误",
        changes={"decision_number": "郑市监罚〔2026〕12号"},
    )
    case = assert_task_matches_state(case)
    assert (case.state, case.outcome, case.route) == (ObjectionState.CLOSED, "corrected", "platform")
    platform = clock_of(case, svc.PLATFORM)
    assert platform.stopped_at is not None and platform.stopped_at <= platform.due_at
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.decision_number == "郑市监罚〔2026〕12号"
    assert record.display_state == DisplayState.DISPLAYED
    history = list(RecordChange.objects.filter(record=record).values_list("field", "old_value", "new_value"))
    assert history == [
        ("display_state", "displayed", "objection"),
        ("decision_number", eligible_record.decision_number, "郑市监罚〔2026〕12号"),
        ("display_state", "objection", "displayed"),
    ]
    event = OutboxEvent.objects.get(topic="objection.closed")
    assert event.payload["outcome"] == "corrected" and event.payload["display_state"] == "displayed"
    assert event.payload["changes"] == [
        {"field": "decision_number", "old": eligible_record.decision_number, "new": "郑市监罚〔2026〕12号"}
    ]
    [notice] = notices_of(case, "objection_result")
    assert notice.addressee_user_id == case.applicant_id and notice.issuer_id == case.handling_organisation_id


def test_a_correction_that_changes_nothing_is_refused(filed, intake, eligible_record):
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_decide(
            actor=intake,
            case=filed,
            outcome="corrected",
            reason="x",
            changes={"decision_number": eligible_record.decision_number},
        )
    assert error.value.code == "nothing_changed"
    assert assert_task_matches_state(filed).state == ObjectionState.SUBMITTED
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION


def test_the_platform_clock_runs_out_on_the_fourth_working_day(filed, travel):
    travel.to(2026, 7, 9, 23, 0)
    assert clock_status(clock_of(filed, svc.PLATFORM)).state == State.DUE_TODAY
    travel.to(2026, 7, 10, 9, 0)
    status = clock_status(clock_of(filed, svc.PLATFORM))
    assert status.state == State.OVERDUE


# --- routed to the provider (3 WD from the notice, 7 WD for the case) -------------------------------------
def test_sending_a_check_starts_the_provider_and_case_clocks(checking, storage):
    case = assert_task_matches_state(checking)
    assert case.state == ObjectionState.CHECKING and case.route == "provider"
    assert clock_of(case, svc.PLATFORM).stopped_at is not None
    assert clock_of(case, svc.PROVIDER).due_date == D(2026, 7, 10)  # 3 WD from Tue 07-07
    assert clock_of(case, svc.PROVIDER).organisation_id == case.provider_id
    assert clock_of(case, svc.CASE).due_date == D(2026, 7, 15)  # 7 WD from Mon 07-06
    [notice] = notices_of(case, "objection_check")
    notice = notice_render(notice_id=notice.pk)
    text = pdf_text(notice)
    assert "异议信息核查通知" in text and case.provider.name in text and "2026年7月10日" in text
    assert "郑市监罚〔2026〕12号" in text


def test_limits_across_the_2026_national_day_holiday_and_make_up_saturday(
    travel, storage, applicant, eligible_record, credit_centre, intake
):
    travel.to(2026, 9, 29)  # Tuesday before the holiday (10-01..10-07 off; Sat 10-10 is a working day)
    case = file(applicant, eligible_record)
    assert clock_of(case, svc.PLATFORM).due_date == D(2026, 10, 9)  # 09-30, 10-08, 10-09
    travel.to(2026, 9, 30)
    svc.objection_send_check(actor=intake, case=case)
    # The provider's 3 WD from 09-30: 10-08, 10-09 and the make-up Saturday 10-10.
    assert clock_of(case, svc.PROVIDER).due_date == D(2026, 10, 10)
    # The case's 7 WD from 09-29: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14.
    assert clock_of(case, svc.CASE).due_date == D(2026, 10, 14)
    travel.to(2026, 10, 11, 9, 0)  # Sunday after the make-up Saturday: the provider is late
    assert clock_status(clock_of(case, svc.PROVIDER)).state == State.OVERDUE
    assert clock_status(clock_of(case, svc.CASE)).state == State.RUNNING


def test_provider_corrects_fields_and_the_mark_comes_off(checking, handler, travel, eligible_record, storage):
    travel.to(2026, 7, 9)
    case = svc.objection_decide(
        actor=handler,
        case=checking,
        outcome="corrected",
        reason="经核对原件，文书号录入有误",
        changes={"decision_number": "郑市监罚〔2026〕12号", "severity": "minor"},
    )
    case = assert_task_matches_state(case)
    assert case.outcome == "corrected" and case.decided_by == handler
    assert not Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(case),
        object_id=case.pk,
        purpose__in=svc.CASE_PURPOSES,
        stopped_at__isnull=True,
    ).exists()
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert (record.decision_number, record.severity, record.display_state) == (
        "郑市监罚〔2026〕12号",
        "minor",
        DisplayState.DISPLAYED,
    )
    fields = set(
        RecordChange.objects.filter(record=record, case_reference=case.tracking_number).values_list("field", flat=True)
    )
    assert {"decision_number", "severity", "display_state"} <= fields
    notice = notice_render(notice_id=notices_of(case, "objection_result").get().pk)
    text = pdf_text(notice)
    assert "异议处理结果告知书" in text and "更正" in text and "郑市监罚〔2026〕12号" in text
    assert "复核" in text and "行政复议" in text and "异议标注已取消" in text
    # The anonymous public page no longer shows the mark.
    page = Client().get(f"/public/subjects/{record.subject.pk}/").content.decode()
    assert "异议处理中" not in page


def test_provider_revokes_and_the_record_leaves_the_public_site(checking, handler, eligible_record, storage):
    case = svc.objection_decide(actor=handler, case=checking, outcome="revoked", reason="处罚决定已被复议机关撤销")
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.REVOKED
    assert record not in public_records_for_subject(subject=record.subject)
    event = OutboxEvent.objects.get(topic="objection.closed")
    assert event.payload["display_state"] == "revoked"
    # Art 42: a legal clock of 1 WD on reporting the revocation.
    assert event.clock.budget == 1 and event.clock.citation.startswith("河南省社会信用条例第四十二条")
    text = pdf_text(notice_render(notice_id=notices_of(case, "objection_result").get().pk))
    assert "撤销" in text and "不再公示" in text


def test_provider_maintains_with_reasons(checking, handler, eligible_record):
    with pytest.raises(svc.ObjectionError):
        svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="")
    case = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="经核查，信息准确无误")
    assert case.outcome == "maintained"
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.DISPLAYED
    assert record.decision_number == eligible_record.decision_number


def test_only_the_provider_department_may_verify(checking, other_handler, intake, applicant, supervisor):
    for actor in (other_handler, intake, applicant, supervisor):
        with pytest.raises(PermissionDenied):
            svc.objection_decide(actor=actor, case=checking, outcome="maintained", reason="无误")
    assert assert_task_matches_state(checking).state == ObjectionState.CHECKING


def test_only_platform_staff_triage(filed, handler, applicant):
    for actor in (handler, applicant):
        with pytest.raises(PermissionDenied):
            svc.objection_send_check(actor=actor, case=filed)
        with pytest.raises(PermissionDenied):
            svc.objection_decide(actor=actor, case=filed, outcome="maintained", reason="x")


def test_a_check_cannot_be_sent_twice(checking, intake):
    with pytest.raises(engine.TaskConflict):
        svc.objection_send_check(actor=intake, case=checking)


# --- pauses ------------------------------------------------------------------------------------------------
def test_an_expert_review_pause_moves_the_limits_and_is_explained(checking, handler, travel):
    travel.to(2026, 7, 8)
    with pytest.raises(svc.ObjectionError):
        svc.objection_pause(actor=handler, case=checking, reason_code="supplement", reason="等材料")
    svc.objection_pause(actor=handler, case=checking, reason_code="expert_review", reason="委托专家评审检测报告")
    provider, whole = clock_of(checking, svc.PROVIDER), clock_of(checking, svc.CASE)
    assert provider.is_paused and whole.is_paused
    status = clock_status(provider)
    assert status.state == State.PAUSED and status.remaining == 2  # 07-08 counted: 1 of 3 used
    assert "专家评审" in status.explanation
    travel.to(2026, 7, 14)
    svc.objection_resume(actor=handler, case=checking)
    provider, whole = clock_of(checking, svc.PROVIDER), clock_of(checking, svc.CASE)
    # 07-09..07-14 (4 working days) not counted: provider 07-10 → 07-16, case 07-15 → 07-21.
    assert provider.due_date == D(2026, 7, 16)
    assert whole.due_date == D(2026, 7, 21)
    pause = ClockPause.objects.filter(clock=provider).get()
    assert (pause.paused_on, pause.resumed_on, pause.reason_code) == (D(2026, 7, 8), D(2026, 7, 14), "expert_review")
    assert checking.activities.filter(kind=CaseActivity.Kind.NOTE, text__contains="专家评审").exists()


def test_another_department_cannot_pause(checking, other_handler, applicant):
    for actor in (other_handler, applicant):
        with pytest.raises(PermissionDenied):
            svc.objection_pause(actor=actor, case=checking, reason_code="testing", reason="检验")


# --- late provider: overdue, supervisor, 督办; never auto-decided ------------------------------------------
def test_a_late_provider_is_supervised_and_nothing_is_decided_for_it(
    checking, supervisor, intake, travel, storage, eligible_record, handler
):
    with pytest.raises(svc.ObjectionError) as error:
        svc.objection_supervise(actor=supervisor, case=checking)
    assert error.value.code == "not_overdue"
    travel.to(2026, 7, 13, 9, 0)  # provider due Fri 07-10: Monday 07-13 is 1 working day late
    from cases.selectors import objection as sel

    overdue = sel.overdue_objections(user=supervisor)
    assert [c.pk for c in overdue] == [checking.pk]
    assert overdue[0].late.clock.purpose == svc.PROVIDER and overdue[0].late.overdue_working_days == 1
    with pytest.raises(PermissionDenied):
        svc.objection_supervise(actor=intake, case=checking)
    notice = svc.objection_supervise(actor=supervisor, case=checking, note="请于两个工作日内办结")
    assert notice.issuer_id == supervisor.organisation_id
    text = pdf_text(notice_render(notice_id=notice.pk))
    assert "异议核查督办通知书" in text and checking.provider.name in text and "逾期1个工作日" in text
    checking.refresh_from_db()
    assert checking.state == ObjectionState.CHECKING and checking.outcome == ""
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION
    # The provider still decides, late: the clock records it as late.
    case = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    provider = clock_of(case, svc.PROVIDER)
    assert provider.stopped_at > provider.due_at


# --- review (复核) ------------------------------------------------------------------------------------------
def test_review_is_a_linked_case_with_its_own_limit_by_another_reviewer(
    checking, handler, applicant, reviewer, intake, travel, eligible_record, storage, credit_centre
):
    first = svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    travel.to(2026, 7, 13)
    review = svc.objection_request_review(
        actor=applicant, case=first, reason="处罚决定书原件与公示不一致", uploads=[upload()]
    )
    review = assert_task_matches_state(review)
    assert review.review_of == first and review.tracking_number.startswith("FH2026")
    assert clock_of(review, svc.REVIEW).due_date == D(2026, 8, 3)  # 15 WD from Mon 07-13
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION
    with pytest.raises(svc.ObjectionError):
        svc.objection_request_review(actor=applicant, case=first, reason="再次")
    with pytest.raises(PermissionDenied):
        svc.objection_decide(actor=intake, case=review, outcome="revoked", reason="x")
    same_officer = UserFactory(username="reviewer2", role=Role.PLATFORM_REVIEWER, organisation=credit_centre)
    first.decided_by = same_officer
    first.save(update_fields=["decided_by"])
    with pytest.raises(PermissionDenied):
        svc.objection_decide(actor=same_officer, case=review, outcome="revoked", reason="x")
    review = svc.objection_decide(
        actor=reviewer,
        case=review,
        outcome="corrected",
        reason="复核认定文书号有误",
        changes={"decision_number": "郑市监罚〔2026〕12号"},
    )
    assert assert_task_matches_state(review).outcome == "corrected"
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.DISPLAYED
    assert OutboxEvent.objects.filter(topic="objection.review_closed").exists()
    text = pdf_text(notice_render(notice_id=notices_of(review, "objection_result").get().pk))
    assert "复核" in text and first.tracking_number in text


def test_review_only_after_the_objection_ends(filed, applicant, other_applicant):
    with pytest.raises(svc.ObjectionError):
        svc.objection_request_review(actor=applicant, case=filed, reason="不服")
    with pytest.raises(PermissionDenied):
        svc.objection_request_review(actor=other_applicant, case=filed, reason="不服")


def test_every_step_is_audited(checking, handler):
    svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    actions = set(AuditEvent.objects.filter(action__startswith="objection.").values_list("action", flat=True))
    assert {"objection.filed", "objection.check_sent", "objection.decided"} <= actions
    assert AuditEvent.objects.filter(action="record.mark_objection").exists()
    assert AuditEvent.objects.filter(action="record.clear_objection").exists()
