"""Working-day arithmetic for operators and scripts.

    manage.py workdays add 2026-09-30 3            → 2026-10-10
    manage.py workdays add 2026-10-03 3 --receipt  → 2026-10-12 (Saturday receipt counts from Thursday 10-08)
    manage.py workdays between 2026-09-30 2026-10-10 → 3
    manage.py workdays info 2026-10-10             → 2026-10-10 workday make-up 国庆节

A result that depends on a year without an official arrangement is followed by " provisional".
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from workflows.calendar import CalendarRangeError, get_calendar, receipt_day


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc


class Command(BaseCommand):
    # Scripts read stdout; the calendar alarm is this tool's own business, not a system-check warning.
    requires_system_checks = []
    help = "Add working days to a date, count working days between dates, or describe a day."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="the N-th working day after DATE (DATE is day 0)")
        add.add_argument("date", type=_date)
        add.add_argument("n", type=int)
        add.add_argument(
            "--receipt",
            action="store_true",
            help="DATE is a receipt date: a non-working day counts from the next working day",
        )
        between = sub.add_parser("between", help="working days in (START, END]")
        between.add_argument("start", type=_date)
        between.add_argument("end", type=_date)
        info = sub.add_parser("info", help="is DATE a working day, a holiday or a make-up day")
        info.add_argument("date", type=_date)

    def handle(self, *args, action, **options):
        cal = get_calendar()
        try:
            if action == "add":
                if options["n"] < 0:
                    raise CommandError("N must be 0 or more")
                start = receipt_day(options["date"], calendar=cal) if options["receipt"] else options["date"]
                result = cal.add_working_days(start, options["n"])
                out, provisional = result.isoformat(), cal.span_is_provisional(options["date"], result)
            elif action == "between":
                start, end = options["start"], options["end"]
                out = str(cal.working_days_between(start, end))
                provisional = cal.span_is_provisional(min(start, end), max(start, end))
            else:
                day = options["date"]
                info = cal.day_info(day)
                name = cal.holiday_name(day) if not info.is_workday else cal.makeup_for(day)
                kind = "workday" if info.is_workday else ("holiday" if name is not None else "weekend")
                out = f"{day.isoformat()} {kind}"
                if info.is_makeup:
                    out += " make-up"
                if name:
                    out += f" {name}"
                provisional = cal.is_provisional(day)
        except CalendarRangeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(out + (" provisional" if provisional else ""))
