"""A department enters a penalty decision in a real browser and sees its 双公示 clock (issue 13 item 3)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.models import CreditRecord
from cases.services.disclosure import disclosure_limit
from tests.browser import login, screenshot
from tests.factories import make_uscc


@pytest.mark.browser
def test_a_department_enters_a_penalty_decision_and_sees_its_disclosure_clock(page, handler, rule_sets):
    decided = timezone.localdate() - dt.timedelta(days=2)
    due = disclosure_limit(decided).due_date

    login(page, handler)
    page.get_by_role("link", name="双公示报送").first.click()
    page.wait_for_url(re.compile(r"/records/intake/$"))
    page.select_option("select[name=kind]", "admin_penalty")
    page.fill("input[name=subject_name]", "郑州丁餐饮有限公司")
    page.fill("input[name=identifier]", make_uscc(71))
    page.fill("input[name=title]", "未按规定公示食品经营许可信息")
    page.fill("input[name=decision_number]", "郑市监罚〔2026〕188号")
    page.fill("input[name=decision_date]", decided.isoformat())
    # A penalty without a severity is refused, with everything typed still there.
    page.get_by_role("button", name="报送").click()
    assert "行政处罚信息必须填写失信程度" in page.inner_text(".has-error")
    assert page.input_value("input[name=title]") == "未按规定公示食品经营许可信息"
    page.select_option("select[name=severity]", "ordinary")
    page.get_by_role("button", name="报送").click()
    page.wait_for_url(re.compile(r"/records/\d+/$"))
    record = CreditRecord.objects.get(decision_number="郑市监罚〔2026〕188号")
    assert record.provider == handler.organisation

    clock = page.inner_text("#disclosure-clocks")
    assert "双公示信息报送" in clock and f"{due.year}年{due.month}月{due.day}日" in clock
    assert "第4项" in clock
    screenshot(page, "disclosure-record")

    # The intake page lists it with its limit.
    page.goto("/records/intake/")
    row = page.inner_text("#recent-intakes")
    assert "郑市监罚〔2026〕188号" in row and due.isoformat() in row
    screenshot(page, "disclosure-intake")
