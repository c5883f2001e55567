"""异议处理 (objections), every write: PROCEDURES.md §2; 河南省社会信用条例 Art 41, 42, 28, 65.

Each service checks who may act, locks the case row, fires the FSM transition, starts/pauses/stops the
clocks the law attaches to the step, changes the record through cases.services.records (mark, correction
field by field, revocation — each in the record's history), writes the timeline and the audit trail, and
requests the notice and the platform-sync event, all in one transaction. Routed steps run inside
workflows.engine.complete_task so the viewflow task completes with them.

Never an automatic decision: a late provider makes the case overdue and lets the supervisor send a 督办
notice (Art 65: 责令改正); the outcome is always decided by a person.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import policy
from cases.models import CaseActivity, CreditRecord, DisplayState, Organisation, Role
from cases.models.attachments import Attachment
from cases.models.messages import MessageKind
from cases.models.objection import (
    OBJECTABLE_FIELDS,
    ObjectionCase,
    ObjectionMatter,
    ObjectionOutcome,
    ObjectionRoute,
    ObjectionStage,
    ObjectionState,
)
from cases.services.attachments import attachment_add
from cases.services.case_steps import case_activity as _activity
from cases.services.case_steps import case_audit
from cases.services.case_steps import start_legal_clock as _start_clock
from cases.services.messages import message_case_event
from cases.services.outbox import outbox_enqueue
from cases.services.records import (
    record_clear_objection,
    record_mark_objection,
    record_revoke,
    record_update_fields,
)
from cases.services.sequences import sequence_next
from cases.services.text import bounded
from notices.models import Notice
from notices.services import notice_request
from workflows import engine, rules
from workflows.calendar import get_calendar
from workflows.models import Clock, ClockPause
from workflows.procedures import procedure_flow
from workflows.selectors import clock_status
from workflows.services.clocks import clock_pause, clock_resume, clock_stop
from workflows.texts import source_text

# Clock purposes on an objection case.
PLATFORM = "objection.platform"  # Art 41: own-scope objection, 3 WD from receipt
PROVIDER = "objection.provider"  # Art 41: provider's check, 3 WD from the 核查通知
CASE = "objection.case"  # Art 41: whole case when a check is needed, 7 WD from receipt
REVIEW = "objection.review"  # Art 28: 复核, rule set parameter
CASE_PURPOSES = (PLATFORM, PROVIDER, CASE, REVIEW)

# Art 41 para 3: only these are excluded from the time limits (not 补正: the law gives no such pause here).
PAUSE_REASONS = (
    ClockPause.Reason.TESTING,
    ClockPause.Reason.INSPECTION,
    ClockPause.Reason.QUARANTINE,
    ClockPause.Reason.APPRAISAL,
    ClockPause.Reason.EXPERT_REVIEW,
)

# Who reviews (Art 28 names the provincial credit authority). The platform has no provincial organisation;
# the review is recorded by the credit centre's reviewer role, acting for it, and never by the officer who
# took the first decision.
REVIEW_ROLE = Role.PLATFORM_REVIEWER


class ObjectionError(ValidationError):
    """A step refused for a reason the person can act on (shown as is, bilingual)."""


def _require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


def credit_centre() -> Organisation:
    """The platform (信用信息共享平台) that receives objections: the active credit centre."""
    org = Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).order_by("pk").first()
    if org is None:
        raise ObjectionError(_("系统尚未配置信用中心，暂不能受理异议。"), code="no_platform")
    return org


def field_label(name: str) -> str:
    return str(CreditRecord._meta.get_field(name).verbose_name)


def _field_value(record: CreditRecord, name: str) -> str:
    return CreditRecord._meta.get_field(name).value_to_string(record)


def field_display(name: str, value) -> str:
    """A stored record value as a reader sees it: choice codes by their label, yes/no in words (the codes
    stay in the case; this is only what is shown)."""
    if value in (None, ""):
        return ""
    field = CreditRecord._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return str(_("是"))
        if text in ("false", "0"):
            return str(_("否"))
    return str(value)


def disputed_text(case: ObjectionCase) -> list[str]:
    lines = []
    for item in case.disputed:
        lines.append(
            _("%(label)s：现为“%(current)s”，申请人认为应为“%(proposed)s”")
            % {
                "label": field_label(item["field"]),
                "current": field_display(item["field"], item.get("current")) or "—",
                "proposed": field_display(item["field"], item.get("proposed")) or "—",
            }
        )
    return lines or [_("（申请人未指明具体字段，见异议理由）")]


# --- helpers -----------------------------------------------------------------------------------------------
def _lock(case: ObjectionCase) -> ObjectionCase:
    return (
        ObjectionCase.objects.select_for_update(of=("self",))
        .select_related("record", "subject", "handling_organisation", "provider", "applicant", "rule_set", "review_of")
        .get(pk=case.pk)
    )


def _audit(case, action, actor, **data):
    case_audit(case, f"objection.{action}", actor, **data)


def _clocks(case, *, open_only=True):
    qs = Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(case), object_id=case.pk, purpose__in=CASE_PURPOSES
    )
    if open_only:
        qs = qs.filter(stopped_at__isnull=True)
    return qs.order_by("pk")


def _clock(case, purpose) -> Clock | None:
    return _clocks(case).filter(purpose=purpose).first()


def _stop_clocks(case, actor, reason, purposes=CASE_PURPOSES):
    for clock in _clocks(case).filter(purpose__in=purposes):
        clock_stop(clock=clock, actor=actor, reason=reason)


def _receive(case, actor, now, reason, uploads, purpose, label, key) -> None:
    """What receiving an objection or a 复核 does once its row exists: the evidence filed with it, its time
    limit from receipt (the case's received_on is the limit's day 0), the record's mark and the timeline."""
    for uploaded in uploads:
        attachment_add(actor=actor, case=case, purpose=Attachment.Purpose.EVIDENCE, uploaded=uploaded)
    clock = _start_clock(case, purpose, label, key, case.handling_organisation, actor, now)
    case.received_on = clock.start_date
    case.save(update_fields=["received_on"])
    _mark(case, actor)
    _activity(case, CaseActivity.Kind.SUBMITTED, actor, reason)


def _tracking_number(now: dt.datetime, stage: str) -> str:
    year = timezone.localtime(now).year
    prefix, scope = (
        ("FH", "tracking.objection_review") if stage == ObjectionStage.REVIEW else ("YY", "tracking.objection")
    )
    return f"{prefix}{year}{sequence_next(scope=scope, year=year):06d}"


def _notice_base(case: ObjectionCase) -> dict:
    return {
        "tracking_number": case.tracking_number,
        "received_on": case.received_on.isoformat() if case.received_on else "",
        "record_title": case.record.title,
        "record_decision_number": case.record.decision_number,
        "subject_name": case.subject.name,
        "matter": ObjectionMatter(case.matter).label,
    }


def _mark(case: ObjectionCase, actor) -> None:
    """Art 41: on receipt the platform marks the record 异议处理中, wherever it is displayed, until the
    case ends. Only a displayed record can carry the mark (a repaired or revoked one is not displayed)."""
    record = CreditRecord.objects.get(pk=case.record_id)
    if record.display_state == DisplayState.DISPLAYED:
        record_mark_objection(
            actor=actor, record=record, reason=_("收到异议申请，作出异议标注"), case_reference=case.tracking_number
        )
        case.marked = True
        case.save(update_fields=["marked"])
    outbox_enqueue(
        topic="objection.marked",
        aggregate=case,
        dedupe_key=f"objection.marked:{case.pk}",
        payload={
            "tracking_number": case.tracking_number,
            "record_id": case.record_id,
            "record_decision_number": case.record.decision_number,
            "subject": case.subject.public_identifier,
            "display_state": DisplayState.UNDER_OBJECTION if case.marked else record.display_state,
            "marked": case.marked,
        },
        organisation=case.handling_organisation,
        actor=actor,
    )


# --- the applicant's side ------------------------------------------------------------------------------------
def objection_file(
    *,
    actor,
    record: CreditRecord,
    matter: str,
    disputed: dict[str, str],
    reason: str,
    contact_name: str,
    contact_phone: str,
    uploads=(),
    repair_application=None,
) -> ObjectionCase:
    """File an objection (Art 41): tracking number, rule set pinned, mark, clock, routed to the platform.

    ``disputed`` maps a record field to what the applicant says it should be; ``uploads`` are evidence files.
    """
    subject = record.subject
    _require(policy.can_apply_for(actor, subject, "objection"), _("您无权为该主体提出异议。"))
    if matter not in ObjectionMatter.values:
        raise ObjectionError(_("异议事项无效。"), code="bad_matter")
    reason = bounded(reason, label=_("理由"), error=ObjectionError)
    problems = []
    if not reason:
        problems.append(_("请说明异议理由。"))
    if not (contact_name or "").strip() or not (contact_phone or "").strip():
        problems.append(_("请填写联系人和联系电话。"))
    bad = sorted(set(disputed) - set(OBJECTABLE_FIELDS))
    if bad:
        problems.append(_("不能对以下字段提出异议：%(fields)s") % {"fields": "、".join(bad)})
    if matter == ObjectionMatter.CONTENT and not disputed:
        problems.append(_("请至少选择一项有误的内容，并写明应为何值。"))
    if matter == ObjectionMatter.DISPLAY_PERIOD and not {"display_min_until", "display_max_until"} & set(disputed):
        problems.append(_("对公示期限提出异议的，请写明最短或最长公示期届满日应为何日。"))
    if matter == ObjectionMatter.REPAIR_RESULT:
        if repair_application is None or repair_application.record_id != record.pk:
            problems.append(_("请选择该信息的信用修复办件。"))
        elif repair_application.is_open or not repair_application.closed_at:
            problems.append(_("该信用修复申请尚未办结，不能对其结果提出异议。"))
    if not uploads:
        problems.append(_("请上传证明材料（《河南省社会信用条例》第四十一条）。"))
    if problems:
        raise ObjectionError(problems, code="invalid")
    now = timezone.now()
    with transaction.atomic():
        # Serialises two objections to the same record: the second sees the first and is refused.
        CreditRecord.objects.select_for_update().filter(pk=record.pk).first()
        if ObjectionCase.objects.filter(
            record=record, state__in=[ObjectionState.SUBMITTED, ObjectionState.CHECKING]
        ).exists():
            raise ObjectionError(_("该信息已有正在处理的异议，请勿重复提出。"), code="already_open")
        rule_set = rules.ruleset_in_force(now)
        case = ObjectionCase.objects.create(
            subject=subject,
            applicant=actor,
            handling_organisation=credit_centre(),
            record=record,
            provider=record.provider,
            matter=matter,
            repair_application=repair_application,
            disputed=[
                {"field": name, "current": _field_value(record, name), "proposed": str(value).strip()}
                for name, value in disputed.items()
                if name in OBJECTABLE_FIELDS
            ],
            reason=reason,
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            rule_set=rule_set,
            received_at=now,
            tracking_number=_tracking_number(now, ObjectionStage.OBJECTION),
        )
        _receive(case, actor, now, reason, uploads, PLATFORM, gettext_noop("平台处理期限"), rules.OBJECTION_PLATFORM_WD)
        engine.start_process(procedure_flow("objection"), case=case)
        _audit(
            case,
            "filed",
            actor,
            record=record.pk,
            matter=matter,
            fields=sorted(disputed),
            rule_set=rule_set.code,
            marked=case.marked,
        )
    return case


def result_delivered_on(case: ObjectionCase) -> dt.date | None:
    """The day the 异议处理结果告知书 was delivered (issued on the platform = delivered), or None while it is
    not. A correcting notice that superseded the first counts from its own delivery."""
    delivered_at = (
        Notice.objects.filter(
            content_type=ContentType.objects.get_for_model(case),
            object_id=case.pk,
            kind="objection_result",
            status=Notice.Status.ISSUED,
            delivered_at__isnull=False,
        )
        .order_by("-delivered_at")
        .values_list("delivered_at", flat=True)
        .first()
    )
    return timezone.localdate(delivered_at) if delivered_at else None


def _review_request_period(case: ObjectionCase) -> rules.Param | None:
    # A rule set loaded before the parameter existed has no period: the request stays open, as before.
    try:
        return rules.rule_param_detail(case.rule_set, rules.OBJECTION_REVIEW_REQUEST_WD)
    except rules.RuleParameterMissing:
        return None


def review_request_last_day(case: ObjectionCase) -> dt.date | None:
    """The last day on which 复核 may be asked: ``objection.review_request_wd`` of the case's rule set,
    counted from the delivery of the result (delivery day is day 0). The law (Art 28, 41) names no period,
    so the value is the platform's [cfg]. None while the result is not delivered: the period has not begun."""
    delivered = result_delivered_on(case)
    if delivered is None:
        return None
    detail = _review_request_period(case)
    if detail is None:
        return None
    cal = get_calendar()
    if detail.unit == Clock.Unit.CALENDAR_DAYS:
        return cal.calendar_day_deadline(delivered, int(detail.value))
    return cal.add_working_days(delivered, int(detail.value))


def objection_request_review(*, actor, case: ObjectionCase, reason: str, uploads=()) -> ObjectionCase:
    """复核 (Art 28): an applicant who still disagrees asks for review; a linked case with its own limit.

    The record carries the 异议标注 again while the review runs: the dispute is not over."""
    _require(policy.can_apply_for(actor, case.subject, "objection"), _("您无权为该主体申请复核。"))
    reason = bounded(reason, label=_("理由"), error=ObjectionError)
    if not reason:
        raise ObjectionError(_("请说明申请复核的理由。"), code="no_reason")
    now = timezone.now()
    with transaction.atomic():
        original = _lock(case)
        if original.is_review:
            raise ObjectionError(_("复核结果为最终处理结果，不能再次申请复核。"), code="is_review")
        if original.state == ObjectionState.WITHDRAWN:
            raise ObjectionError(
                _("该异议已撤回，没有处理结果可供复核；如仍有异议，可以重新提出异议申请。"), code="withdrawn"
            )
        if original.state != ObjectionState.CLOSED:
            raise ObjectionError(_("异议尚在处理中，办结后方可申请复核。"), code="not_closed")
        if ObjectionCase.objects.filter(review_of=original).exists():
            raise ObjectionError(_("已申请过复核，请勿重复申请。"), code="already_reviewed")
        last_day = review_request_last_day(original)
        if last_day is not None and timezone.localdate(now) > last_day:
            raise ObjectionError(
                _(
                    "申请复核的期限已过：异议处理结果告知书于%(delivered)s送达，最后一日为%(last_day)s。"
                    "如有新的证据，可以重新提出异议申请。"
                )
                % {"delivered": result_delivered_on(original).isoformat(), "last_day": last_day.isoformat()},
                code="review_period_over",
            )
        if ObjectionCase.objects.filter(
            record_id=original.record_id, state__in=[ObjectionState.SUBMITTED, ObjectionState.CHECKING]
        ).exists():
            raise ObjectionError(_("该信息已有正在处理的异议。"), code="already_open")
        rule_set = rules.ruleset_in_force(now)
        review = ObjectionCase.objects.create(
            stage=ObjectionStage.REVIEW,
            review_of=original,
            subject=original.subject,
            applicant=actor,
            handling_organisation=original.handling_organisation,
            record=original.record,
            provider=original.provider,
            matter=original.matter,
            repair_application=original.repair_application,
            disputed=original.disputed,
            reason=reason,
            contact_name=original.contact_name,
            contact_phone=original.contact_phone,
            rule_set=rule_set,
            received_at=now,
            tracking_number=_tracking_number(now, ObjectionStage.REVIEW),
        )
        _receive(review, actor, now, reason, uploads, REVIEW, gettext_noop("复核期限"), rules.OBJECTION_REVIEW_WD)
        _activity(
            original,
            CaseActivity.Kind.NOTE,
            actor,
            gettext_noop("申请人申请复核，复核办件编号：%(number)s") % {"number": review.tracking_number},
        )
        engine.start_process(procedure_flow("objection"), case=review)
        _audit(review, "review_requested", actor, original=original.tracking_number, rule_set=rule_set.code)
    return review


def objection_withdraw(*, actor, case: ObjectionCase, reason: str = "") -> ObjectionCase:
    """The applicant withdraws an open objection (or 复核) before the outcome.

    The objection is the applicant's to pursue: withdrawn, nothing is decided, the 异议标注 comes off (in the
    record's history, with the reason), every limit stops, the routing is cancelled and the city platform is
    told the mark is gone. A withdrawn objection may be filed again later: that is a new case, with its own
    tracking number, limits and mark (the one-open-objection rule only counts open cases).
    """
    _require(policy.can_apply_for(actor, case.subject, "objection"), _("您无权撤回该异议。"))
    reason = bounded(reason, label=_("理由"), error=ObjectionError)
    # Process lock first, then the case row: the order of engine.complete_task (no deadlock with a step).
    with engine.process_locked(case):
        c = _lock(case)
        if not c.is_open:
            raise ObjectionError(
                _("当前状态为“%(state)s”，不能撤回。") % {"state": c.get_state_display()}, code="not_open"
            )
        what = _("申请人撤回复核申请") if c.is_review else _("申请人撤回异议")
        text = f"{what}：{reason}" if reason else str(what)
        now = timezone.now()
        c.withdraw()
        c.closed_at = now
        c.save()
        record = CreditRecord.objects.get(pk=c.record_id)
        if c.marked and record.display_state == DisplayState.UNDER_OBJECTION:
            record = record_clear_objection(actor=actor, record=record, reason=text, case_reference=c.tracking_number)
        _stop_clocks(c, actor, str(what))
        engine.cancel_process(case=c)
        _activity(c, CaseActivity.Kind.WITHDRAWN, actor, reason)
        outbox_enqueue(
            topic="objection.withdrawn",
            aggregate=c,
            dedupe_key=f"objection.withdrawn:{c.pk}",
            payload={
                "tracking_number": c.tracking_number,
                "record_id": c.record_id,
                "record_decision_number": record.decision_number,
                "subject": c.subject.public_identifier,
                "display_state": record.display_state,
                "withdrawn_at": now.isoformat(),
            },
            organisation=c.handling_organisation,
            actor=actor,
            occurred_at=now,
        )
        _audit(c, "withdrawn", actor, reason=reason, record_state=record.display_state)
    return c


# --- the platform's triage ---------------------------------------------------------------------------------
def objection_send_check(*, actor, case: ObjectionCase, note: str = "") -> ObjectionCase:
    """Art 41: the platform sends a 核查通知 to the provider, which has 3 WD from the notice; the case clock
    (7 WD from receipt) runs meanwhile."""
    _require(policy.is_platform(actor), _("只有信用中心工作人员可以分办异议。"))

    def action():
        c = _lock(case)
        c.send_check()
        now = timezone.now()
        c.route = ObjectionRoute.PROVIDER
        c.check_note = bounded(note, label=_("核查说明"), error=ObjectionError)
        c.check_sent_at = now
        c.save()
        platform = _clock(c, PLATFORM)
        if platform:
            clock_stop(clock=platform, actor=actor, reason=gettext_noop("已发出核查通知"))
        whole = _start_clock(
            c,
            CASE,
            gettext_noop("异议办理期限（含核查）"),
            rules.OBJECTION_CASE_WD,
            c.handling_organisation,
            actor,
            c.received_at,
        )
        check = _start_clock(
            c, PROVIDER, gettext_noop("信息提供单位核查期限"), rules.OBJECTION_PROVIDER_CHECK_WD, c.provider, actor, now
        )
        _activity(
            c,
            CaseActivity.Kind.ROUTED,
            actor,
            gettext_noop("向%(org)s发出核查通知，请于%(day)s前处理完毕")
            % {"org": c.provider.name, "day": check.due_date.isoformat()},
        )
        notice_request(
            case=c,
            kind="objection_check",
            trigger="check",
            issuer=c.handling_organisation,
            # The 核查通知 is the credit centre's letter to the information provider (Henan Art 41), not a
            # document for the objecting subject: it goes to the provider's notice inbox.
            addressee_organisation=c.provider,
            context={
                **_notice_base(c),
                "addressee_name": c.provider.name,
                "provider_name": c.provider.name,
                "check_by": check.due_date.isoformat(),
                "case_due": whole.due_date.isoformat(),
                "disputed_text": disputed_text(c),
                "objection_reason": c.reason,
                "check_note": c.check_note,
            },
            actor=actor,
        )
        _audit(c, "check_sent", actor, provider=c.provider_id, check_due=check.due_date, case_due=whole.due_date)
        return c

    return engine.complete_task(case=case, node=procedure_flow("objection").triage, user=actor, action=action)


# --- decisions ---------------------------------------------------------------------------------------------------
def _node_for(case: ObjectionCase):
    if case.is_review:
        return procedure_flow("objection").review
    if case.state == ObjectionState.CHECKING:
        return procedure_flow("objection").provider_check
    return procedure_flow("objection").triage


def _may_decide(actor, case: ObjectionCase) -> bool:
    if case.is_review:
        # Read fresh: the officer who took the first decision must not review it.
        first_decider = (
            ObjectionCase.objects.filter(pk=case.review_of_id).values_list("decided_by_id", flat=True).first()
        )
        return (
            actor.role == REVIEW_ROLE
            and policy.acting_organisation_id(actor) == case.handling_organisation_id
            and first_decider != actor.pk
        )
    if case.state == ObjectionState.CHECKING:
        return policy.is_department(actor) and policy.acting_organisation_id(actor) == case.provider_id
    return policy.is_platform(actor) and policy.acting_organisation_id(actor) == case.handling_organisation_id


def objection_decide(
    *, actor, case: ObjectionCase, outcome: str, reason: str, changes: dict[str, str] | None = None
) -> ObjectionCase:
    """更正 / 撤销 / 维持, with reasons; the record changes at once, the mark comes off, the applicant gets the
    异议处理结果告知书 and the result is queued for the city platform.

    Who decides: the platform for its own errors (before routing), the provider after a 核查通知, the
    reviewer on a 复核.
    """
    # Who may decide and which step this is depend on the state: read it fresh, not from the caller's copy.
    case = ObjectionCase.objects.select_related("review_of").get(pk=case.pk)
    _require(_may_decide(actor, case), _("您无权对该异议作出处理。"))
    if outcome not in ObjectionOutcome.values:
        raise ObjectionError(_("处理结果无效。"), code="bad_outcome")
    reason = bounded(reason, label=_("理由"), error=ObjectionError)
    if not reason:
        raise ObjectionError(_("请写明处理理由。"), code="no_reason")
    changes = {k: v for k, v in (changes or {}).items() if v is not None}
    if outcome == ObjectionOutcome.CORRECTED and not changes:
        raise ObjectionError(_("更正时请填写更正后的内容。"), code="no_changes")
    bad = sorted(set(changes) - set(OBJECTABLE_FIELDS))
    if bad:
        raise ObjectionError(_("不能更正以下字段：%(fields)s") % {"fields": "、".join(bad)}, code="bad_field")

    def action():
        c = _lock(case)
        now = timezone.now()
        record = CreditRecord.objects.get(pk=c.record_id)
        applied = []
        if outcome == ObjectionOutcome.CORRECTED:
            before = {name: _field_value(record, name) for name in changes}
            record = record_update_fields(
                actor=actor, record=record, changes=changes, reason=reason, case_reference=c.tracking_number
            )
            applied = [
                {"field": name, "label": field_label(name), "old": before[name], "new": _field_value(record, name)}
                for name in changes
                if before[name] != _field_value(record, name)
            ]
            if not applied:
                raise ObjectionError(_("更正后的内容与原内容相同，如无需更正请选择“维持”。"), code="nothing_changed")
        if outcome == ObjectionOutcome.REVOKED:
            # Art 42: removed from display at once (well within the 1 WD), marked or not.
            record = record_revoke(actor=actor, record=record, reason=reason, case_reference=c.tracking_number)
        elif c.marked and record.display_state == DisplayState.UNDER_OBJECTION:
            record = record_clear_objection(
                actor=actor,
                record=record,
                reason=_("异议处理完毕（%(outcome)s）") % {"outcome": ObjectionOutcome(outcome).label},
                case_reference=c.tracking_number,
            )
        if c.state == ObjectionState.SUBMITTED and not c.is_review:
            c.route = ObjectionRoute.PLATFORM
        c.close()
        c.outcome = outcome
        c.outcome_reason = reason
        c.decided_by = actor
        c.decided_at = now
        c.closed_at = now
        c.save()
        _stop_clocks(c, actor, _("已作出处理：%(outcome)s") % {"outcome": ObjectionOutcome(outcome).label})
        _activity(c, CaseActivity.Kind.DECIDED, actor, f"{source_text(ObjectionOutcome(outcome).label)}：{reason}")
        context = {
            **_notice_base(c),
            "outcome": outcome,
            "outcome_label": str(ObjectionOutcome(outcome).label),
            "reasons": reason,
            "changes": applied,
            "is_review": c.is_review,
            "review_authority": _("河南省社会信用工作主管部门"),
            "decided_by_org": policy.acting_organisation_id(actor),
        }
        if c.is_review:
            context["original_number"] = c.review_of.tracking_number
        elif (period := _review_request_period(c)) is not None:
            context["review_request_days"] = int(period.value)
            context["review_request_unit"] = str(Clock.Unit(period.unit or Clock.Unit.WORKING_DAYS).label)
        notice_request(
            case=c,
            kind="objection_result",
            trigger="result",
            issuer=c.handling_organisation,
            addressee_subject=c.subject,
            addressee_user=c.applicant,
            context=context,
            actor=actor,
        )
        _sync_result(c, actor, now, record, applied)
        _audit(c, "decided", actor, outcome=outcome, changes=applied, record_state=record.display_state)
        message_case_event(case=c, kind=MessageKind.DECIDED, actor=actor, detail=c.get_outcome_display())
        return c

    return engine.complete_task(case=case, node=_node_for(case), user=actor, action=action)


def _sync_result(c: ObjectionCase, actor, now, record: CreditRecord, applied: list) -> None:
    """The result (and the mark's removal) reaches the city platform; a revocation within Art 42's 1 WD."""
    limit = {}
    if c.outcome == ObjectionOutcome.REVOKED:
        detail = rules.rule_param_detail(c.rule_set, rules.OBJECTION_REVOCATION_WD)
        limit = {
            "limit_budget": int(detail.value),
            "limit_unit": detail.unit or Clock.Unit.WORKING_DAYS,
            "limit_citation": detail.citation,
        }
    topic = "objection.review_closed" if c.is_review else "objection.closed"
    outbox_enqueue(
        topic=topic,
        aggregate=c,
        dedupe_key=f"{topic}:{c.pk}",
        payload={
            "tracking_number": c.tracking_number,
            "record_id": c.record_id,
            "record_decision_number": record.decision_number,
            "subject": c.subject.public_identifier,
            "outcome": c.outcome,
            "display_state": record.display_state,
            "changes": [{"field": a["field"], "old": a["old"], "new": a["new"]} for a in applied],
            "decided_at": now.isoformat(),
        },
        organisation=c.handling_organisation,
        actor=actor,
        occurred_at=now,
        **limit,
    )


# --- pauses (Art 41 para 3) -----------------------------------------------------------------------------------
def _may_pause(actor, case: ObjectionCase) -> bool:
    if case.state == ObjectionState.CHECKING:
        return policy.acting_organisation_id(actor) in (case.provider_id, case.handling_organisation_id) and (
            policy.is_department(actor) or policy.is_platform(actor)
        )
    return policy.is_platform(actor) and policy.acting_organisation_id(actor) == case.handling_organisation_id


def objection_pause(
    *, actor, case: ObjectionCase, reason_code: str, reason: str, on: dt.date | None = None
) -> ObjectionCase:
    """检验、检测、检疫、鉴定、专家评审: the time is not counted (Art 41). Every running limit of the case
    stops counting from the end of ``on``; the applicant sees the reason and the dates."""
    case = ObjectionCase.objects.get(pk=case.pk)
    _require(_may_pause(actor, case), _("您无权暂停该异议的办理时限。"))
    if reason_code not in PAUSE_REASONS:
        raise ObjectionError(_("只有检验、检测、检疫、鉴定或者专家评审的时间不计入办理时间。"), code="bad_reason")
    reason = bounded(reason, label=_("理由"), error=ObjectionError)
    if not reason:
        raise ObjectionError(_("请写明暂停计时的具体事由。"), code="no_reason")
    with engine.process_locked(case):
        c = _lock(case)
        if not c.is_open:
            raise ObjectionError(_("异议已办结。"), code="closed")
        running = [clock for clock in _clocks(c) if not clock.is_paused]
        if not running:
            raise ObjectionError(_("办理时限已在暂停中。"), code="already_paused")
        for clock in running:
            clock_pause(clock=clock, actor=actor, reason_code=reason_code, reason=reason[:300], on=on)
        label = source_text(ClockPause.Reason(reason_code).label)
        _activity(
            c,
            CaseActivity.Kind.NOTE,
            actor,
            gettext_noop("暂停计时（%(kind)s）：%(reason)s，自%(day)s起")
            % {"kind": label, "reason": reason, "day": (on or timezone.localdate()).isoformat()},
        )
        _audit(c, "paused", actor, reason_code=reason_code, reason=reason, on=on)
    return c


def objection_resume(*, actor, case: ObjectionCase, on: dt.date | None = None) -> ObjectionCase:
    case = ObjectionCase.objects.get(pk=case.pk)
    _require(_may_pause(actor, case), _("您无权恢复该异议的办理时限。"))
    with engine.process_locked(case):
        c = _lock(case)
        paused = [clock for clock in _clocks(c) if clock.is_paused]
        if not paused:
            raise ObjectionError(_("办理时限未在暂停中。"), code="not_paused")
        for clock in paused:
            clock_resume(clock=clock, actor=actor, on=on)
        _activity(
            c,
            CaseActivity.Kind.NOTE,
            actor,
            gettext_noop("恢复计时，自%(day)s后继续计算") % {"day": (on or timezone.localdate()).isoformat()},
        )
        _audit(c, "resumed", actor, on=on)
    return c


# --- late provider: 督办 (Art 65) -------------------------------------------------------------------------------
def overdue_clock_of(case: ObjectionCase, *, now: dt.datetime | None = None):
    """The first overdue limit of an open case (the provider's check first), or None."""
    statuses = [clock_status(clock, now=now) for clock in _clocks(case)]
    overdue = [s for s in statuses if s.is_overdue]
    overdue.sort(key=lambda s: (s.clock.purpose != PROVIDER, s.due_at))
    return overdue[0] if overdue else None


def objection_supervise(*, actor, case: ObjectionCase, note: str = ""):
    """督办: the supervisor orders a late provider to finish (Art 65 责令改正). The mark stays; nothing is
    decided for the provider."""
    _require(
        policy.is_supervisor(actor) and policy.acting_organisation_id(actor) is not None,
        _("只有督办机构可以发出督办通知。"),
    )
    with transaction.atomic():
        c = _lock(case)
        if not c.is_open:
            raise ObjectionError(_("异议已办结，无需督办。"), code="closed")
        late = overdue_clock_of(c)
        if late is None:
            raise ObjectionError(_("该异议尚未逾期，不能督办。"), code="not_overdue")
        count = c.activities.filter(kind=CaseActivity.Kind.CHASED).count() + 1
        # 督办 is shown in the timeline as a chase-up by the supervisor (CaseActivity.Kind.CHASED).
        _activity(
            c,
            CaseActivity.Kind.CHASED,
            actor,
            gettext_noop("督办：%(org)s%(label)s已逾期%(days)s个工作日。%(note)s")
            % {
                "org": late.clock.organisation.name if late.clock.organisation else "",
                "label": late.clock.label,
                "days": late.overdue_working_days,
                "note": (note or "").strip(),
            },
        )
        addressee = late.clock.organisation or c.provider
        notice = notice_request(
            case=c,
            kind="objection_supervision",
            trigger=f"supervise-{count}",
            issuer=actor.organisation,
            # To the organisation holding the late clock (Art 65: 责令改正), in its own notice inbox.
            addressee_organisation=addressee,
            context={
                **_notice_base(c),
                "addressee_name": addressee.name,
                "provider_name": addressee.name,
                "due_date": late.due_date.isoformat(),
                "overdue_days": late.overdue_working_days or 0,
                "note": (note or "").strip(),
            },
            actor=actor,
        )
        _audit(
            c,
            "supervised",
            actor,
            clock=late.clock.purpose,
            overdue_days=late.overdue_working_days,
            addressee=addressee.pk,
        )
    return notice
