# ruff: noqa: F811  (the smtp fixture is imported from tests.test_messages)
"""Registration and authorisation in a real browser (issue 12): a colleague registers, the enterprise's legal
representative registers, registers the enterprise and authorises the colleague for repairs; the colleague
then applies for a credit repair on the enterprise's record, is told by site message and e-mail when a 补正 is
requested and again 2 working days before it lapses, tracks the case at /track/ without logging in, rates it
once it is decided, and the legal representative downloads the enterprise's credit report (issue 12 "Done
when", in one journey on PostgreSQL). The
SMS codes are read where the phone would get them: the SMS file adapter; the e-mail reaches a local SMTP
server."""

import datetime as dt
import email
import email.policy
import json
import re
import subprocess

import pytest
from django.utils import timezone

from cases.models import Attachment, RepairApplication, RepairState, SubjectAuthorisation
from cases.services.messages import deadline_reminders_send
from cases.services.repair import repair_attach, repair_request_supplement, repair_supplement
from notices.models import Notice
from notices.services import notice_render
from tests.browser import login, screenshot
from tests.factories import CreditRecordFactory, EnterpriseFactory, make_id_number
from tests.test_messages import smtp  # noqa: F401
from tests.test_repair_flow import drive, upload
from tests.test_repair_views import tiny_pdf
from workflows.calendar import get_calendar

PASSWORD = "Zz-credit-2026"


@pytest.fixture
def private_storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def phone_inbox(settings, tmp_path):
    """The SMS file adapter's output: what each mobile received."""
    settings.SMS_GATEWAY_URL = ""
    settings.SMS_FILE_SINK = tmp_path / "sms.jsonl"
    return settings.SMS_FILE_SINK


def last_code(sink, phone: str) -> str:
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    text = [sms["text"] for sms in lines if sms["phone"] == phone][-1]
    return re.search(r"验证码为(\d{6})", text).group(1)


def register(page, sink, *, name: str, phone: str, email: str = "") -> None:
    page.goto("/")
    page.get_by_role("link", name="注册", exact=True).click()
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", make_id_number())
    page.fill("input[name=phone]", phone)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="获取短信验证码").click()
    page.wait_for_url(re.compile(r"/accounts/register/confirm/"))
    assert page.input_value("input[name=phone]") == phone
    page.fill("input[name=code]", last_code(sink, phone))
    page.get_by_role("button", name="完成注册").click()
    page.wait_for_url(re.compile(r"/me/$"))
    assert "个人中心" in page.inner_text("h1")


def logout(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()


@pytest.mark.browser
def test_register_authorise_apply_as_the_agent_hear_of_the_supplement_track_rate_and_get_the_credit_report(
    page, market_bureau, handler, leader, credit_centre, rule_sets, private_storage, phone_inbox, smtp, tmp_path
):
    enterprise = EnterpriseFactory(name="郑州壬科技有限公司", legal_representative="张三")
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        title="未按规定公示年度报告",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )

    # The colleague registers first (an agent must have an account).
    register(page, phone_inbox, name="李四", phone="13900000002", email="lisi@example.com")
    logout(page)

    # The legal representative registers, then registers the enterprise.
    register(page, phone_inbox, name="张三", phone="13900000001")
    page.get_by_role("link", name="登记企业").first.click()
    page.fill("input[name=uscc]", enterprise.uscc)
    page.fill("input[name=name]", enterprise.name)
    page.check("input[name=capacity][value=legal_rep]")
    screenshot(page, "frontdoor-enterprise-register")
    page.get_by_role("button", name="提交登记").click()
    page.wait_for_url(re.compile(r"/me/messages/"))
    assert "企业登记已提交" in page.inner_text(".messages")
    assert "企业登记成功" in page.inner_text("table.messages-list")
    assert page.inner_text(".unread-messages .count") == "2"  # registration and enterprise

    # … and authorises the colleague for credit repair until the end of next month.
    page.get_by_role("link", name="个人中心").first.click()
    page.get_by_role("link", name="管理经办人").click()
    until = timezone.localdate() + dt.timedelta(days=40)
    page.fill("input[name=name]", "李四")
    page.fill("input[name=phone]", "13900000002")
    page.select_option("select[name=scope]", "repair")
    page.fill("input[name=valid_until]", until.isoformat())
    page.get_by_role("button", name="授权", exact=True).click()
    page.wait_for_selector("text=已授权李四为经办人")
    row = page.inner_text("table.agents")
    assert "李四" in row and "信用修复" in row and until.isoformat() in row
    screenshot(page, "frontdoor-agents")
    logout(page)

    # The colleague logs in with the mobile number, sees the enterprise and applies for a repair.
    login(page, "13900000002", PASSWORD)
    page.goto("/me/")
    subjects = page.inner_text("table.me-subjects")
    assert enterprise.name in subjects and "信用修复" in subjects
    page.goto(f"/records/{record.pk}/")
    page.get_by_role("link", name="申请信用修复").click()
    page.wait_for_url(re.compile(r"/repair/records/\d+/apply/"))
    proof = tmp_path / "罚款缴纳凭证.pdf"
    proof.write_bytes(tiny_pdf())
    page.fill("input[name=contact_name]", "李四")
    page.fill("input[name=contact_phone]", "13900000002")
    page.fill("textarea[name=statement]", "已于2026年3月20日缴清罚款，并已补报年度报告。")
    page.set_input_files("input[name=proof]", str(proof))
    page.fill("input[name=signer_name]", "张三")
    page.get_by_role("button", name="签署承诺").click()
    page.wait_for_url(re.compile(r"/repair/\d+/edit/"))
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/repair/\d+/$"))
    app = RepairApplication.objects.get(record=record)
    assert app.applicant.username == "13900000002"
    assert app.tracking_number in page.inner_text(".tracking-number")
    page.goto("/me/")
    assert app.tracking_number in page.inner_text("table.me-cases")
    screenshot(page, "frontdoor-me-agent")
    auth = SubjectAuthorisation.objects.get(user=app.applicant, subject=enterprise)
    assert (auth.scope, auth.valid_until, auth.granted_by.username) == ("repair", until, "13900000001")

    # The department asks for a supplement: the colleague hears of it in the site and by e-mail …
    repair_request_supplement(actor=handler, application=app, missing="请补充营业执照复印件")
    app.refresh_from_db()
    to_colleague = [
        email.message_from_bytes(e.content, policy=email.policy.default)
        for e in smtp.envelopes
        if e.rcpt_tos == ["lisi@example.com"]
    ]
    (mail,) = [m for m in to_colleague if "请补正申请材料" in m["Subject"]]
    assert app.tracking_number in mail.get_content()
    sent_before_reminder = len(smtp.envelopes)
    # … and again two working days before the window closes.
    due = app.supplement_due
    cal = get_calendar()
    reminder_day = next(
        due - dt.timedelta(days=n) for n in range(1, 10) if cal.add_working_days(due - dt.timedelta(days=n), 2) == due
    )
    assert deadline_reminders_send(today=reminder_day) >= 1
    page.goto("/me/messages/")
    listed = page.inner_text("table.messages-list")
    assert "请补正申请材料" in listed and "期限即将届满" in listed
    page.goto("/me/")
    assert due.isoformat() in page.inner_text("table.me-cases")
    assert len(smtp.envelopes) == sent_before_reminder + 1  # the reminder went by e-mail too

    # The query code is on the case page; anyone holding it tracks the case without logging in.
    page.goto(f"/repair/{app.pk}/")
    code = page.inner_text(".query-code").split()[0]
    logout(page)
    page.goto("/track/")
    page.fill("input[name=number]", app.tracking_number)
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="查询").click()
    result = page.inner_text(".track-result")
    assert app.tracking_number in result and "受理" in result and enterprise.name not in result
    screenshot(page, "frontdoor-track")

    # The colleague answers the 补正 and the department grants the repair …
    repair_attach(
        actor=app.applicant, application=app, purpose=Attachment.Purpose.SUPPLEMENT, uploaded=upload("执照.pdf")
    )
    app = repair_supplement(actor=app.applicant, application=app, note="已补充营业执照复印件")
    app = drive(app, RepairState.APPROVED, handler=handler, leader=leader)
    # … the colleague rates the decided case from its page …
    login(page, "13900000002", PASSWORD)
    page.goto(f"/repair/{app.pk}/")
    page.get_by_role("link", name="评价本办件").click()
    page.wait_for_url(re.compile(rf"/ratings/repair/{app.pk}/"))
    page.get_by_label("非常满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(re.compile(rf"/repair/{app.pk}/$"))
    assert "非常满意" in page.inner_text("#rating")
    logout(page)
    # … and the legal representative, who acts for the enterprise in all matters, downloads its credit report
    # (Henan Art 40), where the repaired record is listed as no longer shown.
    login(page, "13900000001", PASSWORD)
    page.goto(f"/me/report/?subject={enterprise.pk}")
    page.check(f"#subject-{enterprise.pk}")
    page.get_by_role("button", name="获取信用报告").click()
    page.wait_for_url(re.compile(r"/me/report/"))
    reports = Notice.objects.filter(kind="credit_report", addressee_subject=enterprise)
    assert reports.count() == 1, page.inner_text("main")
    for pending in reports.exclude(status=Notice.Status.ISSUED):  # what the worker does after the commit
        notice_render(notice_id=pending.pk)
    page.goto("/me/report/")
    href = page.get_by_role("link", name="下载PDF").first.get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf.body(), capture_output=True, check=True).stdout
    text = text.decode()
    assert "信用报告" in text and enterprise.name in text and record.title in text
    screenshot(page, "frontdoor-credit-report")
