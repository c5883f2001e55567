"""How a clock's due date follows from its budget, start, pauses, extension and the calendar.

Pure functions, no database writes: the services store the result (``Clock.due_date``/``due_at``/
``provisional``), the selectors and ``workflows.explain`` show how it was reached.

Rules (PROCEDURES.md "Counting time"):
- working-day budgets: the due date is the N-th working day after day 0 (``Clock.start_date``), N being the
  budget plus the extension (行政许可法 Art 82);
- calendar-day budgets: day 0 + N days; a due date on a non-working day moves to the next working day [cfg];
- a pause from P to R (检验、检测、检疫、鉴定、专家评审, Henan 社会信用条例 Art 41; 补正 [cfg]) does not count the
  days in (P, R]; a pause still open leaves the clock without a due date (it cannot run out while paused);
- a pause that begins after the due date does not move it: the time had already run out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from workflows.calendar import WorkCalendar

WORKING_DAYS = "wd"
CALENDAR_DAYS = "cd"


@dataclass(frozen=True)
class PauseSpan:
    paused_on: dt.date
    resumed_on: dt.date | None
    reason_code: str = ""
    reason_label: str = ""
    # Units (working or calendar days, per the clock) not counted because of this pause.
    units_not_counted: int = 0
    # False when the pause began on or after the due date and so moved nothing.
    effective: bool = True


@dataclass
class Derivation:
    unit: str
    budget: int
    extension_days: int
    start_date: dt.date
    due_date: dt.date | None
    # Calendar-day budgets: the day the count ends on before moving off a non-working day.
    raw_due: dt.date | None
    pauses: list[PauseSpan] = field(default_factory=list)
    open_pause: PauseSpan | None = None
    # Units of the budget left when the clock is paused (or when the derivation stopped).
    remaining_at_pause: int | None = None
    provisional: bool = False
    unknown_years: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.budget + self.extension_days

    @property
    def is_paused(self) -> bool:
        return self.open_pause is not None


def _units_between(cal: WorkCalendar, unit: str, start: dt.date, end: dt.date) -> int:
    """Units in (start, end]."""
    if unit == WORKING_DAYS:
        return cal.working_days_between(start, end)
    return (end - start).days


def _advance(cal: WorkCalendar, unit: str, start: dt.date, n: int) -> dt.date:
    if unit == WORKING_DAYS:
        return cal.add_working_days(start, n)
    return start + dt.timedelta(days=n)


def derive(
    *,
    unit: str,
    budget: int,
    extension_days: int,
    start_date: dt.date,
    pauses: Iterable[tuple[dt.date, dt.date | None, str, str]],
    calendar: WorkCalendar,
) -> Derivation:
    """``pauses``: (paused_on, resumed_on or None, reason_code, reason_label), any order."""
    cal = calendar
    ordered: Sequence = sorted(pauses, key=lambda p: p[0])
    remaining = budget + extension_days
    cursor = start_date
    spans: list[PauseSpan] = []
    open_pause: PauseSpan | None = None
    for paused_on, resumed_on, code, label in ordered:
        candidate = _advance(cal, unit, cursor, remaining)
        if paused_on > candidate:
            # The time had run out before this pause began; it moves nothing. (A pause on the due date
            # itself still counts: the deadline is the end of that day.)
            spans.append(PauseSpan(paused_on, resumed_on, code, label, 0, effective=False))
            continue
        used = max(0, _units_between(cal, unit, cursor, paused_on))
        remaining -= used
        if resumed_on is None:
            open_pause = PauseSpan(paused_on, None, code, label, 0)
            spans.append(open_pause)
            break
        frozen_from = max(cursor, paused_on)
        not_counted = max(0, _units_between(cal, unit, frozen_from, resumed_on))
        spans.append(PauseSpan(paused_on, resumed_on, code, label, not_counted))
        cursor = max(cursor, paused_on, resumed_on)

    if open_pause is not None:
        due = raw = None
        span_end = open_pause.paused_on
    else:
        raw = _advance(cal, unit, cursor, remaining)
        due = raw if unit == WORKING_DAYS else cal.next_workday_on_or_after(raw)
        span_end = due
    unknown = [y for y in range(start_date.year, max(span_end, start_date).year + 1) if y not in cal.known_years]
    return Derivation(
        unit=unit,
        budget=budget,
        extension_days=extension_days,
        start_date=start_date,
        due_date=due,
        raw_due=raw,
        pauses=spans,
        open_pause=open_pause,
        remaining_at_pause=remaining if open_pause is not None else None,
        provisional=bool(unknown),
        unknown_years=unknown,
    )


def derive_clock(clock, calendar: WorkCalendar) -> Derivation:
    """The derivation for a saved ``Clock`` (uses ``clock.pauses.all()``, so prefetch them in bulk)."""
    rows = clock.pauses.all() if clock.pk is not None else []  # a clock being started has no pauses yet
    pauses = [(p.paused_on, p.resumed_on, p.reason_code, p.get_reason_code_display()) for p in rows]
    return derive(
        unit=clock.unit,
        budget=clock.budget,
        extension_days=clock.extension_days,
        start_date=clock.start_date,
        pauses=pauses,
        calendar=calendar,
    )
