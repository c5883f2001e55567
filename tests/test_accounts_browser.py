"""Registration and authorisation in a real browser (issue 12): a colleague registers, the enterprise's legal
representative registers, registers the enterprise and authorises the colleague for repairs; the colleague
then applies for a credit repair on the enterprise's record. The SMS codes are read where the phone would
get them: the SMS file adapter."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from cases.models import RepairApplication, SubjectAuthorisation
from tests.browser import login, screenshot
from tests.factories import CreditRecordFactory, EnterpriseFactory, make_id_number
from tests.test_repair_views import tiny_pdf

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


def register(page, sink, *, name: str, phone: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="注册", exact=True).click()
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", make_id_number())
    page.fill("input[name=phone]", phone)
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
def test_register_authorise_an_agent_and_apply_as_the_agent(
    page, market_bureau, rule_sets, private_storage, phone_inbox, tmp_path
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
    register(page, phone_inbox, name="李四", phone="13900000002")
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
