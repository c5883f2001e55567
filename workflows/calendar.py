"""The working-day calendar: statutory holidays and make-up working days (调休).

Sources, in order of precedence:
1. ``CalendarOverride`` rows that administrators edit or import (the State Council publishes next
   year's arrangement each November; see ``manage.py import_holidays``);
2. the ``chinesecalendar`` package (official arrangements 2004 – its last year);
3. for years that neither covers, the statutory holidays of 全国年节及纪念日放假办法 (2024 revision, Art 2):
   元旦; 春节 (除夕 to 初三); 清明 (the solar term); 劳动节 5-1, 5-2; 端午; 中秋; 国庆 10-1 to 10-3 — the lunar
   dates from lunar-python — plus weekends, and no guessed 调休 or 补假 (only the State Council's notice
   fixes those, Arts 6–7). Such dates are *provisional*: every view flags them and an alarm tells the
   administrators (DESIGN.md, "Working-day calendar").

Arithmetic is O(1): the table is precomputed once per calendar version as a cumulative count of working
days per day and the list of working-day ordinals, so adding N working days is two list lookups.

"N个工作日" excludes weekends and statutory holidays and includes make-up days (行政许可法 Art 82;
全国年节及纪念日放假办法 Arts 6–7). "Within N working days of receipt": the day of receipt is day 0.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as cc_constants
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

# PROCEDURES.md "Counting time": a deadline is the end (23:59:59) of its day in Beijing time, whatever
# the server's or the user's zone.
LEGAL_TZ = ZoneInfo("Asia/Shanghai")

FIRST_YEAR = min(cc_constants.holidays).year
PACKAGE_LAST_YEAR = max(d.year for d in list(cc_constants.holidays) + list(cc_constants.workdays))

# chinesecalendar's holiday names → the Chinese name of the holiday period.
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The days off that 全国年节及纪念日放假办法 (2024 revision) Art 2 fixes for ``year`` by itself, without
    the year's 调休 arrangement: what a provisional year can still rely on."""
    from lunar_python import Lunar

    days: dict[dt.date, str] = {}

    def add(day: dt.date, name: str) -> None:
        # 中秋 can fall inside 国庆 (2028-10-03): one day off, both names.
        days[day] = f"{days[day]}、{name}" if day in days and name not in days[day] else name

    def solar(lunar) -> dt.date:
        s = lunar.getSolar()
        return dt.date(s.getYear(), s.getMonth(), s.getDay())

    add(dt.date(year, 1, 1), "元旦")
    new_year = solar(Lunar.fromYmd(year, 1, 1))
    for offset in range(-1, 3):  # 除夕, 正月初一至初三
        add(new_year + dt.timedelta(days=offset), "春节")
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    add(dt.date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), "清明节")
    add(dt.date(year, 5, 1), "劳动节")
    add(dt.date(year, 5, 2), "劳动节")
    add(solar(Lunar.fromYmd(year, 5, 5)), "端午节")
    for day in (1, 2, 3):
        add(dt.date(year, 10, day), "国庆节")
    add(solar(Lunar.fromYmd(year, 8, 15)), "中秋节")
    return days


class CalendarRangeError(ValueError):
    """A date outside every year the calendar can compute, even provisionally."""


@dataclass(frozen=True)
class DayInfo:
    is_workday: bool
    holiday_name: str  # "" for ordinary weekdays/weekends
    is_makeup: bool  # a weekend day that is a working day (调休上班)


class WorkCalendar:
    """An immutable, precomputed table. Build with ``WorkCalendar.build``; get the live one with ``get_calendar``."""

    def __init__(
        self,
        *,
        holidays: dict[dt.date, str],
        workdays: dict[dt.date, str],
        known_years: set[int],
        last_year: int,
        version: int = 0,
    ):
        self.version = version
        self.known_years = frozenset(known_years)
        self.first = dt.date(FIRST_YEAR, 1, 1)
        self.last = dt.date(last_year, 12, 31)
        self._base = self.first.toordinal()
        self._holidays = holidays
        self._workdays = workdays
        n = self.last.toordinal() - self._base + 1
        is_work = bytearray(n)
        cum = [0] * n
        workday_ordinals: list[int] = []
        count = 0
        for i in range(n):
            day = dt.date.fromordinal(self._base + i)
            if day in workdays:
                work = True
            elif day in holidays:
                work = False
            else:
                work = day.weekday() < 5
            if work:
                is_work[i] = 1
                count += 1
                workday_ordinals.append(self._base + i)
            cum[i] = count
        self._is_work = is_work
        self._cum = cum  # working days in [first, day]
        self._workday_ordinals = workday_ordinals

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def build(cls, overrides=(), imported_years=(), version: int = 0, provisional_years: int | None = None):
        """``overrides``: iterable of (date, is_workday, name). ``imported_years``: years declared known."""
        holidays: dict[dt.date, str] = {}
        workdays: dict[dt.date, str] = {}
        for day, english in cc_constants.holidays.items():
            holidays[day] = _PACKAGE_NAMES.get(english, english)
        for day, english in cc_constants.workdays.items():
            workdays[day] = _PACKAGE_NAMES.get(english, english)
        known = set(range(FIRST_YEAR, PACKAGE_LAST_YEAR + 1)) | set(imported_years)
        extra = settings.CALENDAR_PROVISIONAL_YEARS if provisional_years is None else provisional_years
        last_year = max(known) + extra
        # A year nobody has published yet still has its statutory festivals (provisional); the overrides
        # below (an administrator's correction) win over them.
        for year in range(FIRST_YEAR, last_year + 1):
            if year not in known:
                for day, name in statutory_holidays(year).items():
                    holidays.setdefault(day, name)
        for day, is_workday, name in overrides:
            holidays.pop(day, None)
            workdays.pop(day, None)
            if is_workday:
                workdays[day] = name or ""
            else:
                holidays[day] = name or ""
        return cls(holidays=holidays, workdays=workdays, known_years=known, last_year=last_year, version=version)

    # --- lookups ----------------------------------------------------------------------------------
    def _index(self, day: dt.date) -> int:
        i = day.toordinal() - self._base
        if i < 0 or i >= len(self._cum):
            raise CalendarRangeError(
                _("日期 %(date)s 超出工作日历可计算的范围（%(first)s 至 %(last)s）。")
                % {"date": day.isoformat(), "first": self.first.isoformat(), "last": self.last.isoformat()}
            )
        return i

    def is_workday(self, day: dt.date) -> bool:
        return bool(self._is_work[self._index(day)])

    def is_provisional(self, day: dt.date) -> bool:
        """True when ``day``'s year has no official arrangement: statutory festivals and weekends only."""
        return day.year not in self.known_years

    def span_is_provisional(self, start: dt.date, end: dt.date) -> bool:
        return any(year not in self.known_years for year in range(start.year, end.year + 1))

    def day_info(self, day: dt.date) -> DayInfo:
        work = self.is_workday(day)
        return DayInfo(
            is_workday=work,
            holiday_name=self._holidays.get(day, "") if not work else "",
            is_makeup=work and day.weekday() >= 5,
        )

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (``day`` itself is day 0); n == 0 returns ``day``."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return day
        k = self._cum[self._index(day)]
        j = k + n - 1
        if j >= len(self._workday_ordinals):
            raise CalendarRangeError(
                _("从 %(date)s 起 %(n)d 个工作日超出工作日历可计算的范围（至 %(last)s）。")
                % {"date": day.isoformat(), "n": n, "last": self.last.isoformat()}
            )
        return dt.date.fromordinal(self._workday_ordinals[j])

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        return self._cum[self._index(end)] - self._cum[self._index(start)]

    def next_workday_on_or_after(self, day: dt.date) -> dt.date:
        i = self._index(day)
        if self._is_work[i]:
            return day
        return self.add_working_days(day, 1)

    def calendar_day_deadline(self, start: dt.date, days: int) -> dt.date:
        """N calendar days from ``start``; a deadline on a non-working day moves to the next working day
        (行政许可法 Art 82 convention, PROCEDURES.md [cfg])."""
        return self.next_workday_on_or_after(start + dt.timedelta(days=days))

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the statutory holiday ``day`` belongs to; None for working days and plain weekends."""
        if self.is_workday(day):
            return None
        return self._holidays.get(day)

    def makeup_for(self, day: dt.date) -> str | None:
        """For a make-up working day (调休上班), the festival it makes up for ("" if unnamed); else None."""
        if not self.day_info(day).is_makeup:
            return None
        return self._workdays.get(day, "")

    def non_working_runs(self, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
        """Holiday periods touching (start, end]: (name, first day, last day), whole periods.

        A period is a run of consecutive holiday days; when two festivals share one period (2025-10-01..08:
        国庆节 and 中秋节) the name lists both, "、"-separated, in order of appearance.
        """
        runs: list[tuple[str, dt.date, dt.date]] = []
        one = dt.timedelta(days=1)
        day = start + one
        while day <= end:
            if self.holiday_name(day) is None:
                day += one
                continue
            first = day
            while self._holidays.get(first - one) is not None and self.holiday_name(first - one) is not None:
                first -= one
            last = day
            while self._holidays.get(last + one) is not None and self.holiday_name(last + one) is not None:
                last += one
            names: list[str] = []
            probe = first
            while probe <= last:
                name = self._holidays[probe]
                if name and name not in names:
                    names.append(name)
                probe += one
            runs.append(("、".join(names), first, last))
            day = last + one
        return runs

    def makeup_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Weekend days in (start, end] that are working days (调休上班)."""
        out = []
        day = start + dt.timedelta(days=1)
        while day <= end:
            if day.weekday() >= 5 and self.is_workday(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out


def naive_add_working_days(day: dt.date, n: int) -> dt.date:
    """Day-by-day reference used only by tests and benchmarks (known years only)."""
    while n > 0:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def office_closes() -> dt.time:
    raw = settings.RECEIPT_OFFICE_CLOSES
    try:
        return dt.time.fromisoformat(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"RECEIPT_OFFICE_CLOSES={raw!r} is not a time such as 17:30") from exc


def received_after_hours(received_at: dt.datetime | dt.date) -> bool:
    """True when the after-hours option is on and ``received_at`` is at or after closing time (Beijing)."""
    if not settings.RECEIPT_AFTER_HOURS_NEXT_DAY or not isinstance(received_at, dt.datetime):
        return False
    local = timezone.localtime(received_at, LEGAL_TZ) if timezone.is_aware(received_at) else received_at
    return local.time() >= office_closes()


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    if isinstance(moment, dt.datetime):
        return (timezone.localtime(moment, LEGAL_TZ) if timezone.is_aware(moment) else moment).date()
    return moment


def receipt_day(received_at: dt.datetime | dt.date, *, calendar: WorkCalendar | None = None) -> dt.date:
    """Day 0 of a limit counted "自收到之日起" (PROCEDURES.md "Counting time").

    The receipt day itself when it is a working day; otherwise the next working day [cfg]. With
    ``RECEIPT_AFTER_HOURS_NEXT_DAY`` on, something received after ``RECEIPT_OFFICE_CLOSES`` on a working day
    counts as received on the next working day [cfg, off by default].
    """
    cal = calendar or get_calendar()
    day = local_date(received_at)
    if cal.is_workday(day) and received_after_hours(received_at):
        return cal.add_working_days(day, 1)
    return cal.next_workday_on_or_after(day)


def end_of_day(day: dt.date) -> dt.datetime:
    """The deadline moment of a due date: 23:59:59.999999 Beijing time."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=LEGAL_TZ)


# --- the live calendar, shared by every request in this process --------------------------------------
_lock = threading.Lock()
_cached: WorkCalendar | None = None
_checked_at = 0.0
# How often a process asks the database whether another process changed the calendar.
VERSION_CHECK_SECONDS = 5.0


def _load_from_db() -> WorkCalendar:
    from workflows.models import CalendarOverride, CalendarVersion, CalendarYear

    version = CalendarVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    overrides = CalendarOverride.objects.values_list("date", "is_workday", "name")
    years = CalendarYear.objects.values_list("year", flat=True)
    return WorkCalendar.build(overrides=list(overrides), imported_years=list(years), version=version)


def get_calendar() -> WorkCalendar:
    """The calendar in force: rebuilt when another process bumped ``CalendarVersion``."""
    global _cached, _checked_at
    now = time.monotonic()
    cal = _cached
    if cal is not None and now - _checked_at < VERSION_CHECK_SECONDS:
        return cal
    from workflows.models import CalendarVersion

    version = CalendarVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    with _lock:
        if _cached is None or _cached.version != version:
            _cached = _load_from_db()
        _checked_at = now
        return _cached


def invalidate_calendar() -> None:
    """Forget this process's table (after a change in this process, or in tests)."""
    global _cached, _checked_at
    with _lock:
        _cached = None
        _checked_at = 0.0


def calendar_alarm_message() -> str:
    """Non-empty when deadlines are (or will soon be) provisional because a year has no data."""
    from workflows.models import Clock

    cal = get_calendar()
    today = timezone.localdate()
    from django.db.models import Count, Max

    stats = Clock.objects.filter(stopped_at__isnull=True, provisional=True).aggregate(
        n=Count("id"), last=Max("due_date")
    )
    provisional_open = stats["n"]
    if provisional_open:
        last_year = max(stats["last"].year if stats["last"] else today.year + 1, today.year)
        unknown = [str(y) for y in range(today.year, last_year + 1) if y not in cal.known_years]
        return _("有 %(n)d 个未结时限的截止日为暂定（%(years)s 年放假安排尚未录入），请尽快导入。") % {
            "n": provisional_open,
            "years": "、".join(unknown),
        }
    if today.year not in cal.known_years:
        return _(
            "本年度（%(year)d 年）放假安排尚未录入：所有截止日均按法定节日和周末暂定推算（未含调休），请尽快导入。"
        ) % {"year": today.year}
    next_year = today.year + 1
    # The State Council usually publishes next year's arrangement in late October or November.
    if next_year not in cal.known_years and today.month >= 11:
        return _("%(year)d 年放假安排尚未录入：跨入该年的截止日将按暂定计算，请在国务院办公厅通知发布后导入。") % {
            "year": next_year
        }
    return ""
