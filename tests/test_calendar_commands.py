"""Command-line access for operators and scripts: workdays, import_holidays, calendar_status."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from workflows.models import CalendarOverride, CalendarYear

EXAMPLE_2027 = "fixtures/holidays/2027.example.csv"


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_workdays_add_prints_the_due_date(db):
    assert run("workdays", "add", "2026-09-30", "3") == "2026-10-10\n"


def test_workdays_between_prints_the_count(db):
    assert run("workdays", "between", "2026-09-30", "2026-10-10") == "3\n"


def test_workdays_add_with_the_receipt_rule_starts_on_the_next_working_day(db):
    # Saturday 3 October (National Day) → day 0 Thursday 8 October.
    assert run("workdays", "add", "2026-10-03", "3") == "2026-10-10\n"
    assert run("workdays", "add", "2026-10-03", "3", "--receipt") == "2026-10-12\n"


def test_workdays_info_names_holidays_and_makeup_days(db):
    assert run("workdays", "info", "2026-10-10") == "2026-10-10 workday make-up 国庆节\n"
    assert run("workdays", "info", "2026-10-03") == "2026-10-03 holiday 国庆节\n"
    assert run("workdays", "info", "2026-11-07") == "2026-11-07 weekend\n"


def test_a_date_in_a_year_without_data_is_marked_provisional(db):
    # 元旦 is a holiday by statute (全国年节及纪念日放假办法 Art 2) even before the arrangement is published.
    assert run("workdays", "add", "2026-12-30", "2") == "2027-01-04 provisional\n"
    assert run("workdays", "between", "2026-12-30", "2027-01-05") == "3 provisional\n"
    assert run("workdays", "info", "2027-01-01") == "2027-01-01 holiday 元旦 provisional\n"
    assert run("workdays", "info", "2027-01-04") == "2027-01-04 workday provisional\n"


def test_bad_input_is_a_clear_error(db):
    with pytest.raises(CommandError):
        run("workdays", "add", "2026-02-30", "3")
    with pytest.raises(CommandError, match="N must be 0 or more"):
        run("workdays", "add", "2026-09-30", "-1")
    with pytest.raises(CommandError, match="超出工作日历可计算的范围"):
        run("workdays", "add", "2029-12-30", "10")


def test_import_holidays_makes_2027_exact(db, official_2027):
    before = run("workdays", "add", "2026-12-30", "2")
    output = run("import_holidays", str(official_2027))
    assert output.startswith("2027: 29 holidays, 6 make-up working days")
    assert CalendarYear.objects.get(year=2027)
    assert before == "2027-01-04 provisional\n"
    # The example file gives 1–3 January off: the 2nd working day after 30 December is Monday 4 January.
    assert run("workdays", "add", "2026-12-30", "2") == "2027-01-04\n"
    assert run("workdays", "info", "2027-01-31") == "2027-01-31 workday make-up 春节\n"


def test_import_holidays_reports_bad_rows_and_imports_nothing(db, tmp_path):
    bad = tmp_path / "2027.csv"
    bad.write_text(
        "# year: 2027\n# source: 测试\ndate,type,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="第 5 行：日期“2027-02-30”无效"):
        run("import_holidays", str(bad))
    assert not CalendarOverride.objects.exists()


def test_import_holidays_needs_a_source_document(db, tmp_path):
    unnamed = tmp_path / "x.json"
    unnamed.write_text(
        '{"year": 2027, "source": "", "days": [{"date": "2027-01-01", "type": "holiday"}]}', encoding="utf-8"
    )
    # Without a source in the file, the file name is cited.
    run("import_holidays", str(unnamed))
    assert CalendarYear.objects.get(year=2027).source == "x.json"
    run("import_holidays", str(unnamed), "--source", "国办发明电〔2026〕X号")
    assert CalendarYear.objects.get(year=2027).source == "国办发明电〔2026〕X号"


def test_a_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        run("import_holidays", str(tmp_path / "nope.csv"))


def test_calendar_status_lists_provisional_years_and_the_alarm(db, official_2027, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    output = run("calendar_status")
    assert "provisional years        2027, 2028, 2029" in output
    assert "2027 年放假安排尚未录入" in output
    with pytest.raises(SystemExit):
        run("calendar_status", "--check")

    run("import_holidays", str(official_2027))
    output = run("calendar_status")
    assert "provisional years        2028, 2029" in output
    assert "alarm                    -" in output
    run("calendar_status", "--check")
