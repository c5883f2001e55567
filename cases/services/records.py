"""Credit records: creation with the display window from the rule set, field-level corrections, and the
display-state transitions (公示中 / 异议标注 / 已修复 / 已撤销 / 到期停止公示).

Every write locks the record row, keeps a RecordChange per changed field (old and new value, reason,
case) and appends an AuditEvent in the same transaction.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from cases.models import CreditRecord, Organisation, RecordChange, RecordKind, Subject
from cases.services.audit import audit_log
from workflows.models import RuleSet
from workflows.rules import (
    DISPLAY_CAP_MONTHS,
    DISPLAY_EARLIER_RECORDS,
    DISPLAY_KEY_SECTOR_MIN_MONTHS,
    DISPLAY_KEY_SECTORS,
    DISPLAY_MAX_MONTHS,
    DISPLAY_MIN_MONTHS,
    NoRuleSetInForce,
    RuleParameterMissing,
    rule_param,
    rule_param_detail,
    ruleset_in_force,
)

# What a correction (更正, e.g. after an objection) may change, in the order a form shows them. The subject
# is not among them (a record about the wrong subject is revoked, not moved), nor the display state (only the
# transitions move it).
CORRECTABLE_FIELDS = (
    "kind",
    "severity",
    "sector",
    "title",
    "decision_number",
    "content",
    "legal_basis",
    "provider",
    "decision_date",
    "publication_date",
    "display_min_until",
    "display_max_until",
    "repairable",
    "obligations_performed",
)
EDITABLE_FIELDS = frozenset(CORRECTABLE_FIELDS)
# The display window: computed from the rule set when a record is created, corrected only by hand later.
WINDOW_FIELDS = ("display_min_until", "display_max_until")
# full_clean would assign the protected FSM field back to itself, which django-fsm refuses; only the
# transitions below set it, so there is nothing to validate there.
_FSM_FIELDS = ["display_state"]
# Changing one of these moves the display window, unless the correction sets the window itself.
WINDOW_INPUTS = frozenset(["severity", "decision_date", "sector"])


class RecordStateError(ValidationError):
    """A display-state transition that the record's current state does not allow."""


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later; the last day of the month where that day does not exist (08-31 + 6 → 02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DisplayWindow:
    min_until: dt.date
    max_until: dt.date
    rule_set: RuleSet
    min_months: int
    max_months: int


def display_window(
    *, decision_date: dt.date, severity: str, sector: str = "", rule_set: RuleSet | None = None
) -> DisplayWindow:
    """The display window of a record, counted from its decision date (PROCEDURES.md §1 [sec]) under the
    rule set in force on that date (or ``rule_set``):

    - 36号令 set: per severity (轻微 0/3 months, 一般 3/12, 严重 12/36);
    - 58号令 set: 3 months minimum (1 year in the key sectors), 3 years maximum;
    - 527号 set (before 2023-05-01): 一般 3 months / 1 year, 严重 6 months / 3 years;
    - never longer than 5 years (河南省社会信用条例 Art 19).
    """
    rule_set = rule_set or ruleset_in_force(decision_date)
    min_months = int(rule_param(rule_set, DISPLAY_MIN_MONTHS[severity]))
    max_months = int(rule_param(rule_set, DISPLAY_MAX_MONTHS[severity]))
    if sector and sector in rule_param(rule_set, DISPLAY_KEY_SECTORS):
        min_months = max(min_months, int(rule_param(rule_set, DISPLAY_KEY_SECTOR_MIN_MONTHS)))
    max_months = min(max_months, int(rule_param(rule_set, DISPLAY_CAP_MONTHS)))
    min_months = min(min_months, max_months)
    return DisplayWindow(
        min_until=add_months(decision_date, min_months),
        max_until=add_months(decision_date, max_months),
        rule_set=rule_set,
        min_months=min_months,
        max_months=max_months,
    )


@dataclass(frozen=True)
class MinimumPeriod:
    """The minimum display period that applies to a record on a given day."""

    until: dt.date
    months: int | None
    # Set when a later rule set's shorter minimum applies to a record decided before it (从旧兼从轻).
    lighter_rule_set: RuleSet | None = None
    citation: str = ""


def applicable_minimum(record: CreditRecord, on: dt.date) -> MinimumPeriod | None:
    """The minimum display period ``record`` must have served before a repair on ``on``.

    Normally the window stored on the record (the rule set of its decision date, or as corrected). When the
    set in force on ``on`` took effect after the decision and says ``lighter`` (36号令 from 2026-04-01), the
    subject gets the more favourable of the two minima: 从旧兼从轻 (立法法 Art 104; 行政处罚法 Art 37).
    """
    if record.display_min_until is None:
        return None
    stored = MinimumPeriod(until=record.display_min_until, months=None)
    try:
        current = ruleset_in_force(on)
    except NoRuleSetInForce:
        return stored
    if record.decision_date >= current.effective_from or record.severity not in DISPLAY_MIN_MONTHS:
        return stored
    try:
        rule = rule_param_detail(current, DISPLAY_EARLIER_RECORDS)
    except RuleParameterMissing:
        return stored
    if rule.value != "lighter":
        return stored
    try:
        own = display_window(decision_date=record.decision_date, severity=record.severity, sector=record.sector)
    except NoRuleSetInForce:
        own = None
    if own is None or record.display_min_until != max(own.min_until, record.publication_date):
        # The window was set by hand (a correction after an objection, say): that decision stands.
        return stored
    window = display_window(
        decision_date=record.decision_date, severity=record.severity, sector=record.sector, rule_set=current
    )
    until = max(window.min_until, record.publication_date)
    if until >= record.display_min_until:
        return stored
    return MinimumPeriod(until=until, months=window.min_months, lighter_rule_set=current, citation=rule.citation)


def _window_for(record: CreditRecord) -> DisplayWindow | None:
    """None when the inputs are themselves invalid: full_clean then reports them field by field."""
    if record.severity not in DISPLAY_MIN_MONTHS or not isinstance(record.decision_date, dt.date):
        return None
    try:
        return display_window(decision_date=record.decision_date, severity=record.severity, sector=record.sector)
    except NoRuleSetInForce as exc:
        raise ValidationError({"decision_date": exc}) from None


def _apply_window(record: CreditRecord, window: DisplayWindow) -> None:
    """A record cannot have served its minimum display before it was displayed: the minimum ends on the
    publication date at the earliest (轻微: 0 months = repairable once published)."""
    min_until = window.min_until
    if isinstance(record.publication_date, dt.date):
        min_until = max(min_until, record.publication_date)
    record.display_min_until = min_until
    record.display_max_until = max(window.max_until, min_until)


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def record_create(
    *,
    actor,
    subject: Subject,
    kind: str,
    severity: str,
    title: str,
    provider: Organisation,
    decision_date: dt.date,
    publication_date: dt.date,
    decision_number: str = "",
    content: str = "",
    legal_basis: str = "",
    repairable: bool = True,
    obligations_performed: bool = False,
    sector: str = "",
) -> CreditRecord:
    record = CreditRecord(
        subject=subject,
        kind=kind,
        severity=severity,
        sector=sector,
        title=(title or "").strip(),
        provider=provider,
        decision_date=decision_date,
        publication_date=publication_date,
        decision_number=(decision_number or "").strip(),
        content=content or "",
        legal_basis=(legal_basis or "").strip(),
        repairable=repairable,
        obligations_performed=obligations_performed,
    )
    window = _window_for(record)
    if window is not None:
        _apply_window(record, window)
    with transaction.atomic():
        record.full_clean(exclude=_FSM_FIELDS)
        record.save()
        audit_log(
            actor=actor,
            action="record.create",
            obj=record,
            data={
                "subject": subject.pk,
                "kind": kind,
                "severity": severity,
                "sector": sector,
                "title": record.title,
                "provider": provider.pk,
                "decision_date": decision_date,
                "publication_date": publication_date,
                "display_min_until": record.display_min_until,
                "display_max_until": record.display_max_until,
                "rule_set": window.rule_set.code if window else None,
            },
        )
    return record


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("请填写变更原因。"), code="reason_required")})
    return reason


def record_update_fields(
    *, actor, record: CreditRecord, changes: dict, reason: str, case_reference: str = ""
) -> CreditRecord:
    """Correct a record field by field (更正: Henan Art 41; PROCEDURES.md §2), keeping old and new values.

    Only fields whose value really changes are written, each as one RecordChange. When the severity,
    decision date or sector changes, the display window is recomputed (and recorded) unless ``changes``
    sets it explicitly.
    """
    reason = _require_reason(reason)
    not_allowed = sorted(set(changes) - EDITABLE_FIELDS)
    if not_allowed:
        raise ValidationError(
            _("不能通过更正修改字段：%(fields)s。公示状态只能通过异议、修复、撤销等办理环节变更。"),
            code="field_not_editable",
            params={"fields": "、".join(not_allowed)},
        )
    with transaction.atomic():
        locked = CreditRecord.objects.select_for_update().get(pk=record.pk)
        fields = {name: CreditRecord._meta.get_field(name) for name in EDITABLE_FIELDS}
        before = {name: field.value_to_string(locked) for name, field in fields.items()}
        for name, value in changes.items():
            field = fields[name]
            if isinstance(field, models.ForeignKey) and not isinstance(value, models.Model):
                setattr(locked, field.attname, value)
            else:
                setattr(locked, name, value)
        # Normalise (e.g. "2026-03-05" → date) before deciding what changed; bad input is reported below.
        locked.clean_fields(exclude=[f.name for f in CreditRecord._meta.fields if f.name not in changes])
        if WINDOW_INPUTS & set(changes) and not {"display_min_until", "display_max_until"} & set(changes):
            window = _window_for(locked)
            if window is not None:
                _apply_window(locked, window)
        after = {name: field.value_to_string(locked) for name, field in fields.items()}
        changed = sorted(name for name in fields if before[name] != after[name])
        if not changed:
            return locked
        locked.full_clean(exclude=_FSM_FIELDS)
        locked.save(update_fields=[*changed, "updated_at"])
        user = _user(actor)
        RecordChange.objects.bulk_create(
            [
                RecordChange(
                    record=locked,
                    field=name,
                    old_value=before[name],
                    new_value=after[name],
                    reason=reason,
                    case_reference=case_reference,
                    actor=user,
                )
                for name in changed
            ]
        )
        audit_log(
            actor=actor,
            action="record.update",
            obj=locked,
            data={
                "changes": {name: [before[name], after[name]] for name in changed},
                "reason": reason,
                "case_reference": case_reference,
            },
        )
    return locked


# --- display-state transitions -------------------------------------------------------------------------
TRANSITION_LABELS = {
    "mark_objection": _("作出异议标注"),
    "clear_objection": _("取消异议标注"),
    "repair": _("信用修复（终止公示）"),
    "restore_display": _("恢复公示"),
    "revoke": _("撤销"),
    "expire": _("到期停止公示"),
}


def _transition(
    *, actor, record: CreditRecord, reason: str, case_reference: str, name: str, check=None
) -> CreditRecord:
    reason = _require_reason(reason)
    # No savepoint (issue 15): a refusal is decided before anything is written and raised after the block, so
    # a caller that catches it keeps a usable transaction; nothing else inside is ever caught and carried on.
    refusal = None
    with transaction.atomic(savepoint=False):
        # The row lock serialises two officers acting on one record: the second waits, then sees the
        # state the first left and gets the illegal-transition error below instead of a lost update.
        locked = CreditRecord.objects.select_for_update().get(pk=record.pk)
        method = getattr(locked, name)
        if not can_proceed(method):
            refusal = RecordStateError(
                _("信用记录当前为“%(state)s”，不能%(action)s。"),
                code="illegal_transition",
                params={
                    "state": locked.get_display_state_display(),
                    "action": TRANSITION_LABELS[name],
                    "from": locked.display_state,
                    "transition": name,
                },
            )
        elif check is not None:
            try:
                check(locked)
            except ValidationError as exc:
                refusal = exc
        if refusal is None:
            _apply_transition(locked, method, name, actor=actor, reason=reason, case_reference=case_reference)
    if refusal is not None:
        raise refusal
    return locked


def _apply_transition(locked: CreditRecord, method, name: str, *, actor, reason: str, case_reference: str) -> None:
    old = locked.display_state
    method()
    locked.save(update_fields=["display_state", "updated_at"])
    RecordChange.objects.create(
        record=locked,
        field="display_state",
        old_value=old,
        new_value=locked.display_state,
        reason=reason,
        case_reference=case_reference,
        actor=_user(actor),
    )
    audit_log(
        actor=actor,
        action=f"record.{name}",
        obj=locked,
        data={"from": old, "to": locked.display_state, "reason": reason, "case_reference": case_reference},
    )


def record_mark_objection(*, actor, record: CreditRecord, reason: str, case_reference: str = "") -> CreditRecord:
    """Henan Art 41: from receipt of an objection the record carries the 异议标注 mark."""
    return _transition(actor=actor, record=record, reason=reason, case_reference=case_reference, name="mark_objection")


def record_clear_objection(*, actor, record: CreditRecord, reason: str, case_reference: str = "") -> CreditRecord:
    """The objection case ended with the record kept (维持) or corrected (更正): the mark is removed."""
    return _transition(actor=actor, record=record, reason=reason, case_reference=case_reference, name="clear_objection")


def _check_repairable(record: CreditRecord) -> None:
    if not record.repairable:
        raise RecordStateError(_("该信用记录依法不可修复。"), code="not_repairable")


def record_repair(*, actor, record: CreditRecord, reason: str, case_reference: str = "") -> CreditRecord:
    """36号令 Art 3: a repaired record stops being displayed, shared and used (Henan Art 43: within 1 WD)."""
    return _transition(
        actor=actor, record=record, reason=reason, case_reference=case_reference, name="repair", check=_check_repairable
    )


def record_restore_display(*, actor, record: CreditRecord, reason: str, case_reference: str = "") -> CreditRecord:
    """A repair obtained by false materials is revoked and the record displayed again."""
    return _transition(actor=actor, record=record, reason=reason, case_reference=case_reference, name="restore_display")


def record_revoke(*, actor, record: CreditRecord, reason: str, case_reference: str = "") -> CreditRecord:
    """Henan Art 42: information whose basis was revoked is removed within 1 working day; an objection
    upheld as 撤销 ends here too."""
    return _transition(actor=actor, record=record, reason=reason, case_reference=case_reference, name="revoke")


def _display_cap_months(record: CreditRecord) -> int:
    """Henan Art 19's cap from the rule set of the decision date; a decision older than every rule set
    takes the earliest set's cap (the cap is statutory and has not changed)."""
    try:
        rule_set = ruleset_in_force(record.decision_date)
    except NoRuleSetInForce:
        rule_set = RuleSet.objects.order_by("effective_from").first()
    return int(rule_param(rule_set, DISPLAY_CAP_MONTHS))


def _check_expired(record: CreditRecord, today: dt.date | None = None) -> None:
    """Display stops by itself when the maximum period has ended and the obligations are performed
    (PROCEDURES.md §1); after the Henan Art 19 cap of 5 years it stops regardless — except for a subject
    on the serious-dishonesty list, whose information stays displayed until it is removed from the list
    (河南省社会信用条例第十九条第三款): that ends by repair (移出名单) or revocation, never by the clock."""
    today = today or timezone.localdate()
    if record.kind == RecordKind.SERIOUS_DISHONESTY:
        raise RecordStateError(
            _(
                "该信息属于严重失信主体名单，披露期限届满时尚未移出名单的，延至移出名单之日"
                "（河南省社会信用条例第十九条第三款），不能到期停止公示。"
            ),
            code="on_serious_list",
        )
    if record.display_max_until is None or today < record.display_max_until:
        raise RecordStateError(
            _("最长公示期尚未届满（届满日：%(until)s），不能到期停止公示。"),
            code="display_not_ended",
            params={"until": record.display_max_until.isoformat() if record.display_max_until else "—"},
        )
    if not record.obligations_performed:
        if today < add_months(record.decision_date, _display_cap_months(record)):
            raise RecordStateError(
                _("信用主体尚未履行法定义务，最长公示期届满后仍继续公示，直至履行义务或满五年。"),
                code="obligations_not_performed",
            )


def record_expire(
    *, actor, record: CreditRecord, reason: str, case_reference: str = "", today: dt.date | None = None
) -> CreditRecord:
    """The scheduled expiry: the maximum display period ended, so display stops without an application."""
    return _transition(
        actor=actor,
        record=record,
        reason=reason,
        case_reference=case_reference,
        name="expire",
        check=lambda r: _check_expired(r, today),
    )


__all__ = [
    "DisplayWindow",
    "MinimumPeriod",
    "applicable_minimum",
    "RecordStateError",
    "add_months",
    "display_window",
    "record_clear_objection",
    "record_create",
    "record_expire",
    "record_mark_objection",
    "record_repair",
    "record_restore_display",
    "record_revoke",
    "record_update_fields",
]
