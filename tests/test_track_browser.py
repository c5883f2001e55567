# ruff: noqa: F811  (pytest fixtures imported from tests.test_repair_views)
"""办件查询 in a real browser, without logging in (issue 12)."""

import pytest

from cases.identifiers import tracking_query_code
from tests.browser import screenshot
from tests.test_repair_views import eligible_record, private_storage, submit_case  # noqa: F401


@pytest.mark.browser
def test_anyone_tracks_a_case_by_number_and_query_code(page, applicant, eligible_record, enterprise):
    app = submit_case(applicant, eligible_record)
    page.goto("/")
    page.get_by_role("link", name="办件查询").first.click()
    page.fill("input[name=number]", app.tracking_number)
    page.fill("input[name=code]", "WRONG123")
    page.get_by_role("button", name="查询").click()
    assert "未查询到与该办件编号和查询码相符的办件" in page.inner_text("main")

    page.fill("input[name=code]", tracking_query_code(app.tracking_number))
    page.get_by_role("button", name="查询").click()
    result = page.inner_text(".track-result")
    assert "信用修复" in result and app.tracking_number in result and "受理" in result
    assert page.get_attribute(".track-result progress", "value") == "2"
    assert "个工作日" in result and "法定期限" in result
    assert enterprise.name not in page.content() and "赵六" not in page.content()
    screenshot(page, "track-result")
