"""政务失信 (government dishonesty) rectification, every write: PROCEDURES.md §4.

Intake → forward for 核实认定 → not substantiated (reasoned reply) or substantiated (政务失信记录 against the
body's organisation + 限期整改通知书) → plan → progress reports → completion → verified → record repaired,
case closed; or 拒不整改 → confirmed 违约失信 with its consequences recorded.

Every step checks who may act, locks the case row, fires the FSM transition, starts/stops the legal clocks
(all limits are rule-set parameters), writes the timeline and the audit trail and requests its notice, in
one transaction. The body's steps are open to *any* active gov_body user of the body's organisation: the
case belongs to the organisation (优化营商环境条例 Art 31; seeds: 新官要理旧账).

The escalation ladder lives in cases.services.escalation (it works on any procedure's clocks).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cases import policy
from cases.models import Attachment, CaseActivity, Organisation, RecordKind, Role, Severity, Subject, SubjectKind
from cases.models.rectification import (
    COMPLAINT_SOURCES,
    RECTIFICATION_STATES,
    REFUSAL_CONSEQUENCE_CITATIONS,
    LeadSource,
    RectificationCase,
    RectificationReport,
    RectificationState,
    RefusalConsequence,
)
from cases.services.attachments import attachment_add
from cases.services.case_steps import case_activity as _activity
from cases.services.case_steps import case_audit, open_clock
from cases.services.case_steps import start_legal_clock as _start
from cases.services.case_steps import stop_open_clocks as _stop_all
from cases.services.outbox import outbox_enqueue
from cases.services.records import record_create, record_repair
from cases.services.sequences import sequence_next
from cases.services.submissions import submission_claim, submission_done
from cases.services.text import bounded
from notices.services import notice_request
from workflows import engine, rules
from workflows.calendar import get_calendar
from workflows.models import Clock
from workflows.procedures import procedure_flow
from workflows.services.clocks import clock_start, clock_stop
from workflows.texts import source_text

# Clock purposes on a rectification case (workflows.procedures registers the escalated ones).
FORWARD = "rectification.forward"
VERIFICATION = "rectification.verification"
PLAN = "rectification.plan"
PROGRESS = "rectification.progress"
DEADLINE = "rectification.deadline"


class RectificationError(ValidationError):
    """A step refused for a reason the person can act on."""


# --- helpers ----------------------------------------------------------------------------------------------
def _require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


def _lock(case: RectificationCase) -> RectificationCase:
    return (
        RectificationCase.objects.select_for_update(of=("self",))
        .select_related(
            "subject", "handling_organisation", "credit_office", "verifier", "rule_set", "applicant", "record"
        )
        .get(pk=case.pk)
    )


def _audit(case, action, actor, **data):
    case_audit(case, f"rectification.{action}", actor, **data)


def _stop(case, purpose, actor, reason):
    clock = open_clock(case, purpose)
    if clock is not None:
        clock_stop(clock=clock, actor=actor, reason=str(reason))


def _is_credit_office_staff(user, case) -> bool:
    return policy.is_platform(user) and policy.acting_organisation_id(user) == case.credit_office_id


def is_body_member(user, case) -> bool:
    """Any active gov_body user of the body's organisation — never a particular person."""
    return policy.is_gov_body(user) and policy.acting_organisation_id(user) == case.handling_organisation_id


def body_subject(body: Organisation) -> Subject:
    """The body's own credit subject (Subject.organisation): 政务失信记录 are kept against the organisation."""
    subject = Subject.objects.filter(organisation=body).first()
    if subject is None:
        if not body.uscc:
            raise RectificationError(
                _("被投诉机构尚未登记统一社会信用代码，无法建立政务失信记录主体。"), code="no_uscc"
            )
        subject = Subject.objects.create(
            kind=SubjectKind.GOVERNMENT_BODY, name=body.name, uscc=body.uscc, district=body.district, organisation=body
        )
    return subject


def _notice(case, *, kind, trigger, actor, addressee_subject=None, addressee_user=None, **context):
    return notice_request(
        case=case,
        kind=kind,
        trigger=trigger,
        issuer=case.credit_office,
        addressee_subject=addressee_subject,
        addressee_user=addressee_user,
        context={"matter": case.summary, "tracking_number": case.tracking_number, **context},
        actor=actor,
    )


def _tell_complainant(case: RectificationCase, actor, *, outcome: str) -> None:
    """The complainant learns how its complaint ended (整改到位销号, or 拒不整改 confirmed): leads from court
    records or inspections have no complainant to tell."""
    if case.complainant_subject_id is None and case.applicant_id is None:
        return
    _notice(
        case,
        kind="rectification_result",
        trigger=f"result_{outcome}",
        actor=actor,
        addressee_subject=case.complainant_subject,
        addressee_user=case.applicant,
        outcome=outcome,
        body_name=case.handling_organisation.name,
    )


def _sync(case: RectificationCase, actor, now: dt.datetime, topic: str, **extra) -> None:
    """Report to the city credit platform (DESIGN.md, "Integration with the credit platform"): the 政务失信记录
    once it is substantiated, and how the case ended. PROCEDURES.md §4 sets no limit for this report, so the
    event carries no legal clock (unlike the repair result's 3 WD)."""
    record = case.record
    outbox_enqueue(
        topic=topic,
        aggregate=case,
        dedupe_key=f"{topic}:{case.pk}",
        payload={
            "tracking_number": case.tracking_number,
            "state": case.state,
            "organisation": case.handling_organisation.name,
            "organisation_uscc": case.handling_organisation.uscc,
            "subject": case.subject.public_identifier,
            "matter": case.summary,
            "source": case.source,
            "record_id": case.record_id,
            "record_decision_number": record.decision_number if record else "",
            "record_display_state": record.display_state if record else "",
            "deadline": case.deadline.isoformat() if case.deadline else "",
            "at": now.isoformat(),
            **extra,
        },
        organisation=case.credit_office,
        actor=actor,
        occurred_at=now,
    )


def _expect(case: RectificationCase, states, message: str, code: str) -> None:
    """Refuse a step the case's legal state does not call for with the reason, before looking for its task
    (the locked re-check inside the step still decides a race; the loser gets the engine's TaskConflict)."""
    if not RectificationCase.objects.filter(pk=case.pk, state__in=states).exists():
        raise RectificationError(message, code=code)


def _step(case, node, actor, action, *, check_permission: bool = True):
    """Run ``action`` as the open ``node`` task of the case's RectificationFlow (workflows.engine): the open
    task and the legal state change in one transaction."""
    return engine.complete_task(case=case, node=node, user=actor, action=action, check_permission=check_permission)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- intake ---------------------------------------------------------------------------------------------------
def rectification_intake(
    *,
    actor,
    body: Organisation,
    source: str,
    summary: str,
    facts: str,
    credit_office: Organisation,
    complainant_subject: Subject | None = None,
    complainant_name: str = "",
    sme_payment: bool = False,
    amount: Decimal | None = None,
    received_at: dt.datetime | None = None,
    form_token: str = "",
) -> RectificationCase:
    """A lead comes in: a complaint (online by the enterprise, or entered by platform staff from 12345/信访),
    a court record or an inspection finding (platform staff only)."""
    if source not in LeadSource.values:
        raise RectificationError(_("线索来源无效。"), code="bad_source")
    online = policy.is_applicant(actor)
    if online:
        _require(
            source in COMPLAINT_SOURCES
            and complainant_subject is not None
            and policy.can_apply_for(actor, complainant_subject),
            _("您无权以该主体名义投诉。"),
        )
    else:
        _require(policy.is_platform(actor), _("只有信用中心工作人员可以录入政务失信线索。"))
    if body.kind != Organisation.Kind.GOVERNMENT_BODY or not body.is_active:
        raise RectificationError(_("被投诉对象必须是在册的政府机构。"), code="not_gov_body")
    if credit_office.kind != Organisation.Kind.CREDIT_CENTRE:
        raise RectificationError(_("受理机构必须是信用牵头部门。"), code="bad_office")
    if not summary.strip() or not facts.strip():
        raise RectificationError(_("请写明投诉事项和事实理由。"), code="no_facts")
    # Order 802 Art 25 applies to complaints about payments owed to SMEs (拖欠账款).
    if sme_payment and source != LeadSource.ARREARS:
        raise RectificationError(_("只有拖欠账款投诉适用中小企业款项支付投诉时限。"), code="sme_not_arrears")
    summary = bounded(summary, label=_("事项"), limit=200, error=RectificationError)
    facts = bounded(facts, label=_("事实和理由"), error=RectificationError)
    now = received_at or timezone.now()
    with transaction.atomic():
        # The same intake form sent twice (double click, two tabs) makes one case: AlreadySubmitted.
        claim = submission_claim(actor=actor, purpose="rectification.intake", token=form_token)
        subject = body_subject(body)
        rule_set = rules.ruleset_in_force(now)
        year = timezone.localtime(now).year
        case = RectificationCase.objects.create(
            subject=subject,
            applicant=actor if online else None,
            handling_organisation=body,
            rule_set=rule_set,
            received_at=now,
            source=source,
            sme_payment=sme_payment,
            complainant_subject=complainant_subject,
            complainant_name=(complainant_name or (complainant_subject.name if complainant_subject else ""))[:200],
            summary=summary.strip()[:200],
            facts=facts.strip(),
            amount=amount,
            entered_by=actor,
            credit_office=credit_office,
            tracking_number=f"ZW{year}{sequence_next(scope='tracking.rectification', year=year):06d}",
        )
        # 第一时间 ([cfg] 1 WD) — SME payment complaints: 10 WD of acceptance (Order 802 Art 25).
        key = rules.SME_FORWARD_WD if sme_payment else rules.RECTIFICATION_FORWARD_WD
        forward = _start(case, FORWARD, gettext_noop("转交核实期限"), key, credit_office, actor, now)
        case.received_on = forward.start_date
        case.save(update_fields=["received_on"])
        _activity(case, CaseActivity.Kind.SUBMITTED, actor, source_text(LeadSource(source).label))
        engine.start_process(procedure_flow("rectification"), case=case)
        _audit(case, "received", actor, source=source, body=body.pk, sme_payment=sme_payment, rule_set=rule_set.code)
        submission_done(claim, case)
    return case


def rectification_forward(*, actor, case: RectificationCase, verifier: Organisation) -> RectificationCase:
    """The credit office forwards the lead to the body's superior or competent department for 核实认定."""
    _require(_is_credit_office_staff(actor, case), _("只有受理的信用牵头部门可以转交。"))
    if (
        verifier.pk == case.handling_organisation_id
        or not verifier.is_active
        or verifier.kind not in (Organisation.Kind.DEPARTMENT, Organisation.Kind.GOVERNMENT_BODY)
    ):
        raise RectificationError(_("核实认定部门应为被投诉机构的上级或主管部门。"), code="bad_verifier")
    _expect(case, [RectificationState.SUBMITTED], _("该线索已转交。"), "not_submitted")
    return _step(case, procedure_flow("rectification").forward, actor, lambda: _forward(actor, case, verifier))


def _forward(actor, case, verifier):
    now = timezone.now()
    with transaction.atomic():
        case = _lock(case)
        if case.state != RectificationState.SUBMITTED:
            raise RectificationError(_("该线索已转交。"), code="not_submitted")
        case.forward()
        case.verifier = verifier
        case.forwarded_at = now
        case.save()
        _stop(case, FORWARD, actor, gettext_noop("已转交"))
        # Order 802 Art 25: a result within 30 days, extendable (with the head's approval) to at most 90.
        if case.sme_payment:
            cap = int(rules.rule_param(case.rule_set, rules.SME_MAX_DAYS)) - int(
                rules.rule_param(case.rule_set, rules.SME_RESULT_DAYS)
            )
            _start(
                case,
                VERIFICATION,
                gettext_noop("核实认定期限"),
                rules.SME_RESULT_DAYS,
                verifier,
                actor,
                now,
                extension_cap=max(cap, 0),
            )
        else:
            _start(
                case,
                VERIFICATION,
                gettext_noop("核实认定期限"),
                rules.RECTIFICATION_VERIFICATION_DAYS,
                verifier,
                actor,
                now,
            )
        _activity(case, CaseActivity.Kind.ROUTED, actor, gettext_noop("转交%(org)s核实认定") % {"org": verifier.name})
        _audit(case, "forwarded", actor, verifier=verifier.pk)
    return case


def may_record_verification(user, case) -> bool:
    """The verifier's own staff, or the credit office entering the verifier's written result."""
    org = policy.acting_organisation_id(user)
    if org is not None and org == case.verifier_id and (policy.is_department(user) or policy.is_gov_body(user)):
        return True
    return _is_credit_office_staff(user, case)


def rectification_verify(
    *,
    actor,
    case: RectificationCase,
    substantiated: bool,
    reason: str,
    deadline: dt.date | None = None,
    requirements: str = "",
    severity: str = Severity.ORDINARY,
) -> RectificationCase:
    """The verifier's finding. Not substantiated: a reasoned reply to the complainant. Substantiated: a
    政务失信记录 against the body's organisation, and 限期整改 with the 整改通知书."""
    if not reason.strip():
        raise RectificationError(_("请写明核实认定的事实和理由。"), code="no_reason")
    _expect(case, [RectificationState.VERIFYING], _("该线索不在核实认定环节。"), "not_verifying")
    # The task is routed to the verifier's staff; the credit office entering the verifier's written result
    # takes it on their behalf (who may record it at all is checked on the locked row below).
    return _step(
        case,
        procedure_flow("rectification").verification,
        actor,
        lambda: _verify(actor, case, substantiated, reason, deadline, requirements, severity),
        check_permission=not _is_credit_office_staff(actor, case),
    )


def _verify(actor, case, substantiated, reason, deadline, requirements, severity):
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        case = _lock(case)
        # Checked on the locked row: the verifier is set by the forwarding step.
        _require(may_record_verification(actor, case), _("您无权录入核实认定结果。"))
        if case.state != RectificationState.VERIFYING:
            raise RectificationError(_("该线索不在核实认定环节。"), code="not_verifying")
        case.verification_reason = bounded(reason, label=_("事实和理由"), error=RectificationError)
        case.verified_at = now
        if not substantiated:
            case.reject()
            case.closed_at = now
            case.save()
            _stop_all(case, actor, gettext_noop("不予认定"))
            _activity(case, CaseActivity.Kind.DECIDED, actor, gettext_noop("不予认定：%(r)s") % {"r": reason.strip()})
            addressee_subject = case.complainant_subject
            if addressee_subject is not None or case.applicant_id:
                _notice(
                    case,
                    kind="rectification_reply",
                    trigger="reply",
                    actor=actor,
                    reasons=reason.strip(),
                    addressee_subject=addressee_subject,
                    addressee_user=case.applicant,
                )
            _audit(case, "not_substantiated", actor, reason=reason)
            return case
        default_days = int(rules.rule_param(case.rule_set, rules.RECTIFICATION_DEADLINE_DAYS))
        cal = get_calendar()
        deadline = deadline or cal.calendar_day_deadline(today, default_days)
        if deadline <= today:
            raise RectificationError(_("整改期限必须晚于今天。"), code="bad_deadline")
        case.substantiate()
        case.deadline = deadline
        case.requirements = bounded(requirements, label=_("整改要求"), error=RectificationError)
        record = record_create(
            actor=actor,
            subject=case.subject,
            kind=RecordKind.GOVERNMENT_DISHONESTY,
            severity=severity,
            title=case.summary,
            provider=case.verifier or case.credit_office,
            decision_date=today,
            publication_date=today,
            decision_number=case.tracking_number,
            content=case.facts,
            legal_basis=str(_("《优化营商环境条例》第三十一条")),
            repairable=True,
        )
        case.record = record
        case.save()
        _stop(case, VERIFICATION, actor, gettext_noop("已认定"))
        body = case.handling_organisation
        plan = _start(case, PLAN, gettext_noop("整改方案报送期限"), rules.RECTIFICATION_PLAN_WD, body, actor, now)
        _start_deadline(case, actor, now, today, deadline)
        _activity(
            case,
            CaseActivity.Kind.DECIDED,
            actor,
            gettext_noop("认定为政务失信，限期整改至%(d)s") % {"d": _cn(deadline)},
        )
        _notice(
            case,
            kind="rectification_notice",
            trigger="notice",
            actor=actor,
            addressee_subject=case.subject,
            facts=case.facts,
            requirements=case.requirements,
            deadline=deadline.isoformat(),
            plan_by=plan.due_date.isoformat() if plan.due_date else "",
        )
        _sync(case, actor, now, "rectification.recorded", severity=record.severity)
        _audit(case, "substantiated", actor, record=record.pk, deadline=deadline)
    return case


def _start_deadline(case, actor, now, today, deadline):
    # The deadline is set per case (PROCEDURES.md §4 [cfg] default 30 days): a calendar-day clock of the
    # chosen length from today, moved past a holiday like every calendar-day limit.
    detail = rules.rule_param_detail(case.rule_set, rules.RECTIFICATION_DEADLINE_DAYS)
    return clock_start(
        case=case,
        purpose=DEADLINE,
        label=str(gettext_noop("整改期限")),
        budget=(deadline - today).days,
        unit=Clock.Unit.CALENDAR_DAYS,
        kind=Clock.Kind.LEGAL,
        received_at=today,
        organisation=case.handling_organisation,
        citation=detail.citation,
        actor=actor,
        start_rule=Clock.StartRule.IMMEDIATE,
    )


# --- the body's side ----------------------------------------------------------------------------------------
def _attach_evidence(actor, report: RectificationReport, evidence) -> None:
    """Files filed with a report, checked by content like every upload (cases.services.attachments)."""
    for uploaded in evidence:
        attachment_add(actor=actor, case=report, purpose=Attachment.Purpose.EVIDENCE, uploaded=uploaded)


def _body_step(actor, case):
    _require(is_body_member(actor, case), _("只有被整改机构的联络人可以报送。"))


def rectification_submit_plan(*, actor, case: RectificationCase, text: str, evidence=()) -> RectificationReport:
    _body_step(actor, case)
    if not text.strip():
        raise RectificationError(_("请填写整改方案。"), code="empty")
    _expect(case, [RectificationState.AWAITING_PLAN], _("当前不需要报送整改方案。"), "not_awaiting_plan")
    return _step(case, procedure_flow("rectification").plan, actor, lambda: _submit_plan(actor, case, text, evidence))


def _start_progress_clock(case, actor, now):
    _start(
        case,
        PROGRESS,
        gettext_noop("整改进展报送期限"),
        rules.RECTIFICATION_PROGRESS_INTERVAL_WD,
        case.handling_organisation,
        actor,
        now,
    )


# The state each kind of report is filed in, and the refusal when the case is no longer there.
_NOT_RECTIFYING = (RectificationState.RECTIFYING, gettext_lazy("当前不在整改环节。"), "not_rectifying")
_REPORT_STATES = {
    RectificationReport.Kind.PLAN: (
        RectificationState.AWAITING_PLAN,
        gettext_lazy("当前不需要报送整改方案。"),
        "not_awaiting_plan",
    ),
    RectificationReport.Kind.PROGRESS: _NOT_RECTIFYING,
    RectificationReport.Kind.COMPLETION: _NOT_RECTIFYING,
}


def _file_report(actor, case, kind, text, evidence):
    """Lock the case, re-check its state, record the body's report with its evidence: the part the plan,
    progress and completion reports share. The caller does the state change and clocks."""
    case = _lock(case)
    expected, refused, code = _REPORT_STATES[kind]
    if case.state != expected:
        raise RectificationError(refused, code=code)
    report = RectificationReport.objects.create(
        case=case, kind=kind, text=bounded(text, label=_("报送内容"), error=RectificationError), submitted_by=actor
    )
    _attach_evidence(actor, report, evidence)
    return case, report


def _submit_plan(actor, case, text, evidence):
    now = timezone.now()
    with transaction.atomic():
        case, report = _file_report(actor, case, RectificationReport.Kind.PLAN, text, evidence)
        case.submit_plan()
        case.save()
        _stop(case, PLAN, actor, gettext_noop("已报送整改方案"))
        _start_progress_clock(case, actor, now)
        _activity(case, CaseActivity.Kind.NOTE, actor, gettext_noop("报送整改方案"))
        _audit(case, "plan_submitted", actor, report=report.pk)
    return report


def rectification_report_progress(*, actor, case: RectificationCase, text: str, evidence=()) -> RectificationReport:
    """A progress report; the next one is due a full interval later ([cfg] every 10 WD)."""
    _body_step(actor, case)
    if not text.strip():
        raise RectificationError(_("请填写整改进展。"), code="empty")
    _expect(case, [RectificationState.RECTIFYING], _("当前不在整改环节。"), "not_rectifying")
    return _step(
        case, procedure_flow("rectification").rectify, actor, lambda: _report_progress(actor, case, text, evidence)
    )


def _report_progress(actor, case, text, evidence):
    now = timezone.now()
    with transaction.atomic():
        case, report = _file_report(actor, case, RectificationReport.Kind.PROGRESS, text, evidence)
        _stop(case, PROGRESS, actor, gettext_noop("已报送整改进展"))
        _start_progress_clock(case, actor, now)
        _activity(case, CaseActivity.Kind.NOTE, actor, gettext_noop("报送整改进展"))
        _audit(case, "progress_reported", actor, report=report.pk)
    return report


def rectification_submit_completion(*, actor, case: RectificationCase, text: str, evidence=()) -> RectificationReport:
    _body_step(actor, case)
    if not text.strip():
        raise RectificationError(_("请填写整改完成情况。"), code="empty")
    _expect(case, [RectificationState.RECTIFYING], _("当前不在整改环节。"), "not_rectifying")
    return _step(
        case, procedure_flow("rectification").rectify, actor, lambda: _submit_completion(actor, case, text, evidence)
    )


def _submit_completion(actor, case, text, evidence):
    with transaction.atomic():
        case, report = _file_report(actor, case, RectificationReport.Kind.COMPLETION, text, evidence)
        case.submit_completion()
        case.save()
        # The body has done its part: its clocks stop, so no escalation runs while the office checks.
        for purpose in (PROGRESS, DEADLINE):
            _stop(case, purpose, actor, gettext_noop("已报送整改完成情况"))
        _activity(case, CaseActivity.Kind.NOTE, actor, gettext_noop("报送整改完成情况"))
        _audit(case, "completion_submitted", actor, report=report.pk)
    return report


# --- the credit office's side -----------------------------------------------------------------------------
def rectification_check_completion(
    *, actor, case: RectificationCase, accepted: bool, comment: str = ""
) -> RectificationCase:
    """The credit office verifies the completion. Accepted: the record is repaired (the 认定部门 confirms
    correction — 发改财金〔2023〕1103号) and the case closes. Not accepted: back to rectification; the
    deadline clock runs again from where it stood (a late completion is still late)."""
    _require(_is_credit_office_staff(actor, case), _("只有信用牵头部门可以核验整改情况。"))
    if not accepted and not comment.strip():
        raise RectificationError(_("退回时请写明整改不到位的情况。"), code="no_comment")
    _expect(case, [RectificationState.COMPLETION_SUBMITTED], _("当前没有待核验的整改完成情况。"), "not_completion")
    return _step(
        case, procedure_flow("rectification").check, actor, lambda: _check_completion(actor, case, accepted, comment)
    )


def _check_completion(actor, case, accepted, comment):
    now = timezone.now()
    with transaction.atomic():
        case = _lock(case)
        if case.state != RectificationState.COMPLETION_SUBMITTED:
            raise RectificationError(_("当前没有待核验的整改完成情况。"), code="not_completion")
        if not accepted:
            case.return_completion()
            case.save()
            today = timezone.localdate(now)
            deadline = max(case.deadline, today) if case.deadline else today
            _start_deadline(case, actor, now, today, deadline)
            _start_progress_clock(case, actor, now)
            _activity(case, CaseActivity.Kind.RETURNED, actor, comment)
            _audit(case, "completion_returned", actor, comment=comment)
            return case
        case.close()
        case.completion_checked_at = now
        case.closed_at = now
        case.save()
        _stop_all(case, actor, gettext_noop("整改到位，销号"))
        if case.record_id:
            # The platform is told the record's new display state (the sync below reads it from the case).
            case.record = record_repair(
                actor=actor,
                record=case.record,
                reason=_("政务失信整改到位，经核验销号"),
                case_reference=case.tracking_number,
            )
        _activity(case, CaseActivity.Kind.EFFECTIVE, actor, comment or gettext_noop("整改到位，记录已修复"))
        _tell_complainant(case, actor, outcome="closed")
        _sync(case, actor, now, "rectification.closed")
        _audit(case, "closed", actor, comment=comment)
    return case


def consequence_lines(codes) -> list[str]:
    """The chosen measures as printed and reported: each with its source, in the Chinese legal original
    (stored text is never in the language of whoever acted)."""
    with translation.override("zh-hans"):
        return [f"{RefusalConsequence(code).label}（{REFUSAL_CONSEQUENCE_CITATIONS[code]}）" for code in codes]


def rectification_confirm_refusal(*, actor, case: RectificationCase, reason: str, consequences) -> RectificationCase:
    """拒不整改 → confirmed 违约失信 (1103号): the record stays, the measures chosen from RefusalConsequence are
    recorded on the case, the body receives the 拒不整改认定书 and the complainant is told how it ended."""
    _require(
        _is_credit_office_staff(actor, case) and actor.role == Role.PLATFORM_REVIEWER,
        _("认定拒不整改须由信用牵头部门审核员决定。"),
    )
    codes = [code for code in RefusalConsequence.values if code in set(consequences or ())]
    if not reason.strip() or not codes or len(codes) != len(set(consequences)):
        raise RectificationError(_("请写明拒不整改的事实，并从清单中选择适用的惩戒措施。"), code="no_reason")
    now = timezone.now()
    # Process lock first, then the case row (the order of engine.complete_task): a body submitting at the
    # same moment either wins or finds the case closed. The routing ends with the case.
    with engine.process_locked(case):
        case = _lock(case)
        if case.state not in RECTIFICATION_STATES:
            raise RectificationError(_("只有整改中的案件可以认定拒不整改。"), code="not_rectifying")
        case.confirm_refusal()
        case.refusal_reason = bounded(reason, label=_("拒不整改的事实"), error=RectificationError)
        case.consequence_codes = codes
        case.consequences = "；".join(consequence_lines(codes))
        case.closed_at = now
        case.save()
        _stop_all(case, actor, gettext_noop("认定拒不整改"))
        _activity(
            case,
            CaseActivity.Kind.DECIDED,
            actor,
            gettext_noop("认定拒不整改（违约失信）：%(r)s；惩戒措施：%(c)s")
            % {"r": reason.strip(), "c": case.consequences},
        )
        _notice(
            case,
            kind="rectification_refusal",
            trigger="refusal",
            actor=actor,
            addressee_subject=case.subject,
            reasons=case.refusal_reason,
            consequences=consequence_lines(codes),
        )
        _tell_complainant(case, actor, outcome="refused")
        _sync(case, actor, now, "rectification.refused", reason=case.refusal_reason, consequences=case.consequences)
        _audit(case, "refusal_confirmed", actor, reason=reason, consequences=codes)
        engine.cancel_process(case=case)
    return case
