"""Reads about clocks: status for lists and case pages, the overdue set, the calendar's health.

Scoping: department and government-body staff see their own organisation's clocks, platform staff,
supervisors and administrators see all; applicants see the clocks of cases they can see, which the case
selectors decide (pass those cases' clocks in, or use ``clocks_for_case`` after the case check).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone
from viewflow.workflow.status import STATUS

from workflows.calendar import LEGAL_TZ, WorkCalendar, get_calendar
from workflows.deadlines import Derivation, derive_clock
from workflows.explain import explain
from workflows.models import Clock, ClockPause

# Roles whose users see only their own organisation's clocks.
_ORGANISATION_SCOPED = {"dept_handler", "dept_leader", "gov_body"}
_SEE_ALL = {"platform_intake", "platform_reviewer", "supervisor", "administrator"}

# A viewflow task still waiting for someone (the engine completes only these; queues list only these).
OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class State:
    RUNNING = "running"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ClockStatus:
    clock: Clock
    state: str
    due_date: dt.date | None
    due_at: dt.datetime | None
    provisional: bool
    # Units of the clock (working or calendar days) left after today (0 on the due date); for a paused clock,
    # what is left of the budget; None when stopped or overdue.
    remaining: int | None
    # Working days after the due date up to today; 0 when overdue only since a non-working day.
    overdue_working_days: int | None
    stopped_on_time: bool | None
    explanation: str
    derivation: Derivation

    @property
    def is_overdue(self) -> bool:
        return self.state == State.OVERDUE


def _pauses_prefetch() -> Prefetch:
    return Prefetch("pauses", queryset=ClockPause.objects.order_by("paused_on", "id"))


def clock_status(
    clock: Clock, *, now: dt.datetime | None = None, calendar: WorkCalendar | None = None, language: str | None = None
) -> ClockStatus:
    """Remaining or overdue working days and the one-line explanation, as of ``now``."""
    cal = calendar or get_calendar()
    now = now or timezone.now()
    today = timezone.localtime(now, LEGAL_TZ).date()
    d = derive_clock(clock, cal)
    remaining = overdue = on_time = None
    due_date, due_at = clock.due_date, clock.due_at
    if clock.stopped_at is not None:
        state = State.STOPPED
        on_time = due_at is None or clock.stopped_at <= due_at
    elif d.is_paused:
        state = State.PAUSED
        remaining = d.remaining_at_pause
    elif due_at is not None and now > due_at:
        state = State.OVERDUE
        overdue = max(0, cal.working_days_between(due_date, today))
    else:
        # In the clock's own unit: the page says "剩余N个自然日" for a calendar-day limit.
        if due_date is None:
            remaining = None
        elif clock.unit == Clock.Unit.CALENDAR_DAYS:
            remaining = max(0, (due_date - today).days)
        else:
            remaining = max(0, cal.working_days_between(today, due_date))
        state = State.DUE_TODAY if due_date == today else State.RUNNING
    return ClockStatus(
        clock=clock,
        state=state,
        due_date=due_date,
        due_at=due_at,
        provisional=clock.provisional,
        remaining=remaining,
        overdue_working_days=overdue,
        stopped_on_time=on_time,
        explanation=explain(clock=clock, derivation=d, calendar=cal, language=language),
        derivation=d,
    )


def clock_statuses(clocks, *, now: dt.datetime | None = None, language: str | None = None) -> list[ClockStatus]:
    """Statuses for a list page: one calendar, pauses prefetched by the caller's queryset (see below)."""
    cal = get_calendar()
    now = now or timezone.now()
    return [clock_status(c, now=now, calendar=cal, language=language) for c in clocks]


def clocks_for_case(*, case: Model) -> QuerySet[Clock]:
    """The clocks on ``case`` (the caller has already checked the user may see the case)."""
    return (
        Clock.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk)
        .select_related("organisation", "content_type")
        .prefetch_related(_pauses_prefetch())
        .order_by("started_at", "pk")
    )


def open_clocks_of_case(case: Model) -> QuerySet[Clock]:
    """The case's clocks still running (paused ones included), oldest first."""
    return Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(case), object_id=case.pk, stopped_at__isnull=True
    ).order_by("pk")


def _scope(qs: QuerySet[Clock], user) -> QuerySet[Clock]:
    if user is None:  # the system sweep
        return qs
    role = getattr(user, "role", None)
    if user.is_superuser or role in _SEE_ALL:
        return qs
    if role in _ORGANISATION_SCOPED and user.organisation_id:
        return qs.filter(organisation_id=user.organisation_id)
    return qs.none()


def overdue_clocks(
    *, now: dt.datetime | None = None, user=None, kind: str | None = None, organisation=None
) -> QuerySet[Clock]:
    """Running clocks whose due moment has passed, oldest first.

    The filter matches the partial index ``clock_open_due_idx`` (due_at WHERE stopped_at IS NULL AND NOT
    is_paused) so the sweep reads only the overdue part of the index. ``user=None``: unscoped (the sweep).
    """
    now = now or timezone.now()
    qs = Clock.objects.filter(stopped_at__isnull=True, is_paused=False, due_at__lt=now)
    if kind:
        qs = qs.filter(kind=kind)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return _scope(qs, user).order_by("due_at")


def open_clocks(*, user=None, organisation=None) -> QuerySet[Clock]:
    """Every clock not stopped, for dashboards, pauses prefetched for ``clock_statuses``."""
    qs = Clock.objects.filter(stopped_at__isnull=True)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return (
        _scope(qs, user)
        .select_related("organisation", "content_type")
        .prefetch_related(_pauses_prefetch())
        .order_by("due_at", "pk")
    )


@dataclass(frozen=True)
class CalendarStatus:
    version: int
    first: dt.date
    last: dt.date
    known_years: list[int]
    provisional_years: list[int]
    override_count: int
    imported_years: list[tuple[int, str]]
    open_provisional_clocks: int
    alarm: str


def calendar_status() -> CalendarStatus:
    from workflows.calendar import calendar_alarm_message
    from workflows.models import CalendarOverride, CalendarYear

    cal = get_calendar()
    years = range(cal.first.year, cal.last.year + 1)
    return CalendarStatus(
        version=cal.version,
        first=cal.first,
        last=cal.last,
        known_years=sorted(cal.known_years),
        provisional_years=[y for y in years if y not in cal.known_years],
        override_count=CalendarOverride.objects.count(),
        imported_years=list(CalendarYear.objects.values_list("year", "source")),
        open_provisional_clocks=Clock.objects.filter(stopped_at__isnull=True, provisional=True).count(),
        alarm=calendar_alarm_message(),
    )


def with_clock_status(cases, *, step_name, now: dt.datetime | None = None) -> list:
    """Give each case of a desk or list page ``clock`` (the ClockStatus of its annotated
    ``current_clock_id``, or None) and ``step`` (``step_name`` of its annotated open ``task_node``), reading
    every clock of the page in one query. Shared by every procedure's queue."""
    cases = list(cases)
    ids = [c.current_clock_id for c in cases if c.current_clock_id]
    clocks = {c.pk: c for c in Clock.objects.filter(pk__in=ids).prefetch_related(_pauses_prefetch())} if ids else {}
    cal = get_calendar()
    now = now or timezone.now()
    for case in cases:
        clock = clocks.get(case.current_clock_id)
        case.clock = clock_status(clock, now=now, calendar=cal) if clock else None
        node = case.task_node
        case.step = step_name(getattr(node, "name", None) or (str(node).rsplit(".", 1)[-1] if node else None))
    return cases
