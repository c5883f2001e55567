"""信用修复 (credit repair), every write: PROCEDURES.md §1.

Each service: checks who may act (cases.policy), locks the case row, fires the FSM transition, starts/
pauses/stops the clocks the law attaches to the step, writes the timeline and the audit trail, requests
the notice and the platform-sync event — all in one transaction; notices render and events deliver after
commit. Human steps run inside workflows.engine.complete_task so the viewflow task completes with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import policy
from cases.identifiers import tracking_query_code
from cases.models import (
    CaseActivity,
    Commitment,
    CommitmentType,
    CreditRecord,
    DisplayState,
    RepairApplication,
    RepairBar,
    RepairState,
    Role,
    Subject,
)
from cases.models.attachments import Attachment
from cases.models.messages import MessageKind
from cases.models.repair import OPEN_STATES, RECORD_KIND_TO_REPAIR_KIND, Proposal, RepairKind
from cases.services.attachments import attachment_add
from cases.services.audit import audit_log
from cases.services.case_steps import case_activity as _activity
from cases.services.case_steps import case_activity_row, case_audit, open_clocks, start_legal_clock, stop_open_clocks
from cases.services.case_steps import open_clock as _clock
from cases.services.messages import message_case_event
from cases.services.outbox import outbox_enqueue
from cases.services.records import add_months, applicable_minimum, record_repair, record_restore_display
from cases.services.sequences import sequence_next
from cases.services.text import bounded
from notices.services import notice_request
from workflows import engine, rules
from workflows.calendar import get_calendar
from workflows.models import Clock, ClockPause
from workflows.procedures import procedure_flow
from workflows.services.clocks import clock_extend, clock_pause, clock_resume, clock_stop, clocks_locked
from workflows.texts import source_text

# Clock purposes on a repair case.
ACCEPTANCE = "repair.acceptance"
DECISION = "repair.decision"
SUPPLEMENT_WINDOW = "repair.supplement_window"
SYNC = "repair.sync"


class RepairError(ValidationError):
    """A repair step refused for a reason the person can act on (shown as is, bilingual)."""


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _localized(day: dt.date) -> str:
    return date_format(day, "DATE_FORMAT")


# --- eligibility (PROCEDURES.md §1 "Eligibility") --------------------------------------------------------
@dataclass(frozen=True)
class Ineligibility:
    code: str
    message: str


def repair_eligibility(
    *, subject: Subject, record: CreditRecord, on: dt.date | None = None, exclude: RepairApplication | None = None
) -> list[Ineligibility]:
    """Every reason ``subject`` cannot yet apply to repair ``record``, each explained in plain words.

    (A read, kept beside the services that enforce it so the two never drift apart.)
    """
    on = on or timezone.localdate()
    problems: list[Ineligibility] = []
    if record.subject_id != subject.pk:
        return [Ineligibility("not_own_record", _("该信用记录不属于本主体。"))]
    if record.display_state != DisplayState.DISPLAYED:
        problems.append(
            Ineligibility(
                "not_displayed",
                _("该信息当前状态为“%(state)s”，只有公示中的信息可以申请信用修复。")
                % {"state": record.get_display_state_display()},
            )
        )
    if not record.repairable:
        problems.append(Ineligibility("not_repairable", _("依照法律、法规规定，该信息不可修复。")))
    minimum = applicable_minimum(record, on)
    if minimum is not None and on < minimum.until:
        values = {
            "kind": record.get_kind_display(),
            "months": _months_text(record.decision_date, minimum.until),
            "start": _cn(record.decision_date),
            "earliest": _cn(minimum.until),
        }
        if minimum.lighter_rule_set is not None:
            values.update(rule_set=minimum.lighter_rule_set.name, citation=rules.public_citation(minimum.citation))
            message = (
                _(
                    "该%(kind)s在%(rule_set)s施行前作出决定，最短公示期按从旧兼从轻适用对信用主体较有利的规定，"
                    "为%(months)s，自%(start)s起算，%(earliest)s后方可申请（依据：%(citation)s）。"
                )
                % values
            )
        else:
            message = _("该%(kind)s最短公示期为%(months)s，自%(start)s起算，%(earliest)s后方可申请。") % values
        problems.append(Ineligibility("min_period", message))
    bar = RepairBar.objects.filter(subject=subject, barred_until__gte=on).order_by("-barred_until").first()
    if bar is not None:
        problems.append(
            Ineligibility(
                "barred",
                _("本主体曾以虚假材料取得信用修复，%(until)s前不得再次申请。") % {"until": _cn(bar.barred_until)},
            )
        )
    open_qs = RepairApplication.objects.filter(record=record, state__in=OPEN_STATES)
    if exclude is not None:
        open_qs = open_qs.exclude(pk=exclude.pk)
    if open_qs.exists():
        problems.append(Ineligibility("already_open", _("该信息已有正在办理的信用修复申请，请勿重复申请。")))
    return problems


def _months_text(start: dt.date, until: dt.date) -> str:
    months = (until.year - start.year) * 12 + (until.month - start.month)
    if months % 12 == 0 and months:
        return _("%(n)d年") % {"n": months // 12}
    return _("%(n)d个月") % {"n": months}


def commitment_text(*, subject: Subject, record: CreditRecord) -> str:
    """The 信用承诺书 the applicant signs (Henan Art 32; 36号令: a repair requires a public commitment)."""
    return _(
        "本主体（%(name)s，统一社会信用代码/身份证号：%(code)s）就“%(title)s”（%(number)s）申请信用修复，郑重承诺：\n"
        "一、已纠正失信行为，履行了相关法定义务，所提交的全部材料真实、合法、有效；\n"
        "二、自觉遵守法律法规，诚信经营，不再发生同类失信行为；\n"
        "三、同意本承诺在“信用中国（河南·郑州）”网站公开，接受社会监督；\n"
        "四、如有虚假承诺或违背承诺，自愿承担撤销信用修复、恢复公示、记入信用记录等法律责任。"
    ) % {
        "name": subject.name,
        "code": subject.public_identifier,
        "title": record.title,
        "number": record.decision_number or "-",
    }


# --- helpers -------------------------------------------------------------------------------------------------
def _lock(application: RepairApplication) -> RepairApplication:
    # The related rows every step reads (notice context, eligibility, sync payload, rule parameters) come
    # in the same query; only the case row is locked (``of``), not the record, subject or organisation.
    locked = (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related("record", "subject", "handling_organisation", "applicant", "rule_set")
        .get(pk=application.pk)
    )
    # The caller keeps using its own instance: refresh it so it sees the locked row's state.
    return locked


def _audit(application, action, actor, **data):
    case_audit(application, f"repair.{action}", actor, **data)


def _notice_context(application: RepairApplication, **extra) -> dict:
    record = application.record
    return {
        "matter": RepairKind(application.kind).label,
        "tracking_number": application.tracking_number,
        "received_on": application.received_on.isoformat() if application.received_on else "",
        "record_title": record.title,
        "record_decision_number": record.decision_number,
        **extra,
    }


def _notice(application, *, kind, trigger, actor, **context):
    return notice_request(
        case=application,
        kind=kind,
        trigger=trigger,
        issuer=application.handling_organisation,
        addressee_subject=application.subject,
        addressee_user=application.applicant,
        context=_notice_context(application, **context),
        actor=actor,
    )


def _require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


# --- the applicant's side --------------------------------------------------------------------------------
def repair_draft_save(
    *,
    actor,
    record: CreditRecord,
    contact_name: str,
    contact_phone: str,
    statement: str,
    by_agent: bool = False,
    application: RepairApplication | None = None,
) -> RepairApplication:
    """Create or update a draft. Drafts may be saved before the applicant is eligible, so nothing is lost."""
    subject = record.subject
    _require(policy.can_apply_for(actor, subject, "repair"), _("您无权为该主体申请信用修复。"))
    with transaction.atomic():
        if application is None:
            # Serialise first saves for one record: ten sends of the apply form (a double click, several
            # tabs) continue one draft instead of starting ten, and none meets a case already submitted.
            CreditRecord.objects.select_for_update(no_key=True).filter(pk=record.pk).first()
            existing = (
                RepairApplication.objects.filter(record=record, subject=subject)
                .filter(state__in=(RepairState.DRAFT, *OPEN_STATES))
                .order_by("-created_at")
                .first()
            )
            if existing is not None and existing.state != RepairState.DRAFT:
                raise RepairError(_("该信息已有正在办理的信用修复申请，请勿重复申请。"), code="already_open")
            application = existing
        if application is None:
            application = RepairApplication(
                subject=subject,
                record=record,
                applicant=actor,
                kind=RECORD_KIND_TO_REPAIR_KIND.get(record.kind, RepairKind.OTHER),
                # 谁认定、谁修复: the department that recorded the information handles the repair.
                handling_organisation=record.provider,
            )
        else:
            application = _lock(application)
            if application.state != RepairState.DRAFT:
                raise RepairError(_("申请已提交，不能再修改草稿。"), code="not_draft")
        application.contact_name = contact_name.strip()
        application.contact_phone = contact_phone.strip()
        application.statement = bounded(statement, label=_("整改及履行情况说明"), error=RepairError)
        application.by_agent = by_agent
        application.save()
        _audit(application, "draft_saved", actor, record=record.pk)
    return application


def repair_attach(*, actor, application: RepairApplication, purpose: str, uploaded) -> Attachment:
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权为该主体上传材料。"))
    with transaction.atomic():
        application = _lock(application)
        allowed = application.state in (RepairState.DRAFT, RepairState.SUPPLEMENTING)
        if not allowed:
            raise RepairError(
                _("当前状态为“%(state)s”，不能上传材料。") % {"state": application.get_state_display()},
                code="no_upload_now",
            )
        return attachment_add(actor=actor, case=application, purpose=purpose, uploaded=uploaded)


def repair_sign_commitment(*, actor, application: RepairApplication, signer_name: str, capacity: str) -> Commitment:
    """Sign the 信用承诺书 in the system: it becomes a 信用修复型 commitment (PROCEDURES.md §1 eligibility 3)."""
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权为该主体签署承诺。"))
    if not signer_name.strip():
        raise RepairError(_("请填写签署人姓名。"), code="no_signer")
    with transaction.atomic():
        application = _lock(application)
        if application.state != RepairState.DRAFT:
            raise RepairError(_("申请已提交，承诺书不能重新签署。"), code="not_draft")
        if application.commitment_id:
            return application.commitment
        text = commitment_text(subject=application.subject, record=application.record)
        commitment = Commitment.objects.create(
            subject=application.subject,
            type=CommitmentType.REPAIR,
            matter=_("信用修复：%(title)s") % {"title": application.record.title},
            department=application.handling_organisation,
            text=text,
            text_sha256=Commitment.hash_text(text),
            signer_name=signer_name.strip(),
            signer_capacity=capacity,
            signed_by=actor,
            signed_at=timezone.now(),
        )
        application.commitment = commitment
        application.save(update_fields=["commitment"])
        audit_log(
            actor=actor,
            action="commitment.signed",
            obj=commitment,
            data={"type": commitment.type, "sha256": commitment.text_sha256, "case": application.pk},
        )
    return commitment


def repair_materials(*, record: CreditRecord, application: RepairApplication | None = None) -> list[rules.Material]:
    """The materials list that applies: the case's own rule set once submitted, else the one in force today
    (办事指南: the list is rule-set data and changes with the law)."""
    rule_set = application.rule_set if application is not None and application.rule_set_id else None
    rule_set = rule_set or rules.ruleset_in_force(timezone.now())
    kind = RECORD_KIND_TO_REPAIR_KIND.get(record.kind, RepairKind.OTHER)
    return rules.materials(rule_set, "repair", str(kind))


def material_needed(material: rules.Material, *, by_agent: bool, obligations_performed: bool) -> bool:
    if material.when == "always":
        return True
    if material.when == "agent":
        return by_agent
    if material.when == "unconfirmed":
        # Eligibility 2: the penalty/obligations fully performed — proof uploaded or confirmed by the department.
        return not obligations_performed
    return False


def _missing_materials(application: RepairApplication) -> list[str]:
    purposes = set(application.attachments.values_list("purpose", flat=True))
    missing = []
    for material in repair_materials(record=application.record, application=application):
        if not material_needed(
            material, by_agent=application.by_agent, obligations_performed=application.record.obligations_performed
        ):
            continue
        if material.source == "upload" and material.upload not in purposes:
            if material.when == "unconfirmed":
                missing.append(_("%(item)s（该信息尚无部门确认的履行记录）") % {"item": material.label})
            elif material.when == "agent":
                missing.append(_("%(item)s（委托代理人申请时必须提供）") % {"item": material.label})
            else:
                missing.append(material.label)
        elif material.source == "commitment" and not application.commitment_id:
            missing.append(_("签署%(item)s") % {"item": material.label})
        elif material.source == "statement" and not application.statement:
            missing.append(material.label)
    return missing


def repair_submit(*, actor, application: RepairApplication) -> RepairApplication:
    """Submit: eligibility checked, tracking number given, rule set pinned, clocks started, routed."""
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权为该主体提交申请。"))
    now = timezone.now()
    with transaction.atomic():
        application = _lock(application)
        if application.state != RepairState.DRAFT:
            raise RepairError(_("该申请已提交。"), code="not_draft")
        problems = [
            p.message
            for p in repair_eligibility(subject=application.subject, record=application.record, exclude=application)
        ]
        problems += [_("缺少：%(item)s") % {"item": m} for m in _missing_materials(application)]
        if problems:
            raise RepairError(problems, code="ineligible")
        rule_set = rules.ruleset_in_force(now)
        application.rule_set = rule_set
        application.received_at = now
        org = application.handling_organisation
        acceptance = _start_clock(
            application, ACCEPTANCE, gettext_noop("受理期限"), rules.REPAIR_ACCEPTANCE_WD, org, actor, now
        )
        _start_clock(
            application,
            DECISION,
            gettext_noop("办理期限"),
            rules.REPAIR_DECISION_WD,
            org,
            actor,
            now,
            extension_key=rules.REPAIR_EXTENSION_CAP_WD,
        )
        application.received_on = acceptance.start_date
        CaseActivity.objects.bulk_create(
            [
                case_activity_row(application, CaseActivity.Kind.SUBMITTED, actor),
                case_activity_row(
                    application,
                    CaseActivity.Kind.ROUTED,
                    None,
                    gettext_noop("按“谁认定、谁修复”分派至%(org)s") % {"org": org.name},
                ),
            ]
        )
        # The tracking number last: its counter row, which every submission in the city locks, stays locked
        # from here to COMMIT only (the case row and the routing), not through the checks and clocks above.
        application.tracking_number = _tracking_number(now)
        application.submit()
        application.save()
        engine.start_process(procedure_flow("repair"), case=application)
        _audit(application, "submitted", actor, rule_set=rule_set.code, organisation=org.pk)
    return application


def _tracking_number(now: dt.datetime) -> str:
    year = timezone.localtime(now).year
    return f"XF{year}{sequence_next(scope='tracking.repair', year=year):06d}"


def _start_clock(application, purpose, label, key, organisation, actor, received_at, extension_key=None):
    cap = rules.rule_param(application.rule_set, extension_key) if extension_key else 0
    return start_legal_clock(application, purpose, label, key, organisation, actor, received_at, extension_cap=int(cap))


def repair_withdraw(*, actor, application: RepairApplication, reason: str = "") -> RepairApplication:
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权撤回该申请。"))
    # Process lock first, then the case row: the order of engine.complete_task (no deadlock with a step).
    with engine.process_locked(application):
        application = _lock(application)
        if application.state not in OPEN_STATES:
            raise RepairError(
                _("当前状态为“%(state)s”，不能撤回。") % {"state": application.get_state_display()}, code="not_open"
            )
        application.withdraw()
        application.closed_at = timezone.now()
        application.save()
        _stop_all_clocks(application, actor, gettext_noop("申请人撤回"))
        engine.cancel_process(case=application)
        _activity(application, CaseActivity.Kind.WITHDRAWN, actor, reason)
        _audit(application, "withdrawn", actor, reason=reason)
    return application


def repair_chase(*, actor, application: RepairApplication, message: str = "") -> CaseActivity:
    """催办: logged, shown to the department on the case and in its queue. Once per day is enough."""
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权催办该申请。"))
    with transaction.atomic():
        application = _lock(application)
        if application.state not in OPEN_STATES:
            raise RepairError(_("申请已办结，无需催办。"), code="not_open")
        today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        if application.activities.filter(kind=CaseActivity.Kind.CHASED, at__gte=today_start).exists():
            raise RepairError(_("今天已经催办过，请明天再试。"), code="chased_today")
        ct = ContentType.objects.get_for_model(application)
        activity = CaseActivity.objects.create(
            content_type=ct,
            object_id=application.pk,
            kind=CaseActivity.Kind.CHASED,
            actor=actor,
            text=message.strip()[:500],
        )
        _audit(application, "chased", actor)
    return activity


def repair_supplement(*, actor, application: RepairApplication, note: str = "") -> RepairApplication:
    """The applicant says the requested materials are uploaded: back to acceptance, the clock runs again."""
    _require(policy.can_apply_for(actor, application.subject, "repair"), _("您无权补正该申请。"))

    def action():
        app = _lock(application)
        if app.state != RepairState.SUPPLEMENTING:
            raise RepairError(_("当前无需补正。"), code="not_supplementing")
        if not app.attachments.filter(
            purpose=Attachment.Purpose.SUPPLEMENT, uploaded_at__gte=_supplement_requested_at(app)
        ).exists():
            raise RepairError(_("请先上传补正材料。"), code="no_supplement_files")
        app.supplement()
        app.save()
        today = timezone.localdate()
        for clock in _paused_clocks(app):
            clock_resume(clock=clock, actor=actor, on=today)
        window = _clock(app, SUPPLEMENT_WINDOW)
        if window:
            clock_stop(clock=window, actor=actor, reason=gettext_noop("已补正"))
        _activity(app, CaseActivity.Kind.SUPPLEMENTED, actor, note)
        _audit(app, "supplemented", actor)
        return app

    return engine.complete_task(case=application, node=procedure_flow("repair").supplement, user=actor, action=action)


def _supplement_requested_at(app):
    last = app.activities.filter(kind=CaseActivity.Kind.SUPPLEMENT_REQUESTED).order_by("-at").first()
    return last.at if last else app.received_at


def _paused_clocks(app):
    return open_clocks(app).filter(is_paused=True)


def _stop_all_clocks(app, actor, reason):
    stop_open_clocks(app, actor, reason, exclude=[SYNC])


# --- the department's side ---------------------------------------------------------------------------------
def _department_step(actor, application, node, action):
    _require(policy.can_handle_case(actor, application), _("该申请不由您所在部门办理。"))
    return engine.complete_task(case=application, node=node, user=actor, action=action)


def repair_accept(*, actor, application: RepairApplication) -> RepairApplication:
    def action():
        app = _lock(application)
        app.accept()
        app.save()
        running = clocks_locked(case=app, purposes=(ACCEPTANCE, DECISION))
        acceptance, decision = running.get(ACCEPTANCE), running.get(DECISION)
        if acceptance:
            clock_stop(clock=acceptance, actor=actor, reason=gettext_noop("已受理"), already_locked=True)
        _activity(app, CaseActivity.Kind.ACCEPTED, actor)
        _notice(
            app,
            kind="repair_accepted",
            trigger="accept",
            actor=actor,
            decide_by=decision.due_date.isoformat() if decision and decision.due_date else "",
            query_code=tracking_query_code(app.tracking_number),
        )
        _audit(app, "accepted", actor)
        message_case_event(case=app, kind=MessageKind.ACCEPTED, actor=actor)
        return app

    return _department_step(actor, application, procedure_flow("repair").acceptance, action)


def repair_refuse(*, actor, application: RepairApplication, reason: str) -> RepairApplication:
    """不予受理 is an adverse decision: only the department's leader takes it, with reasons."""
    _require(actor.role == Role.DEPT_LEADER, _("不予受理须由部门负责人决定。"))
    if not reason.strip():
        raise RepairError(_("请写明不予受理的理由。"), code="no_reason")

    def action():
        app = _lock(application)
        app.refuse()
        app.refusal_reason = bounded(reason, label=_("理由"), error=RepairError)
        app.closed_at = timezone.now()
        app.save()
        _stop_all_clocks(app, actor, gettext_noop("不予受理"))
        _activity(app, CaseActivity.Kind.NOT_ACCEPTED, actor, reason)
        _notice(app, kind="repair_not_accepted", trigger="refuse", actor=actor, reasons=reason.strip())
        _audit(app, "refused", actor, reason=reason)
        message_case_event(case=app, kind=MessageKind.DECIDED, actor=actor, detail=app.get_state_display())
        return app

    return _department_step(actor, application, procedure_flow("repair").acceptance, action)


def repair_request_supplement(
    *,
    actor,
    application: RepairApplication,
    missing: str = "",
    items: list[str] | tuple[str, ...] = (),
    repeat_reason: str = "",
) -> RepairApplication:
    """补正: the missing items are picked from the case's materials list (rule-set data), with an optional note;
    the authority's clocks pause; the applicant's own window (rule set, [cfg] 5 WD) starts.

    一次性告知: everything missing is asked for at once (行政许可法 Art 32(1)(4); 优化营商环境条例 Art 36), so a
    second request on the same case is refused — unless the department's leader signs it with a reason (e.g.
    a supplied document turned out forged), which is audited and printed on the notice.
    """
    note = bounded(missing, label=_("需补正的材料"), error=RepairError)
    codes = list(dict.fromkeys(items))
    catalogue = {m.code: m for m in repair_materials(record=application.record, application=application)}
    unknown = [c for c in codes if c not in catalogue]
    if unknown:
        raise RepairError(
            _("所选材料不在本事项的材料清单中：%(items)s") % {"items": "、".join(unknown)}, code="unknown_material"
        )
    if not codes and not note:
        raise RepairError(_("请从材料清单中选择需要补正的材料，或写明需要补正的内容。"), code="no_missing")
    picked = [catalogue[c] for c in codes]
    lines = [m.label for m in picked]
    if note:
        lines.append(_("其他说明：%(note)s") % {"note": note} if picked else note)
    text = "\n".join(lines)

    def action():
        app = _lock(application)
        earlier = app.activities.filter(kind=CaseActivity.Kind.SUPPLEMENT_REQUESTED).count()
        if earlier:
            if actor.role != Role.DEPT_LEADER:
                raise RepairError(
                    _(
                        "本案已一次性告知过需补正的材料（《中华人民共和国行政许可法》第三十二条、《优化营商环境条例》"
                        "第三十六条），不能再次要求补正；确需再次补正的，须由部门负责人签批并写明理由。"
                    ),
                    code="one_time_notice",
                )
            if not repeat_reason.strip():
                raise RepairError(_("再次要求补正须写明理由（一次性告知的例外须说明原因）。"), code="no_repeat_reason")
        app.request_supplement()
        today = timezone.localdate()
        window = _start_clock(
            app, SUPPLEMENT_WINDOW, gettext_noop("补正期限"), rules.REPAIR_SUPPLEMENT_WD, None, actor, timezone.now()
        )
        app.supplement_request = text
        app.supplement_items = codes
        app.supplement_due = window.due_date
        app.save()
        for purpose in (ACCEPTANCE, DECISION):
            clock = _clock(app, purpose)
            if clock and not clock.is_paused:
                clock_pause(
                    clock=clock,
                    actor=actor,
                    reason_code=ClockPause.Reason.SUPPLEMENT,
                    reason=text[:300],
                    on=today,
                )
        activity_text = text
        if earlier:
            activity_text = _("%(items)s\n再次补正理由（负责人签批）：%(reason)s") % {
                "items": text,
                "reason": repeat_reason.strip(),
            }
        _activity(app, CaseActivity.Kind.SUPPLEMENT_REQUESTED, actor, activity_text)
        extra = {"repeat_reason": repeat_reason.strip()} if earlier else {}
        _notice(
            app,
            kind="repair_supplement",
            trigger=f"supplement-{earlier + 1}",
            actor=actor,
            missing=lines,
            supplement_by=window.due_date.isoformat() if window.due_date else "",
            **extra,
        )
        _audit(
            app,
            "supplement_requested",
            actor,
            missing=text,
            items=codes,
            due=window.due_date,
            repeat=bool(earlier),
            repeat_reason=repeat_reason.strip() if earlier else "",
        )
        message_case_event(case=app, kind=MessageKind.SUPPLEMENT, actor=actor, detail=text, due=window.due_date)
        return app

    return _department_step(actor, application, procedure_flow("repair").acceptance, action)


def repair_propose(
    *, actor, application: RepairApplication, proposal: str, reason: str, days: int | None = None
) -> RepairApplication:
    """The handler's opinion after review: approve, reject, or extend once — the leader signs it off."""
    if proposal not in Proposal.values:
        raise RepairError(_("审查意见无效。"), code="bad_proposal")
    if proposal in (Proposal.REJECT, Proposal.EXTEND) and not reason.strip():
        raise RepairError(_("不予修复和延期必须写明理由。"), code="no_reason")
    if proposal == Proposal.EXTEND:
        app_now = application
        cap = int(rules.rule_param(app_now.rule_set, rules.REPAIR_EXTENSION_CAP_WD))
        decision = _clock(app_now, DECISION)
        if decision and decision.extension_days:
            raise RepairError(_("办理期限只能延长一次，本案已延期。"), code="already_extended")
        if not days or days < 1 or days > cap:
            raise RepairError(_("延期天数须为1至%(cap)d个工作日。") % {"cap": cap}, code="extension_cap")

    def action():
        app = _lock(application)
        app.propose()
        app.proposal = proposal
        app.proposal_reason = bounded(reason, label=_("理由"), error=RepairError)
        app.proposal_days = days if proposal == Proposal.EXTEND else None
        app.proposed_by = actor
        app.save()
        _activity(
            app,
            CaseActivity.Kind.PROPOSED,
            actor,
            f"{Proposal(proposal).label}：{reason.strip()}" if reason.strip() else Proposal(proposal).label,
        )
        _audit(app, "proposed", actor, proposal=proposal, days=days)
        return app

    return _department_step(actor, application, procedure_flow("repair").review, action)


def repair_signoff(*, actor, application: RepairApplication, agree: bool, comment: str = "") -> RepairApplication:
    """The leader signs the handler's proposal, or returns it with a comment."""
    _require(actor.role == Role.DEPT_LEADER, _("须由部门负责人签批。"))
    if not agree and not comment.strip():
        raise RepairError(_("退回时请写明意见。"), code="no_comment")

    def action():
        app = _lock(application)
        now = timezone.now()
        if not agree:
            app.return_to_handler()
            app.save()
            _activity(app, CaseActivity.Kind.RETURNED, actor, comment)
            _audit(app, "returned", actor, comment=comment)
            return app
        app.signed_off_by = actor
        if app.proposal == Proposal.EXTEND:
            app.return_to_handler()
            app.save()
            decision = _clock(app, DECISION)
            clock_extend(clock=decision, actor=actor, days=app.proposal_days, reason=app.proposal_reason)
            decision.refresh_from_db()
            _activity(app, CaseActivity.Kind.EXTENDED, actor, app.proposal_reason)
            _notice(
                app,
                kind="repair_extension",
                trigger="extend",
                actor=actor,
                reasons=app.proposal_reason,
                days=app.proposal_days,
                extended_until=decision.due_date.isoformat() if decision.due_date else "",
            )
            _audit(app, "extended", actor, days=app.proposal_days)
            app.proposal = ""
            app.save(update_fields=["proposal"])
            return app
        if app.proposal == Proposal.APPROVE:
            app.approve()
        else:
            app.reject()
        app.decision_reason = app.proposal_reason
        app.decided_at = now
        app.closed_at = now
        if app.state == RepairState.APPROVED:
            app.effective_at = now  # 36号令 Art 3: effective at once (_make_effective), in this same UPDATE
        app.save()
        _stop_all_clocks(app, actor, gettext_noop("已作出决定"))
        _activity(app, CaseActivity.Kind.DECIDED, actor, source_text(app.get_state_display))
        if app.state == RepairState.APPROVED:
            _make_effective(app, actor, now)
        else:
            _notice(app, kind="repair_refused", trigger="decide", actor=actor, reasons=app.decision_reason)
        _audit(app, "decided", actor, decision=app.state)
        message_case_event(case=app, kind=MessageKind.DECIDED, actor=actor, detail=app.get_state_display())
        return app

    return _department_step(actor, application, procedure_flow("repair").signoff, action)


def _make_effective(app: RepairApplication, actor, now):
    """36号令 Art 3: stop display, stop sharing, lift restrictions — at once, well within Henan Art 43's 1 WD.

    A record whose maximum display period ended while the case was open has already stopped being shown
    (Henan Art 19); the decision still stands and is reported, there is just nothing left to take down."""
    if app.record.display_state != DisplayState.EXPIRED:
        record_repair(actor=actor, record=app.record, reason=_("准予信用修复"), case_reference=app.tracking_number)
    if app.effective_at != now:
        app.effective_at = now
        app.save(update_fields=["effective_at"])
    effect_by = get_calendar().add_working_days(
        timezone.localdate(now), int(rules.rule_param(app.rule_set, rules.REPAIR_EFFECT_WD))
    )
    _activity(app, CaseActivity.Kind.EFFECTIVE, actor)
    _notice(app, kind="repair_granted", trigger="decide", actor=actor, effective_by=effect_by.isoformat())
    _sync(app, actor, now, "repair.granted")


def _sync(app: RepairApplication, actor, now, topic: str):
    """Report the result to the city platform within the rule's sync limit (58号令/527号 [sec] 3 WD)."""
    detail = rules.rule_param_detail(app.rule_set, rules.REPAIR_SYNC_WD)
    outbox_enqueue(
        topic=topic,
        aggregate=app,
        dedupe_key=f"{topic}:{app.pk}",
        payload={
            "tracking_number": app.tracking_number,
            "subject": app.subject.public_identifier,
            "subject_name": app.subject.name,
            "record_id": app.record_id,
            "record_decision_number": app.record.decision_number,
            "decision": app.state,
            "decided_at": (app.decided_at or now).isoformat(),
            "department": app.handling_organisation.name,
        },
        limit_budget=int(detail.value),
        limit_unit=detail.unit or Clock.Unit.WORKING_DAYS,
        limit_citation=detail.citation,
        organisation=app.handling_organisation,
        actor=actor,
        occurred_at=now,
    )


def repair_revoke(*, actor, application: RepairApplication, reason: str) -> RepairApplication:
    """A repair obtained by false materials is revoked: display restored, a bar recorded, a notice issued."""
    _require(
        actor.role == Role.DEPT_LEADER and policy.can_handle_case(actor, application),
        _("撤销信用修复须由作出决定部门的负责人决定。"),
    )
    if not reason.strip():
        raise RepairError(_("请写明撤销理由。"), code="no_reason")
    now = timezone.now()
    with transaction.atomic():
        app = _lock(application)
        if app.state != RepairState.APPROVED:
            raise RepairError(_("只有已准予的信用修复可以撤销。"), code="not_approved")
        app.revoke()
        app.revocation_reason = bounded(reason, label=_("理由"), error=RepairError)
        app.save()
        record = CreditRecord.objects.get(pk=app.record_id)
        record_restore_display(
            actor=actor,
            record=record,
            reason=_("撤销信用修复：%(reason)s") % {"reason": reason},
            case_reference=app.tracking_number,
        )
        years = int(rules.rule_param(app.rule_set, rules.REPAIR_FALSE_MATERIALS_BAR_YEARS))
        today = timezone.localdate(now)
        RepairBar.objects.create(
            subject=app.subject, source=app, barred_until=add_months(today, 12 * years), reason=reason.strip()
        )
        original = app_notice_number(app, "repair_granted")
        _activity(app, CaseActivity.Kind.REVOKED, actor, reason)
        _notice(
            app,
            kind="repair_revoked",
            trigger="revoke",
            actor=actor,
            reasons=reason.strip(),
            original_number=original or app.tracking_number,
            bar_years=years,
        )
        _sync(app, actor, now, "repair.revoked")
        _audit(app, "revoked", actor, reason=reason, bar_years=years)
    return app


def app_notice_number(app, kind) -> str:
    from notices.models import Notice

    return (
        Notice.objects.filter(content_type=ContentType.objects.get_for_model(app), object_id=app.pk, kind=kind)
        .values_list("number", flat=True)
        .first()
        or ""
    )


# --- scheduled sweeps ------------------------------------------------------------------------------------------
def deemed_withdrawn_candidates(now: dt.datetime):
    """Running supplement windows that ended by ``now``: read through clock_open_purpose_due_idx (purpose, due
    moment of running clocks), so the other limits' overdue clocks are never read."""
    return Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(RepairApplication),
        purpose=SUPPLEMENT_WINDOW,
        stopped_at__isnull=True,
        is_paused=False,
        due_at__lt=now,
    )


def repairs_deem_withdrawn_due(*, now: dt.datetime | None = None) -> int:
    """A supplement window that ended unanswered ends the case as 视为撤回 ([cfg] 5 WD)."""
    now = now or timezone.now()
    ids = deemed_withdrawn_candidates(now).values_list("object_id", flat=True)
    done = 0
    for pk in list(ids):
        # Process lock, case lock, state change and cancelled task in one transaction (the order of
        # engine.complete_task): an applicant supplementing at the same moment either wins or sees the
        # case closed, and the open task never outlives the legal state.
        with engine.process_locked(RepairApplication(pk=pk)):
            app = RepairApplication.objects.select_for_update().get(pk=pk)
            if app.state != RepairState.SUPPLEMENTING:
                continue
            app.deem_withdrawn()
            app.closed_at = now
            app.save()
            _stop_all_clocks(app, None, gettext_noop("补正期限届满未补正，视为撤回"))
            _activity(app, CaseActivity.Kind.DEEMED_WITHDRAWN, None, gettext_noop("补正期限届满未补正"))
            _audit(app, "deemed_withdrawn", None)
            message_case_event(case=app, kind=MessageKind.DEEMED_WITHDRAWN)
            engine.cancel_process(case=app)
        done += 1
    return done


def records_expiry_candidates(today: dt.date):
    """Displayed records whose maximum display period ended before ``today`` (through record_expiry_idx)."""
    return CreditRecord.objects.filter(display_state=DisplayState.DISPLAYED, display_max_until__lt=today)


def records_expire_due(*, today: dt.date | None = None) -> int:
    """Automatic expiry: the maximum display period ended and obligations are performed → display stops
    without any application (PROCEDURES.md §1; Henan Art 19)."""
    from cases.services.disclosure import record_report_expiry
    from cases.services.records import record_expire

    today = today or timezone.localdate()
    done = 0
    candidates = records_expiry_candidates(today).values_list("pk", flat=True)
    for pk in candidates:
        record = CreditRecord.objects.get(pk=pk)
        reason = _("最长公示期届满，自动停止公示")
        try:
            with transaction.atomic():
                expired = record_expire(actor=None, record=record, reason=reason, today=today)
                # The platform stops showing it too: reported within 1 working day (Henan Art 42).
                record_report_expiry(record=expired, actor="system:expiry", reason=str(reason))
        except ValidationError:
            # Obligations not performed and under 5 years, or still on the serious-dishonesty list: the
            # record stays (Henan Art 19 ¶2–3).
            continue
        done += 1
    return done
