"""信用承诺 (credit commitments), every write: PROCEDURES.md §3.

作出承诺 (signed online or registered by the department) → 公示 (public register, masked) → 记入信用记录 →
核查 (scheduled per matter) → 践诺 / 违诺 / 虚假承诺 → consequences (dishonesty record, 撤销行政决定, notices)
→ possible repair. Every commitment and every fulfilment outcome is reported to the city credit platform
through the outbox within ``commitment.report_wd`` working days (seed 003 item 6), each report a clock.

Bulk registration (file, API) lives in cases.services.commitment.bulk_import; the set-based verification sweep in
cases.services.commitment.sweep.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cases import policy
from cases.models import (
    Commitment,
    CommitmentMatter,
    CommitmentType,
    CommitmentVerification,
    CreditRecord,
    DecisionRevocation,
    Role,
    Subject,
    SubjectKind,
    VerificationState,
)
from cases.models.commitment import SIMPLIFIED_TYPES
from cases.models.records import PUBLIC_STATES, DisplayState, RecordKind, Severity
from cases.models.repair import RepairState
from cases.services.attachments import attachment_add
from cases.services.audit import audit_log
from cases.services.outbox import outbox_enqueue
from cases.services.privacy import personal_data_lookup_log
from cases.services.records import record_create
from cases.services.submissions import submission_claim, submission_done
from cases.services.text import bounded
from notices.services import notice_request
from workflows import engine, rules
from workflows.calendar import LEGAL_TZ, get_calendar, local_date
from workflows.models import Clock
from workflows.procedures import procedure_flow
from workflows.services.clocks import clock_start, clock_stop

VERIFY_PURPOSE = "commitment.verify"
REVOCATION_PURPOSE = "commitment.revocation"
HEARING_PURPOSE = "commitment.hearing"
REPORT_CITATION = "郑东新区社会信用体系建设2022年工作要点第6项"
VERIFY_CITATION = "国办发〔2020〕42号；承诺事项核查办法"

# Topics reported to the platform (labels: cases.models.outbox.TOPIC_LABELS).
TOPIC_MADE = "commitment.made"
TOPIC_FULFILMENT = "commitment.fulfilment"
TOPIC_BATCH = "commitment.batch"


class CommitmentError(ValidationError):
    """A commitment step refused for a reason the person can act on (shown as is)."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- templates -------------------------------------------------------------------------------------------


class _Blank(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render_commitment_text(*, matter: CommitmentMatter, subject: Subject, signer: str, on: dt.date) -> str:
    """The matter's template with the placeholders filled; an unknown placeholder stays as written (an
    administrator's typo must not make signing impossible, and it shows in the preview)."""
    values = _Blank(
        subject_name=subject.name,
        identifier=subject.public_identifier,
        matter=matter.title,
        department=matter.department.name,
        signer=signer,
        date=_cn(on),
    )
    return matter.template.format_map(values)


def matter_save(*, actor, matter: CommitmentMatter) -> CommitmentMatter:
    """Create or change a commitment matter (administrators; the department's plan is [cfg])."""
    _require(policy.is_administrator(actor), _("只有系统管理员可以维护承诺事项。"))
    if matter.verification == CommitmentMatter.Verification.SAMPLE and not matter.sample_seed:
        # A fixed seed per matter makes the draw reproducible by anyone auditing it.
        matter.sample_seed = f"{matter.department_id}-{matter.code}"
    with transaction.atomic():
        matter.full_clean()
        created = matter.pk is None
        matter.save()
        audit_log(
            actor=actor,
            action="commitment_matter.created" if created else "commitment_matter.changed",
            obj=matter,
            data={
                "code": matter.code,
                "type": matter.type,
                "verification": matter.verification,
                "verify_within": matter.verify_within,
                "verify_unit": matter.verify_unit,
                "sample_ratio": str(matter.sample_ratio),
                "sample_seed": matter.sample_seed,
                "follow_documents": matter.follow_documents,
                "follow_within_wd": matter.follow_within_wd,
                "breach_severity": matter.breach_severity,
            },
        )
    return matter


# --- eligibility (Henan Art 32(1); 国办发〔2020〕42号) --------------------------------------------------------


@dataclass(frozen=True)
class Ineligibility:
    code: str
    message: str


def commitment_eligibility(*, subject: Subject, type: str) -> list[Ineligibility]:
    """Why ``subject`` may not use a simplified (告知承诺) procedure now, in plain words; [] if it may.

    Henan Art 32(1): subjects under sanction are "列为重点审查对象，不适用告知承诺等简化程序" — a serious
    dishonesty record on display, or a past false commitment whose record is not yet repaired.
    """
    if type not in SIMPLIFIED_TYPES:
        return []
    problems = []
    serious = (
        CreditRecord.objects.filter(subject=subject, display_state__in=PUBLIC_STATES)
        .filter(models_q_serious())
        .order_by("-decision_date")
        .first()
    )
    if serious is not None:
        problems.append(
            Ineligibility(
                "serious_record",
                _(
                    "该主体有正在公示的严重失信信息“%(title)s”（%(kind)s），依照《河南省社会信用条例》第三十二条第（一）项，"
                    "信用修复前不适用告知承诺等简化程序。"
                )
                % {"title": serious.title, "kind": serious.get_kind_display()},
            )
        )
    false_one = (
        Commitment.objects.filter(subject=subject, status=Commitment.Status.FALSE)
        .exclude(breach_record__display_state__in=[DisplayState.REPAIRED, DisplayState.REVOKED, DisplayState.EXPIRED])
        .order_by("-status_changed_at")
        .first()
    )
    if false_one is not None:
        problems.append(
            Ineligibility(
                "false_commitment",
                _("该主体曾作出虚假承诺（%(matter)s），相关失信信息修复前不适用告知承诺。")
                % {"matter": false_one.matter},
            )
        )
    return problems


def models_q_serious():
    from django.db.models import Q

    return Q(severity=Severity.SERIOUS) | Q(kind=RecordKind.SERIOUS_DISHONESTY)


# --- reporting (seed 003 item 6: within 7 WD) ----------------------------------------------------------------


def report_budget(at: dt.datetime) -> int:
    return int(rules.rule_param(rules.ruleset_in_force(at), rules.COMMITMENT_REPORT_WD))


def commitment_payload(c: Commitment) -> dict:
    return {
        "id": c.pk,
        "subject": c.subject.name,
        "identifier": c.subject.public_identifier,
        "type": c.type,
        "matter": c.matter,
        "matter_code": c.commitment_matter.code if c.commitment_matter_id else "",
        "department": c.department_id,
        "signed_at": c.signed_at.isoformat(),
        "status": c.status,
        "sha256": c.text_sha256,
    }


def _report(*, commitment: Commitment, topic: str, key: str, occurred_at: dt.datetime, actor, extra=None):
    payload = commitment_payload(commitment)
    payload.update(extra or {})
    return outbox_enqueue(
        topic=topic,
        aggregate=commitment,
        payload=payload,
        dedupe_key=f"{topic}:{commitment.pk}:{key}",
        limit_budget=report_budget(occurred_at),
        limit_citation=REPORT_CITATION,
        organisation=commitment.department,
        actor=actor,
        occurred_at=occurred_at,
    )


# --- making a commitment ---------------------------------------------------------------------------------


def _follow_due(matter: CommitmentMatter, on: dt.date) -> dt.date | None:
    if matter.type != CommitmentType.TOLERANCE or not matter.follow_documents or not matter.follow_within_wd:
        return None
    return get_calendar().add_working_days(get_calendar().next_workday_on_or_after(on), matter.follow_within_wd)


def _create(
    *,
    actor,
    matter: CommitmentMatter,
    subject: Subject,
    signer_name: str,
    capacity: str,
    signed_at: dt.datetime,
    channel: str,
    signed_by=None,
    registered_by=None,
    decision_date=None,
    decision_number: str = "",
    source_reference: str = "",
) -> Commitment:
    if not matter.is_active:
        raise CommitmentError(_("该承诺事项已停用。"), code="inactive")
    if matter.type == CommitmentType.REPAIR:
        raise CommitmentError(_("信用修复型承诺在信用修复申请中签署。"), code="repair_type")
    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise CommitmentError(_("请填写签署人姓名。"), code="no_signer")
    if capacity not in Commitment.Capacity.values:
        raise CommitmentError(_("签署身份无效。"), code="bad_capacity")
    problems = commitment_eligibility(subject=subject, type=matter.type)
    if problems:
        raise CommitmentError([p.message for p in problems], code="ineligible")
    on = local_date(signed_at)
    text = render_commitment_text(matter=matter, subject=subject, signer=signer_name, on=on)
    commitment = Commitment.objects.create(
        subject=subject,
        type=matter.type,
        matter=matter.title,
        department=matter.department,
        commitment_matter=matter,
        text=text,
        text_sha256=Commitment.hash_text(text),
        signer_name=signer_name,
        signer_capacity=capacity,
        signed_by=signed_by,
        signed_at=signed_at,
        channel=channel,
        registered_by=registered_by,
        decision_date=decision_date,
        decision_number=(decision_number or "").strip(),
        source_reference=(source_reference or "").strip(),
        follow_due_date=_follow_due(matter, on),
    )
    audit_log(
        actor=actor,
        action="commitment.made",
        obj=commitment,
        data={
            "type": commitment.type,
            "matter": matter.code,
            "subject": subject.pk,
            "channel": channel,
            "sha256": commitment.text_sha256,
            "signer_capacity": capacity,
        },
    )
    _report(commitment=commitment, topic=TOPIC_MADE, key="made", occurred_at=signed_at, actor=actor)
    return commitment


def commitment_sign(
    *, actor, matter: CommitmentMatter, subject: Subject, signer_name: str, capacity: str, form_token: str = ""
) -> Commitment:
    """The applicant signs online: text rendered from the matter's template, timestamped, immutable, and
    issued as a PDF 信用承诺书."""
    _require(policy.can_apply_for(actor, subject, "commitment"), _("您无权以该主体名义作出承诺。"))
    if capacity == Commitment.Capacity.SELF and subject.kind != "individual":
        raise CommitmentError(_("单位作出的承诺应由法定代表人或受托代理人签署。"), code="bad_capacity")
    now = timezone.now()
    with transaction.atomic():
        # Serialise signings for one subject, so eligibility is checked against a settled state.
        Subject.objects.select_for_update().filter(pk=subject.pk).first()
        # Confirming the same signing page twice (double click, Back and confirm again) signs once.
        claim = submission_claim(actor=actor, purpose="commitment.sign", token=form_token)
        commitment = _create(
            actor=actor,
            matter=matter,
            subject=subject,
            signer_name=signer_name,
            capacity=capacity,
            signed_at=now,
            channel=Commitment.Channel.ONLINE,
            signed_by=actor,
        )
        notice_request(
            case=commitment,
            kind="commitment_letter",
            trigger="signed",
            issuer=matter.department,
            addressee_subject=subject,
            actor=actor,
            context={
                "matter": commitment.matter,
                "text": commitment.text,
                "signer": commitment.signer_name,
                "capacity": commitment.get_signer_capacity_display(),
                "signed_on": local_date(now),
                "signed_at": timezone.localtime(now, LEGAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                "sha256": commitment.text_sha256,
            },
        )
        submission_done(claim, commitment)
    return commitment


def _require_department_of(actor, matter: CommitmentMatter) -> None:
    _require(
        policy.is_department(actor) and policy.acting_organisation_id(actor) == matter.department_id,
        _("只有该事项的受诺部门可以登记承诺。"),
    )


def commitment_register(
    *,
    actor,
    matter: CommitmentMatter,
    subject: Subject,
    signer_name: str,
    capacity: str,
    signed_on: dt.date,
    decision_date: dt.date | None = None,
    decision_number: str = "",
    source_reference: str = "",
    form_token: str = "",
) -> Commitment:
    """A department registers one commitment it received elsewhere (a paper form, its own hall system)."""
    _require_department_of(actor, matter)
    if signed_on > timezone.localdate():
        raise CommitmentError(_("签署日期不能晚于今天。"), code="future")
    signed_at = dt.datetime.combine(signed_on, dt.time(12), tzinfo=LEGAL_TZ)
    with transaction.atomic():
        Subject.objects.select_for_update().filter(pk=subject.pk).first()
        claim = submission_claim(actor=actor, purpose="commitment.register", token=form_token)
        if subject.kind == SubjectKind.INDIVIDUAL:
            # The officer typed a person's full 身份证号 and the system named the person: a 查询使用登记 entry.
            personal_data_lookup_log(
                actor=actor, subject=subject, reason=gettext_lazy("登记信用承诺：%(matter)s"), matter=matter.title
            )
        commitment = _create(
            actor=actor,
            matter=matter,
            subject=subject,
            signer_name=signer_name,
            capacity=capacity,
            signed_at=signed_at,
            channel=Commitment.Channel.REGISTERED,
            registered_by=actor,
            decision_date=decision_date,
            decision_number=decision_number,
            source_reference=source_reference,
        )
        submission_done(claim, commitment)
    return commitment


def commitment_follow_documents_received(*, actor, commitment: Commitment) -> Commitment:
    """容缺受理: the documents to follow arrived (recorded by the department)."""
    _require(
        policy.is_department(actor) and policy.acting_organisation_id(actor) == commitment.department_id,
        _("只有受诺部门可以登记后补材料。"),
    )
    with transaction.atomic():
        commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
        if commitment.follow_received_at is None:
            commitment.follow_received_at = timezone.now()
            commitment.save(update_fields=["follow_received_at"])
            audit_log(
                actor=actor,
                action="commitment.documents_received",
                obj=commitment,
                data={
                    "due": commitment.follow_due_date,
                    "late": bool(commitment.follow_due_date and timezone.localdate() > commitment.follow_due_date),
                },
            )
    return commitment


# --- verification (核查) ------------------------------------------------------------------------------------


def open_verification(
    commitment: Commitment, *, reason: str, actor, now, budget: int | None = None, **fields
) -> CommitmentVerification:
    """A check (核查) of ``commitment`` by its department, under the rule set in force, with the check's time
    limit running: ``budget`` days, or the matter's own limit (20 working days where it sets none)."""
    matter = commitment.commitment_matter
    v = CommitmentVerification.objects.create(
        commitment=commitment,
        subject=commitment.subject,
        handling_organisation=commitment.department,
        reason=reason,
        received_at=now,
        received_on=local_date(now),
        rule_set=rules.ruleset_in_force(now),
        **fields,
    )
    clock_start(
        case=v,
        purpose=VERIFY_PURPOSE,
        label=gettext_noop("核查期限"),
        budget=budget or (matter.verify_within if matter else 20),
        unit=matter.verify_unit if matter else Clock.Unit.WORKING_DAYS,
        received_at=now,
        organisation=commitment.department,
        citation=VERIFY_CITATION,
        actor=actor,
    )
    return v


def verification_start(*, actor, commitment: Commitment, budget: int | None = None) -> CommitmentVerification:
    """The department opens a check of its own accord (a complaint, a lead)."""
    _require(
        policy.is_department(actor) and policy.acting_organisation_id(actor) == commitment.department_id,
        _("只有受诺部门可以发起核查。"),
    )
    with transaction.atomic():
        if commitment.verifications.filter(state=VerificationState.OPEN).exists():
            raise CommitmentError(_("该承诺已有进行中的核查。"), code="open")
        if commitment.status != Commitment.Status.IN_FORCE:
            raise CommitmentError(_("该承诺的履约状态已确定，不能再次核查。"), code="settled")
        v = open_verification(
            commitment, reason=CommitmentVerification.Reason.MANUAL, actor=actor, now=timezone.now(), budget=budget
        )
        audit_log(actor=actor, action="verification.started", obj=v, data={"commitment": commitment.pk})
    return v


OUTCOMES = {
    VerificationState.KEPT: Commitment.Status.KEPT,
    VerificationState.BROKEN: Commitment.Status.BROKEN,
    VerificationState.FALSE: Commitment.Status.FALSE,
}


def breach_severity(*, matter: CommitmentMatter | None, outcome: str, serious_consequences: bool) -> str:
    """Henan Art 33(8): a public commitment not kept with serious consequences is 严重失信; 33(9): false
    materials to obtain a licence likewise. Otherwise the severity the department set for the matter."""
    if outcome == VerificationState.FALSE or serious_consequences:
        return Severity.SERIOUS
    return matter.breach_severity if matter else Severity.ORDINARY


def verification_record(
    *,
    actor,
    verification: CommitmentVerification,
    outcome: str,
    finding: str,
    serious_consequences: bool = False,
    evidence=(),
) -> CommitmentVerification:
    """Record the check with its evidence. 践诺 is final at once. 违诺 or 虚假承诺 is only proposed: the subject
    receives a 违背信用承诺事先告知书 and may state its case within the hearing period; the department's leader
    decides afterwards (verification_decide) — no record or sanction before the subject was heard
    (行政处罚法 Art 44, 45, 62)."""
    _require(policy.can_handle_case(actor, verification), _("您无权办理该核查。"))
    if outcome not in OUTCOMES:
        raise CommitmentError(_("核查结果无效。"), code="bad_outcome")
    finding = bounded(finding, label=_("核查意见"), error=CommitmentError)
    if outcome != VerificationState.KEPT and not finding:
        raise CommitmentError(_("认定违诺或虚假承诺须写明理由。"), code="no_reason")
    if outcome != VerificationState.KEPT and not evidence:
        raise CommitmentError(_("认定违诺或虚假承诺须上传证据材料。"), code="no_evidence")
    now = timezone.now()
    with transaction.atomic():
        v = (
            CommitmentVerification.objects.select_for_update(of=("self",))
            .select_related("commitment__commitment_matter", "commitment__subject", "handling_organisation")
            .get(pk=verification.pk)
        )
        if v.state != VerificationState.OPEN:
            raise CommitmentError(_("该核查已办结。"), code="closed")
        for uploaded in evidence:
            attachment_add(actor=actor, case=v, purpose="evidence", uploaded=uploaded)
        v.finding, v.serious_consequences = finding, serious_consequences
        _stop_clocks(
            v,
            VERIFY_PURPOSE,
            actor,
            now,
            _("核查办结") if outcome == VerificationState.KEPT else _("拟认定，告知陈述申辩"),
        )
        if outcome == VerificationState.KEPT:
            return _decide(actor=actor, v=v, outcome=outcome, now=now)
        _propose_breach(actor=actor, v=v, outcome=outcome, now=now)
    return v


def _stop_clocks(v, purpose: str, actor, now, reason) -> None:
    for clock in Clock.objects.filter(
        content_type__model="commitmentverification", object_id=v.pk, purpose=purpose, stopped_at__isnull=True
    ):
        clock_stop(clock=clock, reason=reason, actor=actor, at=now)


def _propose_breach(*, actor, v: CommitmentVerification, outcome: str, now) -> None:
    """违背信用承诺事先告知: the facts, the proposed finding and its severity, and the period to answer."""
    commitment = v.commitment
    detail = rules.rule_param_detail(rules.ruleset_in_force(now), rules.COMMITMENT_HEARING_DAYS)
    today = local_date(now)
    v.propose_breach()
    v.proposed_outcome, v.proposed_by = outcome, actor
    v.hearing_until = get_calendar().calendar_day_deadline(today, int(detail.value))
    v.save()
    clock_start(
        case=v,
        purpose=HEARING_PURPOSE,
        label=gettext_noop("陈述申辩期限"),
        budget=(v.hearing_until - today).days,
        unit=Clock.Unit.CALENDAR_DAYS,
        # The subject's own window: it runs against nobody's deadline and is never escalated.
        kind=Clock.Kind.INTERNAL,
        received_at=today,
        organisation=v.handling_organisation,
        citation=detail.citation,
        actor=actor,
        start_rule=Clock.StartRule.IMMEDIATE,
    )
    severity = breach_severity(
        matter=commitment.commitment_matter, outcome=outcome, serious_consequences=v.serious_consequences
    )
    notice_request(
        case=v,
        kind="commitment_breach_notice",
        trigger=f"proposed_{outcome}",
        issuer=v.handling_organisation,
        addressee_subject=commitment.subject,
        actor=actor,
        context={
            "matter": commitment.matter,
            "signed_on": local_date(commitment.signed_at),
            "outcome": str(VerificationState(outcome).label),
            "reasons": v.finding,
            "severity": str(Severity(severity).label),
            "hearing_until": v.hearing_until.isoformat(),
        },
    )
    audit_log(
        actor=actor,
        action="verification.breach_proposed",
        obj=v,
        data={"commitment": commitment.pk, "outcome": outcome, "finding": v.finding[:300]},
    )
    flow = procedure_flow("commitment")
    engine.start_process(flow, case=v, start=flow.start_breach)


def verification_statement(
    *, actor, verification: CommitmentVerification, text: str, files=()
) -> CommitmentVerification:
    """陈述、申辩: the subject answers the proposed finding online, once, within the hearing period."""
    text = bounded(text, label=_("陈述、申辩意见"), error=CommitmentError)
    if not text:
        raise CommitmentError(_("请填写陈述、申辩意见。"), code="no_statement")
    now = timezone.now()
    with transaction.atomic():
        v = (
            CommitmentVerification.objects.select_for_update(of=("self",))
            .select_related("commitment__subject", "handling_organisation")
            .get(pk=verification.pk)
        )
        _require(policy.can_apply_for(actor, v.commitment.subject, "commitment"), _("您无权代该主体陈述、申辩。"))
        if v.state != VerificationState.HEARING:
            raise CommitmentError(_("该核查不在陈述申辩阶段。"), code="not_hearing")
        if v.statement_at is not None:
            raise CommitmentError(_("已提交陈述、申辩意见。"), code="stated")
        if local_date(now) > v.hearing_until:
            raise CommitmentError(_("陈述申辩期限已于%(d)s届满。") % {"d": _cn(v.hearing_until)}, code="hearing_over")
        for uploaded in files:
            attachment_add(actor=actor, case=v, purpose="statement", uploaded=uploaded)
        v.statement, v.statement_at, v.statement_by = text, now, actor
        v.save()
        _stop_clocks(v, HEARING_PURPOSE, actor, now, _("已提交陈述、申辩意见"))
        audit_log(actor=actor, action="verification.statement", obj=v, data={"files": len(files)})
    return v


def verification_decide(
    *, actor, verification: CommitmentVerification, outcome: str, reasons: str
) -> CommitmentVerification:
    """The leader decides after the subject was heard (or its period ran out): 违诺 / 虚假承诺 with their
    consequences, or 践诺 when the statement holds. Never heavier than proposed: stating one's case is never
    punished (行政处罚法 Art 45 ¶2)."""
    _require(
        policy.is_department(actor)
        and actor.role == Role.DEPT_LEADER
        and policy.acting_organisation_id(actor) == verification.handling_organisation_id,
        _("违背信用承诺的认定须由部门负责人决定。"),
    )
    if outcome not in OUTCOMES:
        raise CommitmentError(_("核查结果无效。"), code="bad_outcome")
    if not (reasons or "").strip():
        raise CommitmentError(_("请写明决定理由（含对陈述、申辩意见的采纳情况）。"), code="no_reason")
    return engine.complete_task(
        case=verification,
        node=procedure_flow("commitment").breach_decide,
        user=actor,
        action=lambda: _decide_after_hearing(actor=actor, verification=verification, outcome=outcome, reasons=reasons),
    )


def _decide_after_hearing(*, actor, verification, outcome: str, reasons: str) -> CommitmentVerification:
    now = timezone.now()
    v = (
        CommitmentVerification.objects.select_for_update(of=("self",))
        .select_related("commitment__commitment_matter", "commitment__subject", "handling_organisation")
        .get(pk=verification.pk)
    )
    if v.state != VerificationState.HEARING:
        raise CommitmentError(_("该核查不在陈述申辩阶段。"), code="not_hearing")
    if v.statement_at is None and local_date(now) <= v.hearing_until:
        raise CommitmentError(
            _("陈述申辩期限至%(d)s，期满或承诺人提交意见后方可决定。") % {"d": _cn(v.hearing_until)},
            code="hearing_open",
        )
    if outcome == VerificationState.FALSE and v.proposed_outcome != VerificationState.FALSE:
        raise CommitmentError(_("不得因当事人陈述、申辩而作出更重的认定。"), code="heavier")
    v.decision_reasons = bounded(reasons, label=_("决定理由"), error=CommitmentError)
    _stop_clocks(v, HEARING_PURPOSE, actor, now, _("陈述申辩期满"))
    return _decide(actor=actor, v=v, outcome=outcome, now=now)


def _decide(*, actor, v: CommitmentVerification, outcome: str, now) -> CommitmentVerification:
    """The outcome takes effect: the check closes, the commitment's status follows, a breach becomes a credit
    record with its notice, and the platform is told (7 WD report)."""
    {
        VerificationState.KEPT: v.record_kept,
        VerificationState.BROKEN: v.record_broken,
        VerificationState.FALSE: v.record_false,
    }[outcome]()
    v.decided_by, v.decided_at = actor, now
    v.save()
    commitment = Commitment.objects.select_for_update().get(pk=v.commitment_id)
    {
        VerificationState.KEPT: commitment.fulfil,
        VerificationState.BROKEN: commitment.mark_broken,
        VerificationState.FALSE: commitment.mark_false,
    }[outcome]()
    commitment.status_changed_at = now
    fields = ["status", "status_changed_at"]
    record = None
    if outcome != VerificationState.KEPT:
        record = _breach_record(actor=actor, v=v, commitment=commitment, outcome=outcome, now=now)
        commitment.breach_record = record
        fields.append("breach_record")
        if _repair_granted(commitment):
            # A 信用修复型 commitment broken after the repair: the repair itself is in question (36号令:
            # a repair obtained by a commitment not kept may be revoked). Flag it to the department.
            commitment.repair_review_flagged_at = now
            fields.append("repair_review_flagged_at")
    commitment.save(update_fields=fields)
    audit_log(
        actor=actor,
        action=f"verification.{outcome}",
        obj=v,
        data={
            "commitment": commitment.pk,
            "finding": v.finding[:300],
            "serious_consequences": v.serious_consequences,
            "record": record.pk if record else None,
        },
    )
    _report(
        commitment=commitment,
        topic=TOPIC_FULFILMENT,
        key=f"v{v.pk}",
        occurred_at=now,
        actor=actor,
        extra={"outcome": outcome, "verification": v.pk, "record": record.pk if record else None},
    )
    if record is not None:
        notice_request(
            case=v,
            kind="commitment_breach",
            trigger=outcome,
            issuer=v.handling_organisation,
            addressee_subject=commitment.subject,
            actor=actor,
            context={
                "matter": commitment.matter,
                "signed_on": local_date(commitment.signed_at),
                "outcome": v.get_state_display(),
                "reasons": "\n".join(r for r in (v.finding, v.decision_reasons) if r),
                "severity": record.get_severity_display(),
            },
        )
    return v


def _breach_record(*, actor, v, commitment: Commitment, outcome: str, now) -> CreditRecord:
    severity = breach_severity(
        matter=commitment.commitment_matter, outcome=outcome, serious_consequences=v.serious_consequences
    )
    basis = (
        _("《河南省社会信用条例》第五十八条、第三十三条第（八）项")
        if outcome == VerificationState.BROKEN
        else _("《河南省社会信用条例》第五十八条、第三十三条第（九）项")
    )
    title = (
        _("违背信用承诺：%(matter)s") if outcome == VerificationState.BROKEN else _("虚假信用承诺：%(matter)s")
    ) % {"matter": commitment.matter}
    today = local_date(now)
    return record_create(
        actor=actor,
        subject=commitment.subject,
        kind=RecordKind.OTHER_DISHONESTY,
        severity=severity,
        title=title[:200],
        provider=v.handling_organisation,
        decision_date=today,
        publication_date=today,
        decision_number=v.tracking_number or "",
        content=v.finding,
        legal_basis=basis,
    )


def _repair_granted(commitment: Commitment) -> bool:
    if commitment.type != CommitmentType.REPAIR:
        return False
    application = getattr(commitment, "repair_application", None)
    return application is not None and application.state == RepairState.APPROVED


def repair_review_close(*, actor, commitment: Commitment, note: str) -> Commitment:
    """The department has looked at the repair again (and, if needed, started its revocation)."""
    _require(
        policy.is_department(actor) and policy.acting_organisation_id(actor) == commitment.department_id,
        _("只有受诺部门可以处理修复复核提示。"),
    )
    if not (note or "").strip():
        raise CommitmentError(_("请写明复核结论。"), code="no_note")
    with transaction.atomic():
        commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
        if commitment.repair_review_flagged_at is None or commitment.repair_review_closed_at is not None:
            raise CommitmentError(_("没有待处理的修复复核提示。"), code="no_flag")
        commitment.repair_review_closed_at = timezone.now()
        commitment.save(update_fields=["repair_review_closed_at"])
        audit_log(actor=actor, action="commitment.repair_review_closed", obj=commitment, data={"note": note[:300]})
    return commitment


# --- 撤销行政决定 (a tracked task) -----------------------------------------------------------------------------


def revocation_start(*, actor, verification: CommitmentVerification, reason: str) -> DecisionRevocation:
    _require(policy.can_handle_case(actor, verification), _("您无权办理该核查。"))
    if not (reason or "").strip():
        raise CommitmentError(_("请写明撤销理由。"), code="no_reason")
    now = timezone.now()
    with transaction.atomic():
        v = CommitmentVerification.objects.select_for_update().get(pk=verification.pk)
        if v.state not in (VerificationState.BROKEN, VerificationState.FALSE):
            raise CommitmentError(_("只有认定违诺或虚假承诺后才能启动撤销行政决定。"), code="not_breached")
        if DecisionRevocation.objects.filter(verification=v).exists():
            raise CommitmentError(_("已启动撤销行政决定程序。"), code="exists")
        revocation = DecisionRevocation.objects.create(
            verification=v,
            organisation=v.handling_organisation,
            reason=reason.strip(),
            started_by=actor,
            started_at=now,
        )
        budget = rules.rule_param(rules.ruleset_in_force(now), rules.COMMITMENT_REVOCATION_WD)
        clock_start(
            case=revocation,
            purpose=REVOCATION_PURPOSE,
            label=gettext_noop("撤销行政决定办理期限"),
            budget=int(budget),
            kind=Clock.Kind.INTERNAL,
            received_at=now,
            organisation=v.handling_organisation,
            citation="PROCEDURES.md §3 [cfg]",
            actor=actor,
        )
        audit_log(actor=actor, action="revocation.started", obj=revocation, data={"verification": v.pk})
        engine.start_process(procedure_flow("commitment"), case=revocation)
    return revocation


def revocation_close(*, actor, revocation: DecisionRevocation, revoked: bool, note: str) -> DecisionRevocation:
    """The leader decides: the decision is revoked (notice goes out) or kept."""
    _require(
        policy.is_department(actor)
        and actor.role == Role.DEPT_LEADER
        and policy.acting_organisation_id(actor) == revocation.organisation_id,
        _("撤销行政决定须由部门负责人决定。"),
    )
    if not (note or "").strip():
        raise CommitmentError(_("请写明办理结果。"), code="no_note")
    return engine.complete_task(
        case=revocation,
        node=procedure_flow("commitment").decide,
        user=actor,
        action=lambda: _revocation_decide(actor=actor, revocation=revocation, revoked=revoked, note=note),
    )


def _revocation_decide(*, actor, revocation: DecisionRevocation, revoked: bool, note: str) -> DecisionRevocation:
    """Runs as the leader's open ``decide`` task (workflows.engine.complete_task holds the transaction)."""
    now = timezone.now()
    r = (
        DecisionRevocation.objects.select_for_update(of=("self",))
        .select_related("verification__commitment__subject", "organisation")
        .get(pk=revocation.pk)
    )
    if r.state != DecisionRevocation.State.OPEN:
        raise CommitmentError(_("该事项已办结。"), code="closed")
    if revoked:
        r.revoke()
    else:
        r.keep()
    r.outcome_note, r.closed_at = bounded(note, label=_("办理结果"), error=CommitmentError), now
    r.save()
    for clock in Clock.objects.filter(
        content_type__model="decisionrevocation", object_id=r.pk, stopped_at__isnull=True
    ):
        clock_stop(clock=clock, reason=gettext_noop("已办结"), actor=actor, at=now)
    audit_log(actor=actor, action=f"revocation.{r.state}", obj=r, data={"note": note[:300]})
    commitment = r.verification.commitment
    if revoked:
        notice_request(
            case=r,
            kind="commitment_revocation",
            trigger="revoked",
            issuer=r.organisation,
            addressee_subject=commitment.subject,
            actor=actor,
            context={"matter": commitment.matter, "reasons": r.reason, "decision_number": commitment.decision_number},
        )
        _report(
            commitment=commitment,
            topic=TOPIC_FULFILMENT,
            key=f"revoked{r.pk}",
            occurred_at=now,
            actor=actor,
            extra={"outcome": "decision_revoked"},
        )
    return r
