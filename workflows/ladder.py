"""When the escalation ladder (PROCEDURES.md §4) can next act on a clock: ``Clock.next_escalation_at``.

The escalation sweep (cases.services.escalation) fires a rung at ``now`` when (Beijing dates, working days
from the calendar in force, thresholds from the case's rule set):

- 临期提醒 (reminder): the due date is at most ``reminder_before_wd`` working days after today, and the
  deadline has not passed yet;
- 督办 (supervision): the deadline (24:00 of the due date) has passed;
- 约谈 / 通报 / 追责 (overdue rungs): at least ``n`` working days have passed since the due date.

Each condition first holds at the start of a day that follows from the due date alone, so the moment a rung
becomes due can be stored. ``next_escalation_at`` is the earliest such moment among the rungs the sweep has
not yet passed; the sweep reads only clocks whose moment has come, through the partial index
``clock_next_escalation_idx``. A stored moment earlier than the true one costs one extra look by the sweep,
which then stores the exact one (``RESCHEDULE`` uses that: "look at this clock at the next run"); a later one
would miss a rung, so every change of a clock's inputs writes either the exact moment or ``RESCHEDULE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflows import rules
from workflows.calendar import LEGAL_TZ, CalendarRangeError, WorkCalendar, get_calendar

# "Due for a look at the next sweep, whenever it runs": earlier than any moment a sweep runs at.
RESCHEDULE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class RungTiming:
    step: str  # EscalationStep.Step value
    key: str | None  # rule parameter with the threshold in working days; None: the day after the due date
    before: bool = False  # counted back from the due date (the reminder) instead of forward


LADDER_TIMING = (
    RungTiming("reminder", rules.RECTIFICATION_REMINDER_BEFORE_WD, before=True),
    RungTiming("supervision", None),
    RungTiming("interview", rules.RECTIFICATION_INTERVIEW_OVERDUE_WD),
    RungTiming("public_notice", rules.RECTIFICATION_PUBLIC_NOTICE_OVERDUE_WD),
    RungTiming("accountability", rules.RECTIFICATION_ACCOUNTABILITY_OVERDUE_WD),
)


def escalation_purposes() -> frozenset[str]:
    """The clock purposes some registered procedure escalates (``Procedure.clock_purposes``)."""
    from workflows.procedures import PROCEDURES

    return frozenset(p for proc in PROCEDURES.values() for p in proc.clock_purposes)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LEGAL_TZ)


def rung_day(rung: RungTiming, due_date: dt.date, threshold: int | None, cal: WorkCalendar) -> dt.date:
    """The first day on which ``rung``'s condition holds for a clock due on ``due_date``."""
    if rung.before:
        # The earliest day T whose "due within ``threshold`` working days" window reaches the due date: the
        # window end add_working_days(T, n) never decreases with T, so walk back while it still reaches.
        day = due_date
        while cal.add_working_days(day - dt.timedelta(days=1), threshold) >= due_date:
            day -= dt.timedelta(days=1)
        return day
    if not threshold:
        return due_date + dt.timedelta(days=1)  # the deadline is 24:00 of the due date
    # "n working days overdue" first holds on the n-th working day after the due date.
    return cal.add_working_days(due_date, threshold)


def ladder_moments(due_date: dt.date, rule_set_id: int, cal: WorkCalendar | None = None) -> dict[str, dt.datetime]:
    """Step → the moment it becomes due, for the rungs ``rule_set_id`` defines."""
    cal = cal or get_calendar()
    moments = {}
    for rung in LADDER_TIMING:
        try:
            threshold = int(rules.rule_param(rule_set_id, rung.key)) if rung.key else None
        except rules.RuleParameterMissing:
            continue  # an older rule set without this rung: it never fires
        try:
            moments[rung.step] = day_start(rung_day(rung, due_date, threshold, cal))
        except CalendarRangeError:
            # Beyond the calendar: look at the clock from the day after the due date (a look too early only
            # costs the sweep a visit; the sweep's own bounds are computed the same way and fail the same).
            moments[rung.step] = day_start(due_date + dt.timedelta(days=1))
    return moments


def next_escalation_at(
    due_date: dt.date | None,
    rule_set_id: int | None,
    *,
    after: dt.datetime | None = None,
    cal: WorkCalendar | None = None,
) -> dt.datetime | None:
    """The earliest moment a rung becomes due, after ``after`` when given (rungs due by then are the ones a
    sweep at ``after`` has just fired or found fired). None: no rung left to fire."""
    if due_date is None:
        return None
    if rule_set_id is None:
        return RESCHEDULE
    moments = [m for m in ladder_moments(due_date, rule_set_id, cal).values() if after is None or m > after]
    return min(moments, default=None)


def clock_next_escalation_at(clock, rule_set_id: int | None = None) -> dt.datetime | None:
    """What a clock service stores in ``next_escalation_at`` after changing ``clock`` (in memory, no query):
    nothing for a stopped, paused or non-escalated clock; the exact moment when the case's rule set is known
    (a clock being started); otherwise ``RESCHEDULE``, and the next sweep stores the exact moment."""
    if clock.stopped_at is not None or clock.is_paused or clock.due_date is None:
        return None
    if clock.kind != "legal" or clock.purpose not in escalation_purposes():
        return None
    return next_escalation_at(clock.due_date, rule_set_id)
