"""The supervisor in a real browser (issue 6, "Tests"): from the dashboard's overdue figure for a government body
down to the case and its 督办通知书 (PDF)."""

import datetime as dt
import re
import subprocess

import pytest

from cases.models import EscalationStep
from cases.services import escalation
from cases.services import rectification as svc
from notices.models import Notice
from notices.services import notice_render_due
from tests.browser import login, screenshot
from tests.rectification_support import clock_of, substantiated_case


@pytest.fixture
def private_storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.mark.browser
def test_the_supervisor_follows_an_overdue_case_from_the_chart_to_the_supervision_notice(
    page,
    rule_sets,
    rect_travel,
    body,
    other_body,
    city_gov,
    office,
    intake,
    reviewer,
    body_user,
    other_body_user,
    supervisor,
    private_storage,
    tmp_path,
):
    # Two bodies under rectification since 1 September; only the first one lets its deadline pass.
    rect_travel.to(2026, 9, 1)
    late = substantiated_case(
        intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, deadline=dt.date(2026, 9, 24)
    )
    svc.rectification_submit_plan(actor=body_user, case=late, text="分三期支付欠款。")
    on_time = substantiated_case(
        intake=intake,
        reviewer=reviewer,
        body=other_body,
        office=office,
        verifier=city_gov,
        deadline=dt.date(2026, 10, 30),
    )
    svc.rectification_submit_plan(actor=other_body_user, case=on_time, text="按期整改。")
    # Both report their progress on time (every 10 working days, and a late report is escalated too).
    rect_travel.to(2026, 9, 14, 9)
    svc.rectification_report_progress(actor=body_user, case=late, text="第一期款项已支付。")
    svc.rectification_report_progress(actor=other_body_user, case=on_time, text="整改按计划推进。")
    # Monday 28 September: the deadline (Thu 24th) has passed; the nightly sweep fires the 督办.
    rect_travel.to(2026, 9, 28, 9)
    escalation.escalation_sweep()
    deadline = clock_of(late, svc.DEADLINE)
    assert EscalationStep.objects.filter(clock=deadline, step=EscalationStep.Step.SUPERVISION).exists()
    assert not EscalationStep.objects.filter(object_id=on_time.pk, step=EscalationStep.Step.SUPERVISION).exists()
    notice_render_due()
    notice = Notice.objects.get(kind="rectification_supervision", object_id=late.pk)
    assert notice.status == Notice.Status.ISSUED

    login(page, supervisor)
    page.goto("/supervision/")
    row = page.locator("table.chart tr", has_text=body.name)
    assert row.locator("a.overdue-link").inner_text() == "1"
    assert page.locator("table.chart tr", has_text=other_body.name).locator("a.overdue-link").inner_text() == "0"
    screenshot(page, "supervision-dashboard")
    # The red bar of the chart is the way down.
    row.locator("a.overdue-bar rect").click()
    page.wait_for_url(re.compile(r"/supervision/cases/\?.*overdue=1"))
    assert page.locator("table.drill tbody tr").count() == 1
    assert on_time.tracking_number not in page.inner_text("table.drill")
    page.get_by_role("link", name=late.tracking_number).click()
    page.wait_for_url(re.compile(rf"/rectification/{late.pk}/$"))

    escalations = page.locator("table.escalations")
    assert "督办" in escalations.locator("tr.esc-supervision").inner_text()
    assert "整改期限" in escalations.locator("tr.esc-supervision").inner_text()
    screenshot(page, "supervision-case")
    escalations.locator("tr.esc-supervision").get_by_role("link", name=notice.number).click()
    page.wait_for_url(re.compile(rf"/notices/{notice.pk}/$"))
    href = page.get_by_role("link", name="下载PDF").get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "duban.pdf"
    pdf.write_bytes(response.body())
    text = "".join(
        subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "督办通知书" in text and late.summary in text and body.name in text
