"""The escalation ladder over legal clocks (PROCEDURES.md §4): 临期提醒 → 督办 → 约谈 → 通报 → 追责移送.

Generic over procedures: every procedure registered in workflows.procedures names the clock purposes that
count (``Procedure.clock_purposes``); the sweep walks them all, so a procedure merged later is escalated
without touching this module. Thresholds are parameters of each *case's* rule set (``rectification.*``),
so a change of rules never moves a running case's ladder.

The sweep reads only what is due: each clock stores when a rung next becomes due (``next_escalation_at``,
workflows.ladder), and a run locks the clocks whose moment has come through the partial index
``clock_next_escalation_idx`` — with nothing due, one index probe that finds nothing. For those clocks, for
each (procedure, rule set, step) one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id`` applies the
step's threshold and inserts the step rows; the unique (clock, step) constraint makes each step fire exactly
once, whoever fires it (a second sweep, a concurrent sweep, a supervisor's manual escalation). Each clock then
gets the moment of its next rung, in the same transaction. Notices and timeline entries are then made only
for the rows this run inserted (and, bounded, for rows an interrupted run left un-notified).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import CaseActivity, Organisation
from cases.models.rectification import EscalationStep
from cases.portable_sql import any_of, moment
from cases.services.audit import audit_log
from workflows import rules
from workflows.calendar import LEGAL_TZ, get_calendar
from workflows.ladder import next_escalation_at
from workflows.models import Clock
from workflows.procedures import PROCEDURES

Step = EscalationStep.Step


# Each rung: the rule parameter giving its threshold in working days (None: "on the day it is overdue"),
# and the notice it issues (None: an in-app reminder without a 文书).
@dataclass(frozen=True)
class Rung:
    step: str
    key: str | None
    notice_kind: str | None


LADDER = (
    Rung(Step.REMINDER, rules.RECTIFICATION_REMINDER_BEFORE_WD, None),
    Rung(Step.SUPERVISION, None, "rectification_supervision"),
    Rung(Step.INTERVIEW, rules.RECTIFICATION_INTERVIEW_OVERDUE_WD, "rectification_interview"),
    Rung(Step.PUBLIC_NOTICE, rules.RECTIFICATION_PUBLIC_NOTICE_OVERDUE_WD, "rectification_public_notice"),
    Rung(Step.ACCOUNTABILITY, rules.RECTIFICATION_ACCOUNTABILITY_OVERDUE_WD, "rectification_accountability"),
)
RUNGS = {r.step: r for r in LADDER}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LEGAL_TZ)


def overdue_cutoff(today: dt.date, n: int) -> dt.date:
    """The latest due date that is at least ``n`` working days overdue on ``today`` (working days after the
    due date, up to and including today, holidays not counted)."""
    cal = get_calendar()
    day = today - dt.timedelta(days=1)
    while cal.working_days_between(day, today) < n:
        day -= dt.timedelta(days=1)
    return day


def _bounds(rule_set_id: int, rung: Rung, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime]:
    """(lower, upper) on a clock's due_at for ``rung`` to fire at ``now``: lower <= due_at < upper."""
    today = timezone.localdate(now)
    if rung.step == Step.REMINDER:
        before = int(rules.rule_param(rule_set_id, rung.key))
        last_day = get_calendar().add_working_days(today, before)
        return now, _day_start(last_day + dt.timedelta(days=1))
    if rung.key is None:
        return None, now
    n = int(rules.rule_param(rule_set_id, rung.key))
    return None, _day_start(overdue_cutoff(today, n) + dt.timedelta(days=1))


_INSERT = """
INSERT INTO {step_table} (clock_id, step, content_type_id, object_id, organisation_id, fired_at, manual,
                          note, notified)
SELECT c.id, %(step)s, c.content_type_id, c.object_id, c.organisation_id, %(now)s, false, '', false
FROM {clock_table} c JOIN {case_table} k ON k.id = c.object_id
WHERE c.id {ids} AND c.stopped_at IS NULL AND c.is_paused = false AND c.due_at < %(upper)s {lower}
  AND c.content_type_id = %(ct)s AND c.purpose {purposes} AND c.kind = 'legal'
  AND k.rule_set_id = %(rule_set)s
ON CONFLICT (clock_id, step) DO NOTHING
RETURNING id
"""


# The clocks whose next rung has come (the partial index clock_next_escalation_idx answers it). Locked, so a
# clock service changing one meanwhile waits, and a concurrent sweep takes the others.
_DUE = """
SELECT c.id, c.content_type_id, c.object_id, c.purpose, c.kind, c.due_date, c.is_paused
FROM {clock_table} c
WHERE c.stopped_at IS NULL AND c.next_escalation_at IS NOT NULL AND c.next_escalation_at <= %(now)s
ORDER BY c.next_escalation_at, c.id
LIMIT %(limit)s
{lock}
"""

# Clocks a run is done with, each with the moment of its next rung (NULL: none left).
_RESCHEDULE = """
UPDATE {clock_table} SET next_escalation_at = %(at)s WHERE id {ids}
"""


@dataclass
class SweepResult:
    inserted: dict[str, int]
    notified: int
    looked_at: int = 0

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def escalation_due_sql(*, now: dt.datetime, limit: int) -> tuple[str, dict]:
    """The statement (and parameters) that picks the clocks due for a look: what EXPLAIN tests read."""
    lock = "FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = _DUE.format(clock_table=Clock._meta.db_table, lock=lock)
    return sql, {"now": moment(now), "limit": limit}


def escalation_sweep(*, now: dt.datetime | None = None, notify_limit: int = 500, batch: int = 2000) -> SweepResult:
    """Fire every ladder step whose threshold has been reached on any registered procedure's clocks.

    Works through the due clocks ``batch`` at a time, each batch in its own transaction, so a backlog (after
    downtime, or the first run after a calendar import) never holds thousands of clock locks at once."""
    now = now or timezone.now()
    inserted: dict[str, int] = {r.step: 0 for r in LADDER}
    new_ids: list[int] = []
    looked_at = 0
    while True:
        count, ids = _sweep_batch(now, batch, inserted)
        looked_at += count
        new_ids.extend(ids)
        if count < batch:
            break
    notified = escalation_notify(ids=new_ids[:notify_limit]) if notify_limit else 0
    if notify_limit and len(new_ids) < notify_limit:
        # Rows an earlier, interrupted run inserted but never notified.
        notified += escalation_notify(ids=None, limit=notify_limit - len(new_ids))
    return SweepResult(inserted=inserted, notified=notified, looked_at=looked_at)


def _sweep_batch(now: dt.datetime, limit: int, inserted: dict[str, int]) -> tuple[int, list[int]]:
    """One transaction: lock up to ``limit`` due clocks, fire their rungs, store each one's next moment."""
    new_ids: list[int] = []
    fired = {r.step: 0 for r in LADDER}
    procedures = {ContentType.objects.get_for_model(p.model).pk: p for p in PROCEDURES.values() if p.clock_purposes}
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = escalation_due_sql(now=now, limit=limit)
        cursor.execute(sql, params)
        due = cursor.fetchall()
        if not due:
            return 0, []
        # Each escalated clock's case rule set: the thresholds are the case's (PROCEDURES.md §4).
        rule_sets: dict[int, int | None] = {}
        by_ct: dict[int, list] = {}
        for row in due:
            clock_id, ct_id, object_id, purpose, kind, _due_date, _paused = row
            procedure = procedures.get(ct_id)
            if procedure is not None and kind == Clock.Kind.LEGAL and purpose in procedure.clock_purposes:
                by_ct.setdefault(ct_id, []).append(row)
        for ct_id, rows in by_ct.items():
            model = procedures[ct_id].model
            case_rule_sets = dict(
                model._default_manager.filter(pk__in={r[2] for r in rows}).values_list("pk", "rule_set_id")
            )
            for r in rows:
                rule_sets[r[0]] = case_rule_sets.get(r[2])
        for ct_id, procedure in procedures.items():  # in registration order, as the notices go out
            rows = by_ct.get(ct_id, [])
            for rule_set_id in sorted({rule_sets[r[0]] for r in rows if rule_sets[r[0]] is not None}):
                clock_ids = [r[0] for r in rows if rule_sets[r[0]] == rule_set_id]
                for rung in LADDER:
                    try:
                        lower, upper = _bounds(rule_set_id, rung, now)
                    except rules.RuleParameterMissing:
                        continue  # an older rule set without the ladder: nothing to fire
                    # (portable_sql: the same statement runs on the embedded SQLite of `make demo`)
                    params = {
                        "step": rung.step,
                        "now": moment(now),
                        "upper": moment(upper),
                        "lower": moment(lower),
                        "ct": ct_id,
                        "rule_set": rule_set_id,
                    }
                    in_purposes = any_of("purposes", procedure.clock_purposes, params)
                    in_ids = any_of("ids", clock_ids, params)
                    sql = _INSERT.format(
                        step_table=EscalationStep._meta.db_table,
                        clock_table=Clock._meta.db_table,
                        case_table=procedure.model._meta.db_table,
                        lower="AND c.due_at >= %(lower)s" if lower else "",
                        purposes=in_purposes,
                        ids=in_ids,
                    )
                    cursor.execute(sql, params)
                    ids = [row[0] for row in cursor.fetchall()]
                    fired[rung.step] += len(ids)
                    new_ids.extend(ids)
        # The next moment of each clock looked at: the rungs due by ``now`` have just fired (or had already).
        cal = get_calendar()
        later: dict[dt.datetime | None, list[int]] = {}
        computed: dict[tuple, dt.datetime | None] = {}  # a backlog shares few (due date, rule set) pairs
        for clock_id, _ct, _obj, _purpose, _kind, due_date, paused in due:
            rule_set_id = rule_sets.get(clock_id)
            at = None
            if rule_set_id is not None and not paused:
                key = (due_date, rule_set_id)
                if key not in computed:
                    computed[key] = next_escalation_at(due_date, rule_set_id, after=now, cal=cal)
                at = computed[key]
            later.setdefault(at, []).append(clock_id)
        for at, clock_ids in later.items():
            params = {"at": moment(at)}
            cursor.execute(
                _RESCHEDULE.format(clock_table=Clock._meta.db_table, ids=any_of("ids", clock_ids, params)), params
            )
        if new_ids:
            audit_log(
                actor=None,
                action="escalation.sweep",
                object_type="escalation",
                data={"at": now.isoformat(), "inserted": fired},
            )
    for step, n in fired.items():
        inserted[step] += n
    return len(due), new_ids


# --- notices and timeline for fired steps -----------------------------------------------------------------
def _issuer() -> Organisation | None:
    """督办 comes from the supervising office (领导小组办公室); the credit centre when there is none."""
    return (
        Organisation.objects.filter(kind=Organisation.Kind.SUPERVISOR, is_active=True).order_by("pk").first()
        or Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).order_by("pk").first()
    )


def _matter(case) -> str:
    return getattr(case, "summary", "") or str(getattr(case, "record", "") or case)


# Outside 政务失信, a unit that misses a legal limit of the credit procedures is ordered to correct it
# (河南省社会信用条例 Art 65: 责令改正; 情节严重的 给予处分); the limit's own source is cited first.
_ART_65 = _("《河南省社会信用条例》第六十五条")


def _legal_basis(clock: Clock) -> str:
    if clock.purpose.startswith("rectification."):
        return ""  # the rectification kinds carry their own basis (国发〔2016〕33号, Order 802 …)
    return "；".join(part for part in (clock.citation, str(_ART_65)) if part)


def _overdue_wd(clock: Clock, today: dt.date) -> int:
    if clock.due_date is None or clock.due_date >= today:
        return 0
    return get_calendar().working_days_between(clock.due_date, today)


def _notify_one(step: EscalationStep, now: dt.datetime) -> None:
    from notices.services import notice_request

    clock = step.clock
    case = clock.case
    rung = RUNGS[step.step]
    today = timezone.localdate(now)
    text = _("%(step)s：%(label)s（截止%(due)s）") % {
        "step": step.get_step_display(),
        "label": clock.label,
        "due": clock.due_date.isoformat() if clock.due_date else "-",
    }
    if step.note:
        text += f"；{step.note}"
    CaseActivity.objects.create(
        content_type_id=clock.content_type_id,
        object_id=clock.object_id,
        kind=CaseActivity.Kind.NOTE,
        actor=step.actor,
        text=text,
    )
    org = step.organisation or clock.organisation
    issuer = _issuer()
    if rung.notice_kind and case is not None and issuer is not None and org is not None:
        # Addressed to the organisation holding the late clock, whatever its kind (a department late on a
        # repair decision, a provider late on an objection check, a government body late on rectification):
        # it lands in that organisation's notice inbox. A government body is also a credit subject; the
        # notice names that subject too, as the 政务失信 record does.
        step.notice = notice_request(
            case=case,
            kind=rung.notice_kind,
            trigger=f"escalation-{step.pk}",
            issuer=issuer,
            addressee_organisation=org,
            addressee_subject=getattr(org, "subject", None),
            actor=step.actor,
            context={
                "matter": _matter(case),
                "tracking_number": getattr(case, "tracking_number", "") or "",
                "limit_label": clock.label,
                "due_date": clock.due_date.isoformat() if clock.due_date else "",
                "overdue_days": str(_overdue_wd(clock, today)),
                "organisation": org.name,
                "addressee_name": org.name,
                "note": step.note,
                "legal_basis": _legal_basis(clock),
            },
        )
    step.notified = True
    step.save(update_fields=["notice", "notified"])
    audit_log(
        actor=step.actor,
        action=f"escalation.{step.step}",
        obj=step,
        data={
            "clock": clock.pk,
            "case": f"{clock.content_type_id}:{clock.object_id}",
            "manual": step.manual,
            "notice": step.notice_id,
        },
    )


def escalation_notify(*, ids: list[int] | None, limit: int = 500) -> int:
    """Timeline entry, audit event and (from 督办 on) the notice for fired steps not yet notified."""
    now = timezone.now()
    qs = (
        EscalationStep.objects.filter(notified=False)
        .select_related("clock", "organisation", "organisation__subject", "actor")
        .order_by("id")
    )
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    done = 0
    for pk in list(qs.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            step = qs.select_for_update(of=("self",)).filter(pk=pk).first()
            if step is None:
                continue  # another worker took it
            _notify_one(step, now)
        done += 1
    return done


# --- by hand ----------------------------------------------------------------------------------------------
def escalation_fire(*, actor, clock: Clock, step: str, note: str = "") -> EscalationStep:
    """A supervisor escalates by hand (any rung, whatever the threshold). Still once per clock and step."""
    if not (policy.is_supervisor(actor) or policy.is_platform(actor)):
        raise PermissionDenied(_("只有督办人员可以发起督办。"))
    if step not in Step.values:
        raise ValidationError(_("督办层级无效。"), code="bad_step")
    if clock.stopped_at is not None:
        raise ValidationError(_("该时限已结束，无需督办。"), code="stopped")
    now = timezone.now()
    try:
        with transaction.atomic():
            row = EscalationStep.objects.create(
                clock=clock,
                step=step,
                content_type_id=clock.content_type_id,
                object_id=clock.object_id,
                organisation_id=clock.organisation_id,
                fired_at=now,
                manual=True,
                actor=actor,
                note=note.strip()[:500],
            )
            row = EscalationStep.objects.select_related("clock", "organisation", "organisation__subject", "actor").get(
                pk=row.pk
            )
            _notify_one(row, now)
    except IntegrityError:
        raise ValidationError(
            _("该时限已发起过“%(step)s”，同一层级不重复发起。") % {"step": Step(step).label}, code="already_fired"
        ) from None
    return row
