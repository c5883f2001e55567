"""Objections in a real browser (issue 4, "Tests"): an enterprise files an objection, the platform routes it,
the provider corrects the record, the enterprise downloads the result."""

import datetime as dt
import re
import subprocess

import pytest

from cases.models import CreditRecord, DisplayState
from cases.models.objection import ObjectionCase, ObjectionState
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
def test_it_corrects_a_record_from_objection_to_result_pdf(
    page, applicant, intake, handler, enterprise, market_bureau, credit_centre, rule_sets, private_storage, tmp_path
):
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        title="未按规定公示年度报告",
        decision_number="郑市监罚〔2026〕88号",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
    )
    evidence = tmp_path / "处罚决定书.pdf"
    evidence.write_bytes(tiny_pdf())

    # The enterprise objects from the record page.
    login(page, applicant)
    page.goto(f"/records/{record.pk}/")
    page.get_by_role("link", name="提出异议").click()
    page.wait_for_url(re.compile(r"/objection/records/\d+/new/"))
    page.fill("input[name=f_decision_number]", "郑市监罚〔2026〕18号")
    page.fill("textarea[name=reason]", "公示的决定文书号与处罚决定书原件不符。")
    page.set_input_files("input[name=evidence]", str(evidence))
    page.fill("input[name=contact_name]", "赵六")
    page.fill("input[name=contact_phone]", "13800000000")
    screenshot(page, "objection-file")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_url(re.compile(r"/objection/\d+/$"))
    case = ObjectionCase.objects.get(record=record)
    number = case.tracking_number
    assert "平台分办" in page.inner_text(".now-step")
    assert "个工作日" in page.inner_text(".now")

    # An anonymous visitor sees the mark.
    page.context.clear_cookies()
    page.goto(f"/public/subjects/{enterprise.pk}/")
    assert "异议处理中" in page.inner_text("body")

    # The platform routes it to the provider.
    login(page, intake)
    page.goto("/objection/desk/")
    page.get_by_role("link", name=number).click()
    page.fill("textarea[name=check-note]", "请核对处罚决定书原件")
    page.get_by_role("button", name="发出核查通知").click()
    page.wait_for_selector("text=核查通知已发出")

    # The provider corrects the record.
    login(page, handler)
    page.goto("/objection/desk/")
    page.get_by_role("link", name=number).click()
    page.check("input[name=decide-outcome][value=corrected]")
    assert page.input_value("input[name=decide-new_decision_number]") == "郑市监罚〔2026〕18号"
    page.fill("textarea[name=decide-reason]", "经核对原件，文书号录入有误，予以更正。")
    screenshot(page, "objection-provider-correct")
    page.get_by_role("button", name="提交处理结果").click()
    page.wait_for_selector("text=已作出处理")
    case.refresh_from_db()
    assert case.state == ObjectionState.CLOSED and case.outcome == "corrected"
    record.refresh_from_db()
    assert record.decision_number == "郑市监罚〔2026〕18号" and record.display_state == DisplayState.DISPLAYED

    notice_render_due()
    assert Notice.objects.get(object_id=case.pk, kind="objection_result").status == Notice.Status.ISSUED

    # The enterprise downloads the result.
    login(page, applicant)
    page.goto(f"/objection/{case.pk}/")
    row = page.locator("tr", has_text="异议处理结果告知书")
    href = row.get_by_role("link", name="下载PDF").get_attribute("href")
    screenshot(page, "objection-status-closed")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "result.pdf"
    pdf.write_bytes(response.body())
    text = "".join(
        subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "异议处理结果告知书" in text and number in text and "郑市监罚〔2026〕18号" in text
    assert CreditRecord.objects.get(pk=record.pk).changes.filter(field="decision_number").exists()
