"""Changing the working-day calendar: administrators' overrides, declared years, and yearly imports.

Every change bumps ``CalendarVersion`` (so every process rebuilds its precomputed table) and recomputes the
open clocks it can move, in the same transaction (DESIGN.md: "importing the year recomputes every open
deadline").

Import file format (``manage.py import_holidays FILE``): the State Council's arrangement for one year
(国务院办公厅关于YYYY年部分节假日安排的通知), as CSV or JSON.

CSV, UTF-8, one row per day that differs from an ordinary week::

    # year: 2027
    # source: 国办发明电〔2026〕X号
    date,type,name
    2027-01-01,holiday,元旦
    2027-02-07,workday,春节

``type`` is ``holiday`` (a day off, 放假) or ``workday`` (a make-up working day, 调休上班; 放假/上班 also
accepted). Lines starting with ``#`` are comments; ``# year:`` and ``# source:`` set the year and the
document cited (``--year``/``--source`` on the command line win). Holidays falling on a weekend are listed too,
so the whole period is named.

JSON: ``{"year": 2027, "source": "…", "days": [{"date": "2027-01-01", "type": "holiday", "name": "元旦"}]}``.

Importing year Y replaces every override dated in Y with the file's rows (a corrected notice is re-imported
whole); rows for the neighbouring December/January (a make-up day across New Year) replace the override on
that date only. Y then counts as known: its deadlines stop being provisional.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.services.audit import audit_log
from workflows.calendar import invalidate_calendar
from workflows.models import CalendarOverride, CalendarVersion, CalendarYear
from workflows.services.clocks import clocks_recompute_open

_TYPES = {"holiday": False, "放假": False, "休": False, "workday": True, "上班": True, "班": True}


@dataclass(frozen=True)
class HolidayRow:
    date: dt.date
    is_workday: bool
    name: str


@dataclass(frozen=True)
class HolidayFile:
    year: int | None
    source: str
    rows: tuple[HolidayRow, ...]


@dataclass(frozen=True)
class ImportResult:
    year: int
    source: str
    holidays: int
    workdays: int
    replaced: int
    clocks_changed: int
    version: int
    example: bool = False


# --- parsing -----------------------------------------------------------------------------------------
def _row(line: str | int, raw: Mapping, errors: list[str]) -> HolidayRow | None:
    date_text = str(raw.get("date") or "").strip()
    type_text = str(raw.get("type") or "").strip().lower()
    name = str(raw.get("name") or "").strip()
    try:
        day = dt.date.fromisoformat(date_text)
    except ValueError:
        errors.append(_("第 %(line)s 行：日期“%(value)s”无效，应为 YYYY-MM-DD。") % {"line": line, "value": date_text})
        return None
    if type_text not in _TYPES:
        errors.append(
            _("第 %(line)s 行：类型“%(value)s”无效，应为 holiday（放假）或 workday（上班）。")
            % {"line": line, "value": type_text}
        )
        return None
    if len(name) > CalendarOverride._meta.get_field("name").max_length:
        errors.append(_("第 %(line)s 行：节日名称过长。") % {"line": line})
        return None
    return HolidayRow(day, _TYPES[type_text], name)


def parse_holiday_text(text: str, *, fmt: str) -> HolidayFile:
    """Parse the content of a CSV or JSON holiday file (see the module docstring)."""
    errors: list[str] = []
    rows: list[HolidayRow] = []
    year: int | None = None
    source = ""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(_("JSON 格式错误：%(error)s") % {"error": exc}) from exc
        if not isinstance(data, dict) or not isinstance(data.get("days"), list):
            raise ValidationError(_("JSON 文件须为包含 year、source、days 的对象。"))
        year = data.get("year")
        source = str(data.get("source") or "")
        for i, raw in enumerate(data["days"], start=1):
            if not isinstance(raw, dict):
                errors.append(_("第 %(line)s 项不是对象。") % {"line": i})
                continue
            row = _row(i, raw, errors)
            if row:
                rows.append(row)
    else:
        lines = text.lstrip("\ufeff").splitlines()
        body: list[tuple[int, str]] = []
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if stripped.startswith("#"):
                key, sep, value = stripped[1:].partition(":")
                if not sep:
                    key, sep, value = stripped[1:].partition("：")
                key = key.strip().lower()
                if sep and key in ("year", "年度"):
                    year = value.strip()
                elif sep and key in ("source", "来源"):
                    source = value.strip()
            elif stripped:
                body.append((number, line))
        if body:
            reader = csv.DictReader(io.StringIO("\n".join(line for _, line in body)))
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            if not {"date", "type"} <= set(header):
                raise ValidationError(_("CSV 表头须包含 date、type、name 三列。"))
            reader.fieldnames = header
            for (number, _line), raw in zip(body[1:], reader, strict=False):
                row = _row(number, raw, errors)
                if row:
                    rows.append(row)
    if year is not None:
        try:
            year = int(year)
        except (TypeError, ValueError):
            errors.append(_("年度“%(value)s”无效。") % {"value": year})
            year = None
    if errors:
        raise ValidationError(errors)
    return HolidayFile(year=year, source=source, rows=tuple(rows))


def read_holiday_file(path: str | Path) -> HolidayFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(_("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror}) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(_("文件 %(path)s 不是 UTF-8 编码。") % {"path": path}) from exc
    parsed = parse_holiday_text(text, fmt="json" if path.suffix.lower() == ".json" else "csv")
    return parsed if parsed.source else HolidayFile(year=parsed.year, source=path.name, rows=parsed.rows)


def _validate(file: HolidayFile, year: int | None) -> int:
    year = year or file.year
    if year is None:
        years = {row.date.year for row in file.rows}
        if len(years) != 1:
            raise ValidationError(_("请指定放假安排所属年度（文件中的 # year: 或 --year）。"))
        year = years.pop()
    if not file.rows:
        raise ValidationError(_("文件中没有任何日期。"))
    errors = []
    seen: dict[dt.date, HolidayRow] = {}
    first, last = dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31)
    for row in file.rows:
        if not first <= row.date <= last:
            errors.append(_("%(date)s 不属于 %(year)d 年的放假安排。") % {"date": row.date.isoformat(), "year": year})
        if row.date in seen:
            errors.append(_("%(date)s 重复出现。") % {"date": row.date.isoformat()})
        seen[row.date] = row
    if errors:
        raise ValidationError(errors)
    return year


# --- services ----------------------------------------------------------------------------------------
def _bump_version() -> int:
    version, _created = CalendarVersion.objects.select_for_update().get_or_create(pk=1)
    version.version += 1
    version.save(update_fields=["version", "changed_at"])
    # This process: forget the old table now (the recomputation below must use the new one); other
    # processes notice the new version within VERSION_CHECK_SECONDS.
    invalidate_calendar()
    transaction.on_commit(invalidate_calendar)
    return version.version


def _calendar_changed(
    *, actor, since: dt.date, until: dt.date, action: str, data: dict, obj=None, object_type="", object_id=""
) -> tuple[int, int]:
    """What every calendar change does once its rows are written, in the same transaction: a new calendar
    version, the open clocks whose days between ``since`` and ``until`` may count differently recomputed, and
    one audit event with both. Returns (calendar version, clocks changed)."""
    version = _bump_version()
    changed = clocks_recompute_open(actor=actor, since=since, until=until)
    audit_log(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        data={**data, "calendar_version": version, "clocks_changed": changed},
    )
    return version, changed


class _ForgetOnError:
    """A failed change must not leave this process holding a table built from rolled-back rows."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            invalidate_calendar()
        return False


def calendar_override_save(
    *,
    actor,
    date: dt.date,
    is_workday: bool,
    name: str = "",
    source: str = "",
    override: CalendarOverride | None = None,
) -> CalendarOverride:
    """Create or change one day (the admin form). ``override``: the row being edited, if any."""
    with _ForgetOnError(), transaction.atomic():
        previous = None
        if override is not None and override.pk:
            previous = CalendarOverride.objects.select_for_update().filter(pk=override.pk).first()
        clash = CalendarOverride.objects.filter(date=date)
        if previous is not None:
            clash = clash.exclude(pk=previous.pk)
        if clash.exists():
            raise ValidationError(_("%(date)s 已有日历调整，请直接修改该条。") % {"date": date.isoformat()})
        before = (
            {"date": previous.date, "is_workday": previous.is_workday, "name": previous.name}
            if previous is not None
            else None
        )
        row = CalendarOverride(pk=previous.pk) if previous is not None else CalendarOverride()
        row.date, row.is_workday, row.name, row.source = date, is_workday, name, source
        row.full_clean()
        row.save()
        dates = [date, previous.date if previous is not None else date]
        _calendar_changed(
            actor=actor,
            since=min(dates),
            until=max(dates),
            action="calendar.override_save",
            obj=row,
            data={"before": before, "date": date, "is_workday": is_workday, "name": name, "source": source},
        )
    return row


def calendar_override_delete(*, actor, override: CalendarOverride) -> int:
    """Remove one day's override (chinesecalendar or the weekend rule applies again). Returns clocks changed."""
    with _ForgetOnError(), transaction.atomic():
        row = CalendarOverride.objects.select_for_update().get(pk=override.pk)
        data = {"date": row.date, "is_workday": row.is_workday, "name": row.name, "source": row.source}
        pk = row.pk
        row.delete()
        _version, changed = _calendar_changed(
            actor=actor,
            since=data["date"],
            until=data["date"],
            action="calendar.override_delete",
            object_type="workflows.calendaroverride",
            object_id=pk,
            data=data,
        )
    return changed


def calendar_year_save(*, actor, year: int, source: str) -> CalendarYear:
    """Declare ``year``'s arrangement entered (its overrides typed in by hand): no longer provisional."""
    with _ForgetOnError(), transaction.atomic():
        row, created = CalendarYear.objects.select_for_update().get_or_create(year=year, defaults={"source": source})
        if not created:
            row.source = source
        row.full_clean()
        row.save()
        _calendar_changed(
            actor=actor,
            since=dt.date(year, 1, 1),
            until=dt.date(year, 12, 31),
            action="calendar.year_save",
            obj=row,
            data={"year": year, "source": source},
        )
    return row


def calendar_year_delete(*, actor, calendar_year: CalendarYear) -> int:
    """Withdraw a year (deadlines in it become provisional again unless chinesecalendar knows it)."""
    with _ForgetOnError(), transaction.atomic():
        row = CalendarYear.objects.select_for_update().get(pk=calendar_year.pk)
        year, source = row.year, row.source
        row.delete()
        _version, changed = _calendar_changed(
            actor=actor,
            since=dt.date(year, 1, 1),
            until=dt.date(year, 12, 31),
            action="calendar.year_delete",
            object_type="workflows.calendaryear",
            object_id=year,
            data={"year": year, "source": source},
        )
    return changed


# A file that says it is an example (fixtures/holidays/2027.example.csv: "EXAMPLE — not an official notice
# (示例，非官方安排)") is fiction: it must never make a year look officially known.
_EXAMPLE_MARKERS = re.compile(r"example|sample|示例|样例|虚构|非官方", re.IGNORECASE)


def is_example_source(*texts: str) -> bool:
    return any(_EXAMPLE_MARKERS.search(text or "") for text in texts)


def calendar_import(
    *,
    actor,
    path_or_rows: str | Path | HolidayFile | Iterable[Mapping],
    source: str | None = None,
    year: int | None = None,
    force: bool = False,
) -> ImportResult:
    """Import one year's official arrangement (a file path, a parsed ``HolidayFile``, or row dicts with
    date/type/name), replace that year's overrides, mark the year known, recompute the open clocks.

    A file whose source (or file name) says it is an example is refused; with ``force`` (demos, tests) its
    days are applied, but the year stays provisional: it is not declared known and the alarm stays on.
    """
    file_name = ""
    if isinstance(path_or_rows, (str, Path)):
        file_name = Path(path_or_rows).name
        file = read_holiday_file(path_or_rows)
    elif isinstance(path_or_rows, HolidayFile):
        file = path_or_rows
    else:
        errors: list[str] = []
        rows = [r for i, raw in enumerate(path_or_rows, start=1) if (r := _row(i, raw, errors))]
        if errors:
            raise ValidationError(errors)
        file = HolidayFile(year=None, source="", rows=tuple(rows))
    year = _validate(file, year)
    source = (source or file.source or "").strip()
    if not source:
        raise ValidationError(_("请注明放假安排的来源文件（如国务院办公厅通知文号）。"))
    max_len = CalendarYear._meta.get_field("source").max_length
    source = source[:max_len]
    example = is_example_source(source, file.source, file_name)
    if example and not force:
        raise ValidationError(
            _(
                "来源“%(source)s”表明这是示例数据，不是国务院办公厅公布的放假安排，已拒绝导入（如确需用于演示，请使用 --force）。"
            )
            % {"source": source},
            code="example_source",
        )

    with _ForgetOnError(), transaction.atomic():
        in_year = CalendarOverride.objects.select_for_update().filter(date__year=year)
        before = list(in_year.values("date", "is_workday", "name"))
        replaced = len(before)
        in_year.delete()
        outside = [row.date for row in file.rows if row.date.year != year]
        replaced += CalendarOverride.objects.filter(date__in=outside).delete()[0]
        CalendarOverride.objects.bulk_create(
            [
                CalendarOverride(date=row.date, is_workday=row.is_workday, name=row.name, source=source)
                for row in file.rows
            ]
        )
        if example:
            # Forced example data: its days apply, but the year is not officially known, so its deadlines
            # stay provisional and the alarm stays on until the real notice is imported.
            CalendarYear.objects.filter(year=year).delete()
        else:
            CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
        dates = [row.date for row in file.rows] + [b["date"] for b in before]
        holidays = sum(1 for row in file.rows if not row.is_workday)
        workdays = len(file.rows) - holidays
        version, changed = _calendar_changed(
            actor=actor,
            since=min(dates),
            until=max(max(dates), dt.date(year, 12, 31)),
            action="calendar.import",
            object_type="workflows.calendaryear",
            object_id=year,
            data={
                "year": year,
                "source": source,
                "example": example,
                "holidays": holidays,
                "workdays": workdays,
                "replaced": replaced,
                "rows": [
                    {"date": r.date, "type": "workday" if r.is_workday else "holiday", "name": r.name}
                    for r in file.rows
                ],
            },
        )
    return ImportResult(
        year=year,
        source=source,
        holidays=holidays,
        workdays=workdays,
        replaced=replaced,
        clocks_changed=changed,
        version=version,
        example=example,
    )
