"""好差评 in a real browser (issue 12 item 6): the applicant rates a decided repair from its case page; the
差评 reaches the department leader, who answers it."""

import datetime as dt
import re

import pytest

from cases.models import CaseRating, RatingFollowUp, RepairState
from tests.browser import login, screenshot
from tests.factories import CreditRecordFactory
from tests.test_repair_flow import drive, make_submitted


@pytest.fixture
def private_storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.mark.browser
def test_the_applicant_rates_a_decided_repair_and_the_leader_answers_the_bad_rating(
    page, applicant, handler, leader, enterprise, market_bureau, rule_sets, private_storage
):
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    case = drive(make_submitted(applicant, record), RepairState.APPROVED, handler=handler, leader=leader)

    login(page, applicant)
    page.goto(f"/repair/{case.pk}/")
    page.get_by_role("link", name="评价本办件").click()
    page.wait_for_url(re.compile(rf"/ratings/repair/{case.pk}/"))
    # A 差评 without a reason is sent back with a specific message, the choice kept.
    page.get_by_label("不满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    assert "请写明原因" in page.inner_text(".form-errors")
    assert page.get_by_label("不满意", exact=True).is_checked()
    page.fill("textarea[name=comment]", "补正通知没有说清楚要哪份材料")
    screenshot(page, "rating-form")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(re.compile(rf"/repair/{case.pk}/$"))
    assert "您已于" in page.inner_text("#rating") and "不满意" in page.inner_text("#rating")
    assert CaseRating.objects.get().grade == "dissatisfied"

    page.context.clear_cookies()
    login(page, leader)
    page.get_by_role("link", name="差评整改").click()
    page.wait_for_url(re.compile(r"/ratings/follow-ups/"))
    assert "补正通知没有说清楚要哪份材料" in page.inner_text("main")
    page.fill("textarea[name$=response]", "已核实，补正通知改为逐项勾选材料清单，并电话回访申请人")
    page.get_by_role("button", name="办结差评整改").click()
    page.wait_for_url(re.compile(r"/ratings/follow-ups/$"))
    screenshot(page, "rating-follow-up-closed")
    assert "已整改回访" in page.inner_text("main")
    assert RatingFollowUp.objects.get().state == "closed"
