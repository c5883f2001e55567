"""The inbox in a real browser (issue 13, "Done when"): a handler starts the day at /inbox/, finds a case by its
办件编号, claims it and decides it; a leader reassigns a colleague's task."""

import datetime as dt
import re

import pytest

from cases.models import AuditEvent, RepairState
from cases.services import inbox as inbox_svc
from tests.browser import login, screenshot
from tests.factories import AuthorisationFactory, CreditRecordFactory, EnterpriseFactory, UserFactory
from tests.test_repair_browser import private_storage  # noqa: F401  (fixture)
from tests.test_repair_flow import make_submitted
from workflows import engine


def _case(applicant, bureau, name):
    subject = EnterpriseFactory(name=name)
    AuthorisationFactory(user=applicant, subject=subject)
    record = CreditRecordFactory(
        subject=subject,
        provider=bureau,
        title="未按规定公示年度报告",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2030, 3, 5),
    )
    return make_submitted(applicant, record)


@pytest.mark.browser
def test_a_handler_finds_claims_and_decides_and_a_leader_reassigns(
    page,
    applicant,
    handler,
    leader,
    market_bureau,
    rule_sets,
    private_storage,  # noqa: F811
):
    handler2 = UserFactory(username="handler2", role="dept_handler", organisation=market_bureau, display_name="李四")
    wanted = _case(applicant, market_bureau, "郑州丁建材有限公司")
    _case(applicant, market_bureau, "郑州戊物流有限公司")
    colleagues = _case(applicant, market_bureau, "郑州己餐饮有限公司")
    inbox_svc.task_claim(actor=handler2, task_id=engine.open_task(colleagues).pk)

    # The handler's day starts at the inbox: three open tasks, nearest deadline first.
    login(page, handler)
    page.goto("/")
    page.wait_for_url(re.compile(r"/inbox/$"))
    assert page.locator("table.inbox tbody tr").count() == 3
    screenshot(page, "inbox-handler")

    # Finds the case by its 办件编号, claims it.
    page.fill("input[name=q]", wanted.tracking_number)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"q="))
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() == 1 and "郑州丁建材有限公司" in rows.inner_text()
    rows.get_by_role("button", name="认领").click()
    page.wait_for_selector("text=已认领")
    assert str(handler) in page.locator("table.inbox tbody tr").inner_text()
    screenshot(page, "inbox-claimed")

    # Opens it and decides: accepted.
    page.get_by_role("link", name=wanted.tracking_number).click()
    page.wait_for_url(re.compile(rf"/repair/desk/{wanted.pk}/"))
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_selector("text=审查意见")
    wanted.refresh_from_db()
    assert wanted.state == RepairState.ACCEPTED
    assert AuditEvent.objects.filter(action="inbox.claim", actor=handler).count() == 1

    # The leader reassigns the colleague's task to the handler.
    login(page, leader)
    page.goto("/inbox/?who=all")
    row = page.locator("tr", has_text=colleagues.tracking_number)
    assert "李四" in row.inner_text()
    row.locator("select[name=assignee]").select_option(str(handler.pk))
    row.get_by_role("button", name="改派").click()
    page.wait_for_selector("text=已分派给")
    screenshot(page, "inbox-reassigned")
    assert engine.open_task(colleagues).owner == handler
    event = AuditEvent.objects.get(action="inbox.reassign")
    assert event.actor == leader and event.data["previous_owner"] == handler2.pk
