"""One line telling a user how a due date was computed (DESIGN.md, "Clocks"): which holidays were skipped,
which make-up days counted, which pauses were left out, and whether the result is provisional.

e.g. 自2026年9月30日收件起3个工作日，跳过国庆假期10月1日至7日，10月10日（星期六）调休上班，截止2026年10月10日

The sentence is assembled from dates, names and counts, so each language has its own builder rather than
one gettext template per fragment: Chinese and English word order and date formats differ too much for a
translator to fix with a message catalog. The active language picks the builder.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from workflows.calendar import WorkCalendar, local_date, received_after_hours
from workflows.deadlines import WORKING_DAYS, Derivation

_ZH_WEEKDAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
_EN_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# How people name the days off around a festival: 国庆节 → 国庆假期, 春节 → 春节假期.
_ZH_SHORT = {"国庆节": "国庆", "中秋节": "中秋", "清明节": "清明", "端午节": "端午"}
_EN_NAMES = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "国庆节": "National Day",
    "中秋节": "Mid-autumn Festival",
    "抗战胜利纪念日": "Victory Day",
}
# Pause reasons (ClockPause.Reason) in English, so the sentence does not depend on the message catalog.
_EN_REASONS = {
    "testing": "testing",
    "inspection": "inspection",
    "quarantine": "quarantine",
    "appraisal": "appraisal",
    "expert_review": "expert review",
    "supplement": "waiting for the applicant's supplement",
}


def explain(*, clock, derivation: Derivation, calendar: WorkCalendar, language: str | None = None) -> str:
    language = language or translation.get_language() or "zh-hans"
    builder = _English if language.lower().startswith("en") else _Chinese
    return builder(clock, derivation, calendar).sentence()


class _Builder:
    def __init__(self, clock, d: Derivation, cal: WorkCalendar):
        self.clock = clock
        self.d = d
        self.cal = cal
        self.base_year = d.start_date.year

    def start_facts(self):
        """(received date or None for a fixed-date start, why day 0 differs from it: '' | 'non_working' |
        'after_hours')."""
        if self.clock.start_rule != "receipt":
            return None, ""
        received = local_date(self.clock.started_at)
        if received == self.d.start_date:
            return received, ""
        if self.cal.is_workday(received) and received_after_hours(self.clock.started_at):
            return received, "after_hours"
        return received, "non_working"

    def counted_span_end(self) -> dt.date:
        d = self.d
        if d.due_date is not None:
            return d.due_date
        return d.open_pause.paused_on if d.open_pause else d.start_date

    def holiday_runs(self):
        if self.d.unit != WORKING_DAYS:
            return []
        return self.cal.non_working_runs(self.d.start_date, self.counted_span_end())

    def makeups(self):
        if self.d.unit != WORKING_DAYS:
            return []
        return self.cal.makeup_days(self.d.start_date, self.counted_span_end())

    def sentence(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class _Chinese(_Builder):
    def full(self, day: dt.date) -> str:
        return f"{day.year}年{day.month}月{day.day}日"

    def short(self, day: dt.date) -> str:
        return self.full(day) if day.year != self.base_year else f"{day.month}月{day.day}日"

    def span(self, first: dt.date, last: dt.date) -> str:
        if first == last:
            return self.short(first)
        if first.year != last.year:
            return f"{self.full(first)}至{self.full(last)}"
        if first.month == last.month:
            return f"{self.short(first)}至{last.day}日"
        return f"{self.short(first)}至{last.month}月{last.day}日"

    def weekday(self, day: dt.date) -> str:
        return f"{self.short(day)}（{_ZH_WEEKDAYS[day.weekday()]}）"

    def unit(self, n: int) -> str:
        return f"{n}个工作日" if self.d.unit == WORKING_DAYS else f"{n}日"

    @staticmethod
    def holiday(name: str) -> str:
        if not name:
            return "节假日"
        return "、".join(_ZH_SHORT.get(part, part) for part in name.split("、")) + "假期"

    def sentence(self) -> str:
        d = self.d
        parts = []
        received, moved = self.start_facts()
        if received is None:
            head = f"自{self.full(d.start_date)}起"
        elif moved == "after_hours":
            head = f"自{self.full(received)}收件起（下班后收件，视为{self.short(d.start_date)}收到）"
        elif moved == "non_working":
            head = f"自{self.full(received)}（{_ZH_WEEKDAYS[received.weekday()]}）收件起（非工作日收件，视为{self.short(d.start_date)}收到）"
        else:
            head = f"自{self.full(received)}收件起"
        head += self.unit(d.budget)
        if d.extension_days:
            head += f"，延期{self.unit(d.extension_days)}"
        parts.append(head)
        runs = self.holiday_runs()
        if runs:
            parts.append("跳过" + "、".join(f"{self.holiday(name)}{self.span(a, b)}" for name, a, b in runs))
        makeups = self.makeups()
        if makeups:
            parts.append("、".join(self.weekday(day) for day in makeups) + "调休上班")
        for p in d.pauses:
            if not p.effective or p.resumed_on is None:
                continue
            parts.append(
                f"{self.span(p.paused_on, p.resumed_on)}暂停计时（{p.reason_label}），不计{self.unit(p.units_not_counted)}"
            )
        if d.open_pause is not None:
            p = d.open_pause
            parts.append(
                f"{self.short(p.paused_on)}起暂停计时（{p.reason_label}），尚余{self.unit(d.remaining_at_pause)}，恢复后重新计算截止日"
            )
        else:
            if d.raw_due is not None and d.due_date != d.raw_due:
                parts.append(f"届满日{self.weekday(d.raw_due)}为非工作日，顺延至下一工作日")
            parts.append(f"截止{self.full(d.due_date)}")
        text = "，".join(parts)
        if d.provisional:
            years = "、".join(str(y) for y in d.unknown_years)
            text += f"（暂定：{years}年放假安排尚未公布，暂按法定节日和周末推算，未含调休）"
        return text


class _English(_Builder):
    def full(self, day: dt.date) -> str:
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    def short(self, day: dt.date) -> str:
        return self.full(day) if day.year != self.base_year else f"{day.day} {_EN_MONTHS[day.month - 1]}"

    def span(self, first: dt.date, last: dt.date) -> str:
        if first == last:
            return self.short(first)
        if first.year == last.year and first.month == last.month:
            return f"{first.day}–{self.short(last)}"
        return f"{self.short(first)} – {self.short(last)}"

    def weekday(self, day: dt.date) -> str:
        return f"{_EN_WEEKDAYS[day.weekday()]} {self.short(day)}"

    def unit(self, n: int) -> str:
        if self.d.unit == WORKING_DAYS:
            return f"{n} working day" + ("" if n == 1 else "s")
        return f"{n} day" + ("" if n == 1 else "s")

    @staticmethod
    def reason(pause) -> str:
        return _EN_REASONS.get(pause.reason_code, pause.reason_label)

    @staticmethod
    def holiday(name: str) -> str:
        if not name:
            return "the public holiday"
        names = [_EN_NAMES.get(part, part) for part in name.split("、")]
        return "the " + " and ".join(names) + " holiday"

    def sentence(self) -> str:
        d = self.d
        parts = []
        received, moved = self.start_facts()
        head = self.unit(d.budget)
        if d.extension_days:
            head += f" plus an extension of {self.unit(d.extension_days)}"
        if received is None:
            head += f" from {self.full(d.start_date)}"
        elif moved == "after_hours":
            head += f" from receipt on {self.full(received)} (after office hours, counted as received on {self.short(d.start_date)})"
        elif moved == "non_working":
            head += (
                f" from receipt on {_EN_WEEKDAYS[received.weekday()]} {self.full(received)} (a non-working day, "
                f"counted as received on {self.short(d.start_date)})"
            )
        else:
            head += f" from receipt on {self.full(received)}"
        parts.append(head)
        runs = self.holiday_runs()
        if runs:
            parts.append("skipping " + ", ".join(f"{self.holiday(name)} {self.span(a, b)}" for name, a, b in runs))
        makeups = self.makeups()
        if makeups:
            days = ", ".join(self.weekday(day) for day in makeups)
            parts.append(f"{days} {'is a make-up working day' if len(makeups) == 1 else 'are make-up working days'}")
        for p in d.pauses:
            if not p.effective or p.resumed_on is None:
                continue
            parts.append(
                f"paused {self.span(p.paused_on, p.resumed_on)} ({self.reason(p)}; "
                f"{self.unit(p.units_not_counted)} not counted)"
            )
        if d.open_pause is not None:
            p = d.open_pause
            parts.append(
                f"paused since {self.short(p.paused_on)} ({self.reason(p)}) with {self.unit(d.remaining_at_pause)} "
                f"left; the due date is set again on resumption"
            )
        else:
            if d.raw_due is not None and d.due_date != d.raw_due:
                parts.append(
                    f"the last day, {self.weekday(d.raw_due)}, is a non-working day and moves to the next working day"
                )
            parts.append(f"due {self.full(d.due_date)}")
        text = ", ".join(parts)
        if d.provisional:
            years = ", ".join(str(y) for y in d.unknown_years)
            text += (
                f" (provisional: the {years} holiday arrangement is not yet published; "
                "statutory holidays and weekends only, no make-up days)"
            )
        return text
