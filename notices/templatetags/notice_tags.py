import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

register = template.Library()


@register.filter
def cn_date(value) -> str:
    """2026-04-01 (a date, datetime or ISO string from a notice's JSON context) → 2026年4月1日."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value) or parse_date(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def _as_date(value):
    if isinstance(value, str):
        value = parse_datetime(value) or parse_date(value)
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value if isinstance(value, dt.date) else None


@register.filter
def cn_due(value) -> str:
    """A computed deadline, as ``cn_date``, marked （暂定） when it falls in a year whose holiday arrangement
    is not yet published (DESIGN.md, "Working-day calendar"): the issued notice must not present a guess as
    final."""
    from workflows.calendar import CalendarRangeError, get_calendar

    text = cn_date(value)
    day = _as_date(value)
    if day is None:
        return text
    try:
        provisional = get_calendar().is_provisional(day)
    except CalendarRangeError:
        provisional = True
    return f"{text}（暂定）" if provisional else text


@register.filter
def as_list(value) -> list:
    """Context items that may be one text or a list of texts (reasons, missing materials)."""
    if value in (None, ""):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
