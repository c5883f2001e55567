"""Clocks: start, pause, resume, extend, stop, and keeping the stored due moment in step with its inputs.

``Clock.due_date``/``due_at``/``provisional``/``is_paused`` are derived (``workflows.deadlines``) and stored so
the overdue sweep is one indexed query (``clock_open_due_idx``). Every service below that changes an input
recomputes them in the same transaction; a calendar change recomputes every open clock it can affect
(``clocks_recompute_open``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.services.audit import audit_log
from cases.services.inbox import inbox_sync_clocks
from workflows.calendar import LEGAL_TZ, WorkCalendar, end_of_day, get_calendar, local_date, receipt_day
from workflows.deadlines import Derivation, derive_clock
from workflows.ladder import RESCHEDULE, clock_next_escalation_at
from workflows.models import Clock, ClockPause

logger = logging.getLogger("casework")

_DERIVED_FIELDS = ["start_date", "due_date", "due_at", "provisional", "is_paused"]
# What a change of the inputs writes: the derived fields and the escalation sweep's moment (workflows.ladder).
_SAVED_FIELDS = [*_DERIVED_FIELDS, "next_escalation_at"]


# --- derivation ------------------------------------------------------------------------------------
def _apply(clock: Clock, cal: WorkCalendar, rule_set_id: int | None = None) -> tuple[Derivation, bool]:
    """Set the derived fields on ``clock`` (not saved); return the derivation and whether anything changed.

    ``next_escalation_at`` follows, from the values in memory (no query): cleared when the clock stops or
    pauses; exact for a new clock (``rule_set_id``: its case's rule set); ``RESCHEDULE`` when the due moment
    moved (the next escalation sweep stores the exact moment with the case's rule set)."""
    before = tuple(getattr(clock, f) for f in _DERIVED_FIELDS)
    if clock.start_rule == Clock.StartRule.RECEIPT and clock.unit == Clock.Unit.CALENDAR_DAYS:
        # "30日" counts every day: day 0 is the calendar day of receipt, whatever day it is; only the last
        # day moves off a non-working day (PROCEDURES.md "Counting time"; 保障中小企业款项支付条例 Art 25).
        clock.start_date = local_date(clock.started_at)
    elif clock.start_rule == Clock.StartRule.RECEIPT:
        # Day 0 depends on the calendar too: an imported year can turn a provisional working day of receipt
        # into a holiday, and then counting starts on the next working day.
        clock.start_date = receipt_day(clock.started_at, calendar=cal)
    d = derive_clock(clock, cal)
    clock.due_date = d.due_date
    clock.due_at = end_of_day(d.due_date) if d.due_date else None
    clock.provisional = d.provisional
    clock.is_paused = d.is_paused
    changed = before != tuple(getattr(clock, f) for f in _DERIVED_FIELDS)
    if clock.pk is None:
        clock.next_escalation_at = clock_next_escalation_at(clock, rule_set_id)
    elif changed or clock.stopped_at is not None:
        later = clock_next_escalation_at(clock)
        clock.next_escalation_at = None if later is None else RESCHEDULE
    if d.provisional and (changed or clock.pk is None):
        # DESIGN.md: a year without data is never a silent guess.
        logger.warning(
            "Clock %s (%s) has a provisional due date %s: no holiday arrangement for %s; computed on weekends only.",
            clock.pk or "new",
            clock.label,
            d.due_date,
            ", ".join(str(y) for y in d.unknown_years),
        )
    return d, changed


def _lock(clock: Clock) -> Clock:
    return Clock.objects.select_for_update().get(pk=clock.pk)


def _refresh_caller(original: Clock, locked: Clock) -> None:
    """Let the caller keep using its instance after the service changed the row."""
    if original is not locked:
        for f in locked._meta.concrete_fields:
            setattr(original, f.attname, getattr(locked, f.attname))
        if hasattr(original, "_prefetched_objects_cache"):
            original._prefetched_objects_cache.pop("pauses", None)


def _today() -> dt.date:
    return timezone.localtime(timezone.now(), LEGAL_TZ).date()


def _audit_data(clock: Clock, **extra) -> dict:
    data = {
        "purpose": clock.purpose,
        "due_date": clock.due_date,
        "provisional": clock.provisional,
        "is_paused": clock.is_paused,
    }
    data.update(extra)
    return data


# --- services --------------------------------------------------------------------------------------
def clock_start(
    *,
    case: models.Model,
    purpose: str,
    label: str,
    budget: int,
    unit: str = Clock.Unit.WORKING_DAYS,
    kind: str = Clock.Kind.LEGAL,
    received_at: dt.datetime | dt.date,
    organisation=None,
    citation: str = "",
    extension_cap: int = 0,
    actor,
    start_rule: str = Clock.StartRule.RECEIPT,
) -> Clock:
    """Start a time limit on ``case`` (any saved model). ``start_rule="receipt"``: day 0 is the receipt day,
    or, for working-day limits, the next working day when received on a non-working day (or after hours, if
    configured); calendar-day limits always start on the calendar day of receipt;
    ``"immediate"``: day 0 is the date of ``received_at`` as given."""
    if budget < 0:
        raise ValidationError(_("时限不能为负数。"), code="negative_budget")
    if extension_cap < 0:
        raise ValidationError(_("延期上限不能为负数。"), code="negative_cap")
    if unit not in Clock.Unit.values:
        raise ValidationError(_("计时单位无效：%(unit)s") % {"unit": unit}, code="bad_unit")
    if kind not in Clock.Kind.values:
        raise ValidationError(_("时限类型无效：%(kind)s") % {"kind": kind}, code="bad_kind")
    if start_rule not in Clock.StartRule.values:
        raise ValidationError(_("起算规则无效：%(rule)s") % {"rule": start_rule}, code="bad_start_rule")
    if case.pk is None:
        raise ValueError("clock_start needs a saved case")
    if isinstance(received_at, dt.datetime):
        started_at = received_at if timezone.is_aware(received_at) else received_at.replace(tzinfo=LEGAL_TZ)
    else:
        started_at = dt.datetime.combine(received_at, dt.time.min, tzinfo=LEGAL_TZ)
    # No savepoint: nothing in it can fail in a way a caller would catch and carry on (the checks are above).
    with transaction.atomic(savepoint=False):
        cal = get_calendar()
        clock = Clock(
            content_type=ContentType.objects.get_for_model(case),
            object_id=case.pk,
            organisation=organisation,
            purpose=purpose,
            label=label,
            kind=kind,
            unit=unit,
            budget=budget,
            citation=citation,
            started_at=started_at,
            start_rule=start_rule,
            start_date=local_date(started_at),
            extension_cap=extension_cap,
        )
        _apply(clock, cal, getattr(case, "rule_set_id", None))
        clock.save()
        audit_log(
            actor=actor,
            action="clock.start",
            obj=clock,
            data=_audit_data(
                clock,
                budget=budget,
                unit=unit,
                kind=kind,
                start_date=clock.start_date,
                start_rule=start_rule,
                case=f"{clock.content_type.app_label}.{clock.content_type.model}:{case.pk}",
            ),
        )
    return clock


def clock_pause(*, clock: Clock, actor, reason_code: str, reason: str = "", on: dt.date | None = None) -> ClockPause:
    """Stop counting from the end of ``on`` (default today): Henan 社会信用条例 Art 41 (检验、检测、检疫、鉴定、
    专家评审 not counted) and PROCEDURES.md [cfg] (waiting for the applicant's 补正)."""
    if reason_code not in ClockPause.Reason.values:
        raise ValidationError(_("暂停事由无效：%(code)s") % {"code": reason_code}, code="bad_reason")
    on = on or _today()
    with transaction.atomic():
        locked = _lock(clock)
        if locked.stopped_at is not None:
            raise ValidationError(_("该时限已结束，不能暂停计时。"), code="stopped")
        if locked.pauses.filter(resumed_on__isnull=True).exists():
            raise ValidationError(_("该时限已在暂停中。"), code="already_paused")
        if on < locked.start_date:
            raise ValidationError(
                _("暂停日不能早于起算日（%(start)s）。") % {"start": locked.start_date.isoformat()}, code="before_start"
            )
        last = locked.pauses.order_by("-resumed_on").values_list("resumed_on", flat=True).first()
        if last is not None and on < last:
            raise ValidationError(
                _("暂停日不能早于上一次恢复计时的日期（%(date)s）。") % {"date": last.isoformat()}, code="overlaps"
            )
        if locked.due_date is not None and on > locked.due_date:
            # The time had already run out: a later pause cannot revive it.
            raise ValidationError(
                _("时限已于 %(due)s 届满，不能再暂停计时。") % {"due": locked.due_date.isoformat()}, code="already_due"
            )
        pause = ClockPause.objects.create(
            clock=locked,
            reason_code=reason_code,
            reason=reason,
            paused_on=on,
            paused_by=actor if getattr(actor, "pk", None) else None,
        )
        _apply(locked, get_calendar())
        locked.save(update_fields=_SAVED_FIELDS)
        audit_log(
            actor=actor,
            action="clock.pause",
            obj=locked,
            data=_audit_data(locked, reason_code=reason_code, reason=reason, paused_on=on),
        )
    _refresh_caller(clock, locked)
    return pause


def clock_resume(*, clock: Clock, actor, on: dt.date | None = None) -> ClockPause:
    """Count again after ``on`` (default today): the working days in (paused_on, on] are not counted."""
    on = on or _today()
    with transaction.atomic():
        locked = _lock(clock)
        pause = locked.pauses.select_for_update().filter(resumed_on__isnull=True).first()
        if pause is None:
            raise ValidationError(_("该时限未在暂停中，无需恢复计时。"), code="not_paused")
        if on < pause.paused_on:
            raise ValidationError(
                _("恢复日不能早于暂停日（%(date)s）。") % {"date": pause.paused_on.isoformat()}, code="before_pause"
            )
        pause.resumed_on = on
        pause.resumed_by = actor if getattr(actor, "pk", None) else None
        pause.save(update_fields=["resumed_on", "resumed_by"])
        _apply(locked, get_calendar())
        locked.save(update_fields=_SAVED_FIELDS)
        audit_log(
            actor=actor,
            action="clock.resume",
            obj=locked,
            data=_audit_data(locked, paused_on=pause.paused_on, resumed_on=on),
        )
    _refresh_caller(clock, locked)
    return pause


def clock_extend(*, clock: Clock, actor, days: int, reason: str) -> Clock:
    """Extend once, within the rule's cap, with reasons (told to the applicant by the 延期告知书).

    PROCEDURES.md §1: "extend once, with reasons told to the applicant, at most 10 WD more" [cfg]; the cap
    comes from the rule set and is stored on the clock at start.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _lock(clock)
        if locked.stopped_at is not None:
            raise ValidationError(_("该时限已结束，不能延期。"), code="stopped")
        if locked.extended_at is not None or locked.extension_days:
            raise ValidationError(
                _("该时限已于 %(date)s 延期 %(days)d 个%(unit)s，只能延期一次。")
                % {
                    "date": timezone.localtime(locked.extended_at, LEGAL_TZ).date().isoformat()
                    if locked.extended_at
                    else "",
                    "days": locked.extension_days,
                    "unit": locked.get_unit_display(),
                },
                code="already_extended",
            )
        if locked.extension_cap == 0:
            raise ValidationError(_("该时限依法不得延期。"), code="not_extendable")
        if days < 1 or days > locked.extension_cap:
            raise ValidationError(
                _("延期须在 1 至 %(cap)d 个%(unit)s之间，本次申请延期 %(days)d 个%(unit)s。")
                % {"cap": locked.extension_cap, "unit": locked.get_unit_display(), "days": days},
                code="beyond_cap",
            )
        if not reason:
            raise ValidationError(_("延期须说明理由。"), code="no_reason")
        locked.extension_days = days
        locked.extension_reason = reason
        locked.extended_at = timezone.now()
        _apply(locked, get_calendar())
        locked.save(update_fields=["extension_days", "extension_reason", "extended_at", *_SAVED_FIELDS])
        audit_log(actor=actor, action="clock.extend", obj=locked, data=_audit_data(locked, days=days, reason=reason))
    _refresh_caller(clock, locked)
    return clock


def clock_stop(
    *, clock: Clock, actor, reason: str = "", at: dt.datetime | None = None, already_locked: bool = False
) -> Clock:
    """The step is done (or the case ended). A pause still open ends on the stop date.

    ``already_locked``: the caller already selected ``clock`` FOR UPDATE with its pauses in this transaction
    (``clocks_locked``), so it is not read again."""
    at = at or timezone.now()
    # No savepoint: no caller catches a failed stop and carries on in its transaction.
    with transaction.atomic(savepoint=False):
        if already_locked:
            locked = clock
        else:
            # The pauses come with the locked clock (they change only under its lock) and serve the derivation.
            locked = Clock.objects.select_for_update().prefetch_related("pauses").get(pk=clock.pk)
        if locked.stopped_at is not None:
            raise ValidationError(_("该时限已结束。"), code="stopped")
        open_pause = next((p for p in locked.pauses.all() if p.resumed_on is None), None)
        if open_pause is not None:
            open_pause.resumed_on = max(local_date(at), open_pause.paused_on)
            open_pause.resumed_by = actor if getattr(actor, "pk", None) else None
            open_pause.save(update_fields=["resumed_on", "resumed_by"])
        locked.stopped_at = at
        locked.stop_reason = reason
        _apply(locked, get_calendar())
        locked.save(update_fields=["stopped_at", "stop_reason", *_SAVED_FIELDS])
        on_time = locked.due_at is None or at <= locked.due_at
        audit_log(
            actor=actor,
            action="clock.stop",
            obj=locked,
            data=_audit_data(locked, reason=reason, stopped_at=at, on_time=on_time),
        )
    _refresh_caller(clock, locked)
    return clock


def clocks_locked(*, case: models.Model, purposes=None, exclude=()) -> dict[str, Clock]:
    """``case``'s running clocks by purpose (the latest of each), locked FOR UPDATE with their pauses: two
    statements for all of them, ready for ``clock_stop(..., already_locked=True)``."""
    qs = Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(case), object_id=case.pk, stopped_at__isnull=True
    )
    if purposes is not None:
        qs = qs.filter(purpose__in=list(purposes))
    if exclude:
        qs = qs.exclude(purpose__in=list(exclude))
    return {c.purpose: c for c in qs.select_for_update().prefetch_related("pauses").order_by("id")}


def clock_recompute(*, clock: Clock, actor=None) -> Clock:
    """Recompute one clock's due moment from its inputs and the calendar in force."""
    with transaction.atomic():
        locked = _lock(clock)
        before = locked.due_date, locked.provisional
        _, changed = _apply(locked, get_calendar())
        if changed:
            locked.save(update_fields=_SAVED_FIELDS)
            audit_log(
                actor=actor,
                action="clock.recompute",
                obj=locked,
                data=_audit_data(locked, previous_due_date=before[0], previous_provisional=before[1]),
            )
    _refresh_caller(clock, locked)
    return clock


def _affected_open_clocks(since: dt.date | None, until: dt.date | None):
    qs = Clock.objects.filter(stopped_at__isnull=True)
    if since is None and until is None:
        return qs
    # A change on day X can only move a due date on or after X, and only for clocks received by X (day 0
    # itself can move, so compare the receipt moment); clocks whose span reaches an unknown year are always
    # rechecked (the change may have made it known).
    span = Q()
    if until is not None:
        span &= Q(started_at__lte=end_of_day(until))
    if since is not None:
        span &= Q(due_date__gte=since) | Q(due_date__isnull=True)
    return qs.filter(span | Q(provisional=True))


def clocks_recompute_open(
    *, actor=None, since: dt.date | None = None, until: dt.date | None = None, batch_size: int = 2000
) -> int:
    """Recompute every open clock a calendar change between ``since`` and ``until`` can affect (all open
    clocks when both are None). Returns how many due dates changed. One audit event for the batch."""
    changed_ids: list[int] = []
    with transaction.atomic():
        cal = get_calendar()
        qs = (
            _affected_open_clocks(since, until)
            .select_for_update(of=("self",))
            .order_by("pk")
            .prefetch_related(Prefetch("pauses", queryset=ClockPause.objects.order_by("paused_on", "id")))
        )
        batch: list[Clock] = []
        for clock in qs.iterator(chunk_size=batch_size):
            _, changed = _apply(clock, cal)
            if changed:
                batch.append(clock)
                changed_ids.append(clock.pk)
            if len(batch) >= batch_size:
                Clock.objects.bulk_update(batch, _SAVED_FIELDS)
                batch = []
        if batch:
            Clock.objects.bulk_update(batch, _SAVED_FIELDS)
        # A changed day moves the ladder's later rungs on clocks whose due date stayed: a rung first due on or
        # after ``since`` counts working days up to it, one before ``since`` does not (and the sweep computes
        # it afresh when it comes). Through clock_next_escalation_idx.
        later = Clock.objects.filter(stopped_at__isnull=True, next_escalation_at__isnull=False)
        if since is not None:
            later = later.filter(next_escalation_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=LEGAL_TZ))
        later.update(next_escalation_at=RESCHEDULE)
        # bulk_update sends no post_save: the inbox's copy of the due moments is refreshed here.
        inbox_sync_clocks(clock_ids=changed_ids)
        audit_log(
            actor=actor,
            action="clock.recompute_open",
            object_type="workflows.clock",
            data={
                "since": since,
                "until": until,
                "calendar_version": cal.version,
                "changed": len(changed_ids),
                "clock_ids": changed_ids[:1000],
            },
        )
    return len(changed_ids)
