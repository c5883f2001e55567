"""Registration and authorisation (issue 12, item 1): a citizen registers with a code sent by SMS, an
enterprise's legal representative authorises 经办人 with a scope and an end date, a 授权委托书 goes to the credit
centre — and typing a number never tells whether it is on file."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import policy
from cases.models import Message, OutboxEvent, Role, Subject, SubjectAuthorisation, User
from tests.factories import (
    AuthorisationFactory,
    EnterpriseFactory,
    PersonFactory,
    UserFactory,
    make_id_number,
    make_uscc,
)
from tests.test_repair_views import tiny_pdf

PASSWORD = "Zz-credit-2026"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def register(client, *, name="赵六", id_number=None, phone="13912345678", **extra):
    data = {
        "name": name,
        "id_number": id_number or make_id_number(),
        "phone": phone,
        "email": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }
    return client.post(reverse("register"), data)


def sent_code(phone: str) -> str:
    event = OutboxEvent.objects.filter(channel="sms", payload__phone=phone).order_by("-pk").first()
    return re.search(r"验证码为(\d{6})", event.payload["text"]).group(1)


def confirm(client, phone: str, code: str | None = None):
    return client.post(reverse("register_confirm"), {"phone": phone, "code": code or sent_code(phone)})


@pytest.mark.django_db
def test_it_registers_a_citizen_only_with_the_code_sent_to_the_mobile(client):
    id_number = make_id_number()
    response = register(client, id_number=id_number)
    assert response.status_code == 302 and response["Location"] == reverse("register_confirm")
    user = User.objects.get(username="13912345678")
    assert not user.is_active and user.role == Role.APPLICANT
    # The code went out as an SMS outbox row, never in the page.
    code = sent_code("13912345678")
    assert code not in client.get(reverse("register_confirm")).content.decode()

    wrong = "000000" if code != "000000" else "111111"
    response = confirm(client, "13912345678", wrong)
    assert response.status_code == 400 and "验证码不正确或已失效" in response.content.decode()
    assert not User.objects.get(pk=user.pk).is_active

    response = confirm(client, "13912345678", code)
    assert response.status_code == 302 and response["Location"] == reverse("me")
    user.refresh_from_db()
    assert user.is_active
    subject = Subject.objects.get(id_number=id_number)
    assert subject.name == "赵六" and subject.kind == "individual"
    assert policy.can_apply_for(user, subject, "repair")
    assert Message.objects.filter(user=user, title="注册成功").exists()
    # A used code does not open anything twice.
    client.logout()
    assert confirm(client, "13912345678", code).status_code == 400


@pytest.mark.django_db
def test_a_bad_id_number_is_refused_with_the_rule_and_nothing_typed_is_lost(client):
    good = make_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = register(client, name="钱七", id_number=bad, phone="13700000001")
    html = response.content.decode()
    assert response.status_code == 400
    assert "第18位校验码应为" in html and "GB 11643-1999" in html
    assert 'value="钱七"' in html and 'value="13700000001"' in html
    assert not User.objects.filter(username="13700000001").exists()

    response = register(client, name="钱七", phone="2345", password2="other")
    html = response.content.decode()
    assert "请填写11位中国大陆手机号码" in html and "两次输入的密码不一致" in html


@pytest.mark.django_db
def test_registration_answers_the_same_whether_the_number_is_on_file_or_not(client):
    # A number someone else has already claimed, and a fresh one: the same pages, the outcome by message.
    claimed = PersonFactory(name="孙八")
    AuthorisationFactory(user=UserFactory(), subject=claimed, basis="self")
    pages = []
    for phone, number in (("13600000001", claimed.id_number), ("13600000002", make_id_number())):
        client.logout()
        first = register(client, name="孙八", id_number=number, phone=phone)
        second = confirm(client, phone)
        landing = client.get(second["Location"])
        pages.append(
            (first.status_code, first["Location"], second.status_code, second["Location"], landing.status_code)
        )
    assert pages[0] == pages[1]

    intruder = User.objects.get(username="13600000001")
    assert not policy.can_view_subject(intruder, claimed)
    assert Message.objects.get(user=intruder, kind="account").title == "身份信息未能自动关联"
    fresh = User.objects.get(username="13600000002")
    assert Message.objects.get(user=fresh, kind="account").title == "注册成功"


@pytest.mark.django_db
def test_a_mobile_already_registered_gets_the_same_page_and_an_sms_instead_of_an_account(client):
    UserFactory(username="13500000001", phone="13500000001", display_name="周九")
    response = register(client, name="冒名者", phone="13500000001")
    assert response.status_code == 302 and response["Location"] == reverse("register_confirm")
    assert User.objects.filter(username="13500000001").count() == 1
    assert User.objects.get(username="13500000001").display_name == "周九"
    sms = OutboxEvent.objects.get(channel="sms", payload__phone="13500000001")
    assert "该手机号已注册" in sms.payload["text"]


@pytest.mark.django_db
def test_registering_twice_before_confirming_keeps_one_account_and_the_newest_code(client):
    register(client, phone="13400000001")
    first = sent_code("13400000001")
    register(client, phone="13400000001")
    second = sent_code("13400000001")
    assert User.objects.filter(username="13400000001").count() == 1
    if first != second:
        assert confirm(client, "13400000001", first).status_code == 400
    assert confirm(client, "13400000001", second).status_code == 302


# --- enterprises and 经办人 ---------------------------------------------------------------------------


@pytest.fixture
def legal_rep(db):
    return UserFactory(username="13800000001", phone="13800000001", display_name="张三")


@pytest.fixture
def colleague(db):
    return UserFactory(username="13800000002", phone="13800000002", display_name="李四")


def register_enterprise(client, *, uscc, name, capacity="legal_rep", **extra):
    return client.post(reverse("enterprise_register"), {"uscc": uscc, "name": name, "capacity": capacity, **extra})


@pytest.mark.django_db
def test_the_legal_representative_registers_the_enterprise_and_authorises_a_colleague_with_scope_and_end_date(
    client, legal_rep, colleague
):
    uscc = make_uscc()
    client.force_login(legal_rep)
    response = register_enterprise(client, uscc=uscc, name="郑州丙科技有限公司")
    assert response.status_code == 302
    subject = Subject.objects.get(uscc=uscc)
    assert subject.legal_representative == "张三"
    assert policy.is_legal_representative(legal_rep, subject)
    # A double submission changes nothing.
    register_enterprise(client, uscc=uscc, name="郑州丙科技有限公司")
    assert SubjectAuthorisation.objects.filter(subject=subject).count() == 1

    until = timezone.localdate() + dt.timedelta(days=30)
    url = reverse("subject_agents", args=[subject.pk])
    response = client.post(url, {"name": "李四", "phone": "13800000002", "scope": "repair", "valid_until": until})
    assert response.status_code == 302
    auth = SubjectAuthorisation.objects.get(user=colleague, subject=subject)
    assert (auth.basis, auth.scope, auth.valid_until, auth.granted_by) == ("employee", "repair", until, legal_rep)
    assert "李四" in client.get(url).content.decode()

    # Scope: repair yes, objection and commitment no; end date: not the day after.
    assert policy.can_apply_for(colleague, subject, "repair")
    assert not policy.can_apply_for(colleague, subject, "objection")
    assert not policy.can_apply_for(colleague, subject, "commitment")
    assert not policy.can_apply_for(colleague, subject)
    assert not policy.active_authorisations(colleague, today=until + dt.timedelta(days=1)).exists()
    assert Message.objects.get(user=colleague, title="您已被授权为经办人")

    # A colleague is not the legal representative: the agents page does not exist for them.
    client.force_login(colleague)
    assert client.get(url).status_code == 404

    client.force_login(legal_rep)
    client.post(reverse("agent_revoke", args=[subject.pk, auth.pk]))
    assert not policy.can_apply_for(colleague, subject, "repair")
    assert Message.objects.filter(user=colleague, title="经办人授权已撤销").exists()


@pytest.mark.django_db
def test_authorising_an_unknown_person_says_so_and_keeps_the_form(client, legal_rep):
    subject = EnterpriseFactory(legal_representative="张三")
    AuthorisationFactory(user=legal_rep, subject=subject)
    client.force_login(legal_rep)
    until = timezone.localdate() + dt.timedelta(days=5)
    response = client.post(
        reverse("subject_agents", args=[subject.pk]),
        {"name": "王二", "phone": "13811112222", "scope": "all", "valid_until": until},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "未找到手机号与姓名均一致的已注册用户" in html and 'value="王二"' in html
    response = client.post(
        reverse("subject_agents", args=[subject.pk]),
        {"name": "王二", "phone": "13811112222", "scope": "all", "valid_until": "2020-01-01"},
    )
    assert "授权截止日期不能早于今天" in response.content.decode()


@pytest.mark.django_db
def test_enterprise_registration_answers_the_same_for_a_known_and_an_unknown_code(client, legal_rep):
    known = EnterpriseFactory(name="郑州丁实业有限公司", legal_representative="另一人")
    client.force_login(legal_rep)
    a = register_enterprise(client, uscc=known.uscc, name="郑州丁实业有限公司")
    b = register_enterprise(client, uscc=make_uscc(), name="郑州戊实业有限公司")
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"])
    follow_a = client.get(a["Location"])
    assert "企业登记已提交，办理结果将以站内消息通知您" in follow_a.content.decode()
    # Only the message says what happened: no link to the known enterprise under someone else's name.
    assert not policy.can_view_subject(legal_rep, known)
    assert Message.objects.filter(user=legal_rep, title="企业登记未通过").exists()


@pytest.mark.django_db
def test_an_agent_on_a_power_of_attorney_acts_only_after_the_credit_centre_approves(
    client, colleague, reviewer, intake
):
    subject = EnterpriseFactory(name="郑州己商贸有限公司", legal_representative="张三")
    client.force_login(colleague)
    response = register_enterprise(client, uscc=subject.uscc, name=subject.name, capacity="agent")
    assert response.status_code == 400 and "受托经办人须上传授权委托书" in response.content.decode()
    attorney = SimpleUploadedFile("授权委托书.pdf", tiny_pdf(), content_type="application/pdf")
    response = register_enterprise(
        client,
        uscc=subject.uscc,
        name=subject.name,
        capacity="agent",
        legal_representative="张三",
        attorney=attorney,
    )
    assert response.status_code == 302
    auth = SubjectAuthorisation.objects.get(user=colleague, subject=subject)
    assert auth.status == "pending" and not policy.can_apply_for(colleague, subject, "repair")

    # The applicant cannot review; the credit centre can, and sees the file.
    assert client.get(reverse("authorisation_review_list")).status_code == 403
    client.force_login(reviewer)
    page = client.get(reverse("authorisation_review", args=[auth.pk])).content.decode()
    assert "授权委托书.pdf" in page
    response = client.post(reverse("authorisation_review", args=[auth.pk]), {"decision": "refuse", "note": ""})
    assert response.status_code == 400 and "不予通过时请写明理由" in response.content.decode()
    client.post(reverse("authorisation_review", args=[auth.pk]), {"decision": "approve", "note": "委托书齐全"})
    auth.refresh_from_db()
    assert auth.status == "active" and auth.reviewed_by == reviewer
    assert policy.can_apply_for(colleague, subject, "repair")
    assert Message.objects.filter(user=colleague, title="授权委托书审核通过").exists()


@pytest.mark.django_db
def test_the_identity_provider_hook_is_off_by_default(client, settings):
    assert settings.OIDC_ENABLED is False
    assert "mozilla_django_oidc" not in settings.INSTALLED_APPS
    assert client.get("/oidc/authenticate/").status_code == 404


@pytest.mark.django_db
def test_registration_is_rate_limited_per_address(client, monkeypatch):
    from cases.views import accounts as views

    monkeypatch.setattr(views, "REGISTER_LIMIT", 2)
    for n in range(2):
        assert register(client, phone=f"1330000000{n}").status_code == 302
    response = register(client, name="第三次", phone="13300000009")
    assert response.status_code == 400 and "操作过于频繁" in response.content.decode()
    assert 'value="第三次"' in response.content.decode()
    assert not User.objects.filter(username="13300000009").exists()
