"""The working-day calendar against the official arrangements, typed here from PROCEDURES.md
("Counting time", 国务院办公厅 notices for 2025 and 2026) — independent of the chinesecalendar package."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from cases.models import AuditEvent
from workflows.calendar import (
    CalendarRangeError,
    WorkCalendar,
    end_of_day,
    get_calendar,
    naive_add_working_days,
    receipt_day,
)
from workflows.models import CalendarOverride, CalendarVersion, CalendarYear
from workflows.services.calendar import (
    calendar_import,
    calendar_override_delete,
    calendar_override_save,
    parse_holiday_text,
)

D = dt.date


def _days(first: str, last: str) -> list[dt.date]:
    a, b = D.fromisoformat(first), D.fromisoformat(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


# PROCEDURES.md, "Official arrangements (国务院办公厅 notices)".
OFFICIAL = {
    2025: {
        "off": [
            *_days("2025-01-01", "2025-01-01"),
            *_days("2025-01-28", "2025-02-04"),
            *_days("2025-04-04", "2025-04-06"),
            *_days("2025-05-01", "2025-05-05"),
            *_days("2025-05-31", "2025-06-02"),
            *_days("2025-10-01", "2025-10-08"),
        ],
        "makeup": [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    },
    2026: {
        "off": [
            *_days("2026-01-01", "2026-01-03"),
            *_days("2026-02-15", "2026-02-23"),
            *_days("2026-04-04", "2026-04-06"),
            *_days("2026-05-01", "2026-05-05"),
            *_days("2026-06-19", "2026-06-21"),
            *_days("2026-09-25", "2026-09-27"),
            *_days("2026-10-01", "2026-10-07"),
        ],
        "makeup": [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)],
    },
}
ALL_MAKEUP = [day for year in OFFICIAL.values() for day in year["makeup"]]
ALL_OFF = [day for year in OFFICIAL.values() for day in year["off"]]


def _official_is_workday(day: dt.date) -> bool:
    arrangement = OFFICIAL[day.year]
    if day in arrangement["makeup"]:
        return True
    if day in arrangement["off"]:
        return False
    return day.weekday() < 5


@pytest.fixture
def cal(db) -> WorkCalendar:
    return get_calendar()


@pytest.mark.parametrize("day", ALL_MAKEUP, ids=str)
def test_each_official_makeup_day_is_a_working_day(cal, day):
    assert day.weekday() >= 5, "PROCEDURES.md lists only weekend make-up days"
    assert cal.is_workday(day)
    assert cal.day_info(day).is_makeup


@pytest.mark.parametrize("day", ALL_OFF, ids=str)
def test_each_official_holiday_is_not_a_working_day(cal, day):
    assert not cal.is_workday(day)
    assert cal.holiday_name(day)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_matches_the_official_arrangement(cal, year):
    wrong = [day for day in _days(f"{year}-01-01", f"{year}-12-31") if cal.is_workday(day) != _official_is_workday(day)]
    assert wrong == []
    assert not cal.is_provisional(D(year, 6, 1))


def test_working_days_per_year_follow_from_the_arrangement(cal):
    # Weekdays, less the holidays falling on weekdays, plus the make-up weekend days.
    weekdays_off = [d for d in OFFICIAL[2026]["off"] if d.weekday() < 5]
    expected = sum(1 for d in _days("2026-01-01", "2026-12-31") if d.weekday() < 5) - len(weekdays_off) + 6
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == expected


def test_the_procedures_example_received_30_september_due_saturday_10_october(cal):
    assert cal.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3


def test_national_day_2025_skips_the_whole_eight_days_and_counts_saturday_11_october(cal):
    # Wed 30 Sep 2025 + 1 → Thu 9 Oct; + 3 → Sat 11 Oct (make-up) is the 3rd working day.
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)


def test_adding_zero_working_days_is_day_zero(cal):
    assert cal.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)


def test_negative_working_days_are_refused(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 1, 5), -1)


def test_the_table_agrees_with_a_day_by_day_count_over_the_known_years(cal):
    # chinesecalendar ends with 2026, so stay well inside it: 20 working days from 30 Nov reach December.
    starts = [D(2025, 1, 1) + dt.timedelta(days=i) for i in range(0, (D(2026, 11, 30) - D(2025, 1, 1)).days, 3)]
    for start in starts:
        for n in (1, 2, 3, 5, 7, 10, 20):
            expected = naive_add_working_days(start, n)
            assert cal.add_working_days(start, n) == expected, (start, n)
            assert cal.working_days_between(start, expected) == n


def test_holiday_runs_name_the_whole_period_and_merge_festivals_sharing_it(cal):
    assert cal.non_working_runs(D(2026, 9, 30), D(2026, 10, 10)) == [("国庆节", D(2026, 10, 1), D(2026, 10, 7))]
    # 2025: 国庆节 and 中秋节 share 1–8 October.
    assert cal.non_working_runs(D(2025, 9, 30), D(2025, 10, 11)) == [("国庆节、中秋节", D(2025, 10, 1), D(2025, 10, 8))]
    assert cal.makeup_days(D(2026, 9, 30), D(2026, 10, 10)) == [D(2026, 10, 10)]


def test_dates_outside_the_table_are_an_error_not_a_guess(cal):
    with pytest.raises(CalendarRangeError):
        cal.is_workday(D(cal.last.year + 1, 1, 1))


# --- provisional years -----------------------------------------------------------------------------------
def test_a_year_without_an_arrangement_is_provisional_and_skips_only_the_statutory_festivals(cal):
    assert 2027 not in cal.known_years
    assert cal.is_provisional(D(2027, 1, 1))
    assert cal.span_is_provisional(D(2026, 12, 28), D(2027, 1, 5))
    assert not cal.span_is_provisional(D(2026, 12, 1), D(2026, 12, 31))
    # 全国年节及纪念日放假办法 Art 2 still holds: Fri 1 Jan 2027 is 元旦, so the 2nd working day after
    # 30 December is Mon 4 January — flagged provisional, since the 调休 arrangement is not known.
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 4)
    # 春节 2027: 除夕 Fri 5 Feb to 初三 Mon 8 Feb; no guessed 调休 or 补假.
    assert [cal.is_workday(day) for day in _days("2027-02-05", "2027-02-10")] == [False] * 4 + [True, True]
    assert cal.holiday_name(D(2027, 2, 5)) == "春节"


# --- receipt rules (PROCEDURES.md "Counting time") -------------------------------------------------------------
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("received", "day0"),
    [
        (dt.datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING), D(2026, 9, 30)),  # working day: itself
        (dt.datetime(2026, 11, 7, 10, 0, tzinfo=BEIJING), D(2026, 11, 9)),  # Saturday → Monday
        (dt.datetime(2026, 10, 3, 10, 0, tzinfo=BEIJING), D(2026, 10, 8)),  # National Day → first working day
        (dt.datetime(2026, 10, 10, 10, 0, tzinfo=BEIJING), D(2026, 10, 10)),  # make-up Saturday is a working day
        (D(2026, 2, 15), D(2026, 2, 24)),  # a date: Spring Festival → 24 Feb
    ],
)
def test_receipt_day_is_the_next_working_day_when_received_on_a_day_off(cal, received, day0):
    assert receipt_day(received, calendar=cal) == day0


def test_receipt_day_uses_beijing_time_not_utc(cal):
    # 2026-11-06 17:00 UTC is Saturday 01:00 in Beijing.
    assert receipt_day(dt.datetime(2026, 11, 6, 17, 0, tzinfo=dt.UTC), calendar=cal) == D(2026, 11, 9)


def test_after_hours_receipt_counts_on_the_same_day_by_default(cal):
    assert receipt_day(dt.datetime(2026, 9, 30, 20, 0, tzinfo=BEIJING), calendar=cal) == D(2026, 9, 30)


@override_settings(RECEIPT_AFTER_HOURS_NEXT_DAY=True, RECEIPT_OFFICE_CLOSES="17:30")
def test_after_hours_receipt_counts_from_the_next_working_day_when_enabled(cal):
    assert receipt_day(dt.datetime(2026, 9, 30, 17, 30, tzinfo=BEIJING), calendar=cal) == D(2026, 10, 8)
    assert receipt_day(dt.datetime(2026, 9, 30, 17, 29, tzinfo=BEIJING), calendar=cal) == D(2026, 9, 30)
    # Friday evening → the next working day is Monday.
    assert receipt_day(dt.datetime(2026, 11, 6, 18, 0, tzinfo=BEIJING), calendar=cal) == D(2026, 11, 9)


def test_a_deadline_is_the_end_of_its_day_in_beijing():
    moment = end_of_day(D(2026, 10, 10))
    assert moment.utcoffset() == dt.timedelta(hours=8)
    assert (moment.hour, moment.minute, moment.second) == (23, 59, 59)
    assert moment + dt.timedelta(microseconds=1) == dt.datetime(2026, 10, 11, tzinfo=BEIJING)


# --- overrides and imports through the services ----------------------------------------------------------------
def test_an_override_changes_the_calendar_and_is_audited(administrator):
    before = get_calendar()
    assert before.is_workday(D(2026, 12, 31))
    row = calendar_override_save(
        actor=administrator, date=D(2026, 12, 31), is_workday=False, name="元旦", source="测试调整"
    )
    after = get_calendar()
    assert after.version == before.version + 1
    assert not after.is_workday(D(2026, 12, 31))
    assert after.holiday_name(D(2026, 12, 31)) == "元旦"
    assert AuditEvent.objects.filter(action="calendar.override_save", object_id=str(row.pk)).exists()

    calendar_override_delete(actor=administrator, override=row)
    assert get_calendar().is_workday(D(2026, 12, 31))
    assert AuditEvent.objects.filter(action="calendar.override_delete").exists()


def test_an_override_can_cancel_a_package_holiday(administrator):
    calendar_override_save(actor=administrator, date=D(2026, 10, 7), is_workday=True, name="", source="更正")
    assert get_calendar().is_workday(D(2026, 10, 7))


def test_two_overrides_for_one_date_are_refused(administrator):
    calendar_override_save(actor=administrator, date=D(2026, 12, 31), is_workday=False, name="元旦")
    with pytest.raises(ValidationError):
        calendar_override_save(actor=administrator, date=D(2026, 12, 31), is_workday=True, name="元旦")


def test_importing_2027_makes_it_known_and_exact(administrator, official_2027):
    result = calendar_import(actor=administrator, path_or_rows=official_2027, source=None)
    assert result.year == 2027
    assert result.holidays == 29 and result.workdays == 6
    cal = get_calendar()
    assert 2027 in cal.known_years
    assert not cal.is_provisional(D(2027, 1, 1))
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.is_workday(D(2027, 2, 20)) and cal.day_info(D(2027, 2, 20)).is_makeup
    assert CalendarYear.objects.get(year=2027).source == "国办发明电〔2026〕X号"
    assert CalendarVersion.objects.get(pk=1).version == cal.version == result.version
    event = AuditEvent.objects.get(action="calendar.import")
    assert event.data["year"] == 2027 and len(event.data["rows"]) == 35


def test_reimporting_a_year_replaces_its_rows(administrator):
    calendar_import(
        actor=administrator,
        path_or_rows=[
            {"date": "2027-01-01", "type": "holiday", "name": "元旦"},
            {"date": "2027-01-04", "type": "holiday", "name": "元旦"},
        ],
        source="第一版",
    )
    result = calendar_import(
        actor=administrator,
        path_or_rows=[
            {"date": "2027-01-01", "type": "holiday", "name": "元旦"},
        ],
        source="更正版",
    )
    assert result.replaced == 2
    assert list(CalendarOverride.objects.values_list("date", flat=True)) == [D(2027, 1, 1)]
    assert get_calendar().is_workday(D(2027, 1, 4))
    assert CalendarYear.objects.get(year=2027).source == "更正版"


def test_a_bad_import_file_names_the_line_and_changes_nothing(administrator):
    text = "# year: 2027\n# source: x\ndate,type,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,元旦\n2027-01-02,off,元旦\n"
    with pytest.raises(ValidationError) as info:
        parse_holiday_text(text, fmt="csv")
    messages = info.value.messages
    assert any("第 5 行" in m and "2027-13-01" in m for m in messages)
    assert any("第 6 行" in m and "off" in m for m in messages)
    with pytest.raises(ValidationError):
        calendar_import(
            actor=administrator,
            path_or_rows=[{"date": "2028-03-01", "type": "holiday", "name": ""}],
            source="x",
            year=2027,
        )
    assert not CalendarOverride.objects.exists()
    assert not CalendarYear.objects.exists()


def test_the_json_format_is_accepted(administrator):
    text = '{"year": 2027, "source": "示例", "days": [{"date": "2027-01-01", "type": "holiday", "name": "元旦"}]}'
    parsed = parse_holiday_text(text, fmt="json")
    assert parsed.year == 2027 and parsed.source == "示例" and len(parsed.rows) == 1


# --- admin goes through the services ---------------------------------------------------------------------------
def test_admin_saves_and_deletes_overrides_through_the_service(client, administrator):
    client.force_login(administrator)
    response = client.post(
        "/admin/workflows/calendaroverride/add/",
        {
            "date": "2026-12-31",
            "is_workday": "",
            "name": "元旦",
            "source": "管理员录入",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CalendarOverride.objects.get(date=D(2026, 12, 31))
    assert not get_calendar().is_workday(D(2026, 12, 31))
    assert AuditEvent.objects.filter(action="calendar.override_save").count() == 1

    response = client.post(f"/admin/workflows/calendaroverride/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert get_calendar().is_workday(D(2026, 12, 31))
    assert AuditEvent.objects.filter(action="calendar.override_delete").count() == 1


def test_admin_pages_for_clocks_and_calendar_render(client, administrator):
    client.force_login(administrator)
    for url in [
        "/admin/workflows/calendaryear/",
        "/admin/workflows/calendaroverride/",
        "/admin/workflows/calendarversion/",
        "/admin/workflows/clock/",
        "/admin/workflows/ruleset/",
        "/admin/workflows/ruleparameter/",
    ]:
        assert client.get(url).status_code == 200, url


def test_the_alarm_asks_for_next_year_in_november_and_for_this_year_when_it_is_missing(db, monkeypatch):
    from django.utils import timezone

    from workflows.calendar import calendar_alarm_message

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC))
    assert calendar_alarm_message() == ""
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC))
    assert calendar_alarm_message().startswith("2027 年放假安排尚未录入")
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC))
    assert calendar_alarm_message().startswith("本年度（2027 年）放假安排尚未录入")
