# ruff: noqa: F811 — pytest fixtures imported from tests.test_rectification_dashboard are requested by name
"""Supervisor exports carry every table of the dashboard, one sheet per table; drill-downs page through every
case behind a number; charts say what their colours and numbers mean (issue 13 item 7)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from cases.views import supervision as views
from tests.test_rectification_dashboard import data, travel  # noqa: F401

pytestmark = pytest.mark.django_db

SHEETS = [
    "按机构",
    "按办理事项",
    "按区县",
    "政务失信清零",
    "零增长",
    "办理用时（按环节）",
    "办理用时（按机构）",
    "办理时效",
    "双公示报送及时性",
]


def test_the_excel_export_has_one_sheet_per_dashboard_table(data, client, supervisor, body):
    client.force_login(supervisor)
    wb = load_workbook(io.BytesIO(client.get("/supervision/export.xlsx").content))
    assert wb.sheetnames == SHEETS
    by_procedure = [list(r) for r in wb["按办理事项"].iter_rows(values_only=True)]
    assert by_procedure[0][:3] == ["办理事项", "未办结", "已逾期"]
    assert ["政务失信整改", 3, 3] in [r[:3] for r in by_procedure]
    districts = [list(r) for r in wb["按区县"].iter_rows(values_only=True)]
    assert ["金水区", 2, 2] in districts
    clearing = [list(r) for r in wb["政务失信清零"].iter_rows(values_only=True)]
    assert clearing[0] == ["月末", "未整改到位（件）"] and len(clearing) == 13  # header + 12 month ends


def test_any_table_exports_as_csv(data, client, supervisor):
    client.force_login(supervisor)
    rows = list(
        csv.reader(io.StringIO(client.get("/supervision/export.csv?table=by_district").content.decode("utf-8-sig")))
    )
    assert rows[0] == ["区县", "未办结", "已逾期"] and ["金水区", "2", "2"] in rows
    assert client.get("/supervision/export.csv?table=nonsense").status_code == 404


def test_the_drilldown_pages_instead_of_stopping(data, client, supervisor, body, monkeypatch):
    monkeypatch.setattr(views, "DRILL_PAGE_SIZE", 1)
    client.force_login(supervisor)
    link = f"/supervision/cases/?procedure=rectification&organisation={body.pk}&overdue=1"
    first = client.get(link).content.decode()
    second = client.get(link + "&page=2").content.decode()
    assert "（2）" in first and "第 1 / 2 页" in first and "page=2" in first
    found = [c.tracking_number for c in (data["a"], data["b"]) if c.tracking_number in first]
    found += [c.tracking_number for c in (data["a"], data["b"]) if c.tracking_number in second]
    assert sorted(found) == sorted([data["a"].tracking_number, data["b"].tracking_number])


def test_charts_have_legends_and_units(data, client, supervisor):
    client.force_login(supervisor)
    page = client.get("/supervision/").content.decode()
    assert page.count("单位：件") >= 4
    assert "横轴：月份（年/月）" in page
