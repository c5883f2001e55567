"""The escalation ladder over legal clocks (PROCEDURES.md §4): 临期提醒 → 督办 → 约谈 → 通报 → 追责移送.

Generic over procedures: every procedure registered in workflows.procedures names the clock purposes that
count (``Procedure.clock_purposes``); the sweep walks them all, so a procedure merged later is escalated
without touching this module. Thresholds are parameters of each *case's* rule set (``rectification.*``),
so a change of rules never moves a running case's ladder.

The sweep is set-based: for each (procedure, rule set, step) one ``INSERT … SELECT … ON CONFLICT DO NOTHING
RETURNING id`` picks candidates through the partial index on open clocks' ``due_at`` and inserts the step
rows; the unique (clock, step) constraint makes each step fire exactly once, whoever fires it (a second
sweep, a concurrent sweep, a supervisor's manual escalation). Notices and timeline entries are then made
only for the rows this run inserted (and, bounded, for rows an interrupted run left un-notified).
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
from workflows.models import Clock, RuleSet
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
WHERE c.stopped_at IS NULL AND c.is_paused = false AND c.due_at < %(upper)s {lower}
  AND c.content_type_id = %(ct)s AND c.purpose {purposes} AND c.kind = 'legal'
  AND k.rule_set_id = %(rule_set)s
ON CONFLICT (clock_id, step) DO NOTHING
RETURNING id
"""


@dataclass
class SweepResult:
    inserted: dict[str, int]
    notified: int

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def escalation_sweep(*, now: dt.datetime | None = None, notify_limit: int = 500) -> SweepResult:
    """Fire every ladder step whose threshold has been reached on any registered procedure's clocks."""
    now = now or timezone.now()
    inserted: dict[str, int] = {r.step: 0 for r in LADDER}
    new_ids: list[int] = []
    rule_set_ids = list(RuleSet.objects.values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        for procedure in PROCEDURES.values():
            if not procedure.clock_purposes:
                continue
            model = procedure.model
            ct = ContentType.objects.get_for_model(model)
            for rule_set_id in rule_set_ids:
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
                        "ct": ct.pk,
                        "rule_set": rule_set_id,
                    }
                    in_purposes = any_of("purposes", procedure.clock_purposes, params)
                    sql = _INSERT.format(
                        step_table=EscalationStep._meta.db_table,
                        clock_table=Clock._meta.db_table,
                        case_table=model._meta.db_table,
                        lower="AND c.due_at >= %(lower)s" if lower else "",
                        purposes=in_purposes,
                    )
                    cursor.execute(sql, params)
                    ids = [row[0] for row in cursor.fetchall()]
                    inserted[rung.step] += len(ids)
                    new_ids.extend(ids)
        if new_ids:
            audit_log(
                actor=None,
                action="escalation.sweep",
                object_type="escalation",
                data={"at": now.isoformat(), "inserted": inserted},
            )
    notified = escalation_notify(ids=new_ids[:notify_limit]) if notify_limit else 0
    if notify_limit and len(new_ids) < notify_limit:
        # Rows an earlier, interrupted run inserted but never notified.
        notified += escalation_notify(ids=None, limit=notify_limit - len(new_ids))
    return SweepResult(inserted=inserted, notified=notified)


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
