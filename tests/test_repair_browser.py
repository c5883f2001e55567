"""Credit repair in a real browser, as the applicant and the department would do it (issue 3, "Tests")."""

import datetime as dt
import re
import subprocess

import pytest

from cases.models import RepairApplication, RepairState
from notices.models import Notice
from notices.services import notice_render_due
from tests.browser import login, screenshot
from tests.factories import CreditRecordFactory
from tests.test_repair_views import tiny_pdf


@pytest.fixture
def private_storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.mark.browser
def test_it_repairs_a_record_from_application_to_decision_pdf(
    page, applicant, handler, leader, enterprise, market_bureau, rule_sets, private_storage, tmp_path
):
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        title="未按规定公示年度报告",
        decision_number="郑市监罚〔2026〕88号",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    proof = tmp_path / "罚款缴纳凭证.pdf"
    proof.write_bytes(tiny_pdf())

    # The applicant opens the record and applies.
    login(page, applicant)
    page.goto(f"/records/{record.pk}/")
    page.get_by_role("link", name="申请信用修复").click()
    page.wait_for_url(re.compile(r"/repair/records/\d+/apply/"))
    assert "符合申请信用修复的基本条件" in page.inner_text(".eligibility")
    page.fill("input[name=contact_name]", "赵六")
    page.fill("input[name=contact_phone]", "13800000000")
    page.fill("textarea[name=statement]", "已于2026年3月20日缴清罚款，并已补报年度报告。")
    page.set_input_files("input[name=proof]", str(proof))
    page.fill("input[name=signer_name]", "张三")
    screenshot(page, "repair-apply")
    page.get_by_role("button", name="签署承诺").click()
    page.wait_for_url(re.compile(r"/repair/\d+/edit/"))
    assert "罚款缴纳凭证.pdf" in page.inner_text("table.attachments")
    assert "已由张三" in page.inner_text(".signed")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/repair/\d+/$"))
    app = RepairApplication.objects.get(record=record)
    number = app.tracking_number
    assert number in page.inner_text(".tracking-number")
    assert "受理审查" in page.inner_text(".now-step")
    assert "个工作日" in page.inner_text(".now")
    screenshot(page, "repair-status-submitted")

    # The handler accepts and proposes approval.
    login(page, handler)
    page.goto("/repair/desk/")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_selector("text=审查意见")
    page.check("input[name=propose-proposal][value=approve]")
    page.fill("textarea[name=propose-reason]", "罚款已缴清，年度报告已补报，符合修复条件。")
    screenshot(page, "repair-desk-review")
    page.get_by_role("button", name="提交负责人签批").click()
    page.wait_for_selector("text=等待部门负责人签批")

    # The leader signs off.
    login(page, leader)
    page.goto("/repair/desk/")
    page.get_by_role("link", name=number).click()
    page.check("input[name=signoff-agree][value=yes]")
    page.get_by_role("button", name="签批", exact=True).click()
    page.wait_for_selector("text=签批完成")
    app.refresh_from_db()
    assert app.state == RepairState.APPROVED

    # The decision notice is rendered after commit (synchronously with Q_SYNC=1); sweep in case it was not.
    notice_render_due()
    notice = Notice.objects.get(object_id=app.pk, kind="repair_granted")
    assert notice.status == Notice.Status.ISSUED

    # The applicant downloads the 信用修复决定书 from the status page.
    login(page, applicant)
    page.goto(f"/repair/{app.pk}/")
    row = page.locator("tr", has_text="信用修复决定书")
    href = row.get_by_role("link", name="下载PDF").get_attribute("href")
    screenshot(page, "repair-status-approved")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "decision.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "信用修复决定书" in text
    assert number in text
