"""Login protection: lockout per account and per address, passwords of a government site, password change and
reset by e-mail, and TOTP for the roles that see the whole city."""

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "pass-1234"  # tests.factories.UserFactory


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


# --- lockout ----------------------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_and_say_when_to_retry(client, handler, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "handler", "wrong-password").status_code == 200  # the form again, with its error
    locked = login(client, "handler", "wrong-password")

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录已暂时锁定" in page and "15分钟" in page
    assert re.search(r"请于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）之后重试", page)
    # the right password does not get in while the account is locked, from anywhere
    assert login(Client(REMOTE_ADDR="10.1.1.1"), "handler", PASSWORD).status_code == 429


def test_after_the_cool_off_the_right_password_works_again(client, handler, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "handler", "wrong-password")
    assert login(client, "handler", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert login(client, "handler", PASSWORD).status_code == 302


def test_guessing_many_accounts_from_one_address_locks_the_address(client, handler, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{n}", "wrong-password")

    assert login(client, "handler", PASSWORD).status_code == 429  # same address, other account
    assert login(Client(REMOTE_ADDR="10.1.1.2"), "handler", PASSWORD).status_code == 302  # the account is fine


def test_a_successful_login_clears_earlier_failures(client, handler, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "handler", "wrong-password")
    assert login(client, "handler", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert login(client, "handler", "wrong-password").status_code == 200


# --- passwords --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password, why",
    [
        ("Ab1!xyz", "至少需要10个字符"),
        ("abcdefghijk", "至少3类"),
        ("abcdefgh12", "至少3类"),
        ("Handler2026!", "太相似"),
        ("Password123", "太常见"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(handler, password, why):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password, user=handler)
    assert any(why in message for message in refused.value.messages), refused.value.messages


def test_a_strong_password_is_accepted(handler):
    validate_password("Zz-信用-7350-qk", user=handler)


def test_an_officer_changes_the_password(client, handler):
    client.force_login(handler)
    page = client.get("/accounts/password/change/").content.decode()
    assert "修改密码" in page

    refused = client.post(
        "/accounts/password/change/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert refused.status_code == 200 and "至少需要10个字符" in refused.content.decode()

    done = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Kx9-river-lamp", "new_password2": "Kx9-river-lamp"},
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/password/change/done/"
    assert "密码已修改" in client.get(done["Location"]).content.decode()
    assert Client().login(username="handler", password="Kx9-river-lamp")


def test_a_forgotten_password_is_reset_through_the_link_sent_by_email(client, applicant):
    applicant.email = "jia@example.com"
    applicant.save(update_fields=["email"])

    sent = client.post("/accounts/password/reset/", {"email": "jia@example.com"})
    assert sent.status_code == 302
    assert "重设链接已发送" in client.get(sent["Location"]).content.decode()
    [message] = mail.outbox
    assert message.to == ["jia@example.com"] and "重设密码" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    form_url = client.get(link)["Location"]  # Django swaps the token for a session-held one
    assert "设置新密码" in client.get(form_url).content.decode()
    done = client.post(form_url, {"new_password1": "Lq7-harbour-sun", "new_password2": "Lq7-harbour-sun"})
    assert done.status_code == 302
    assert "密码已重设" in client.get(done["Location"]).content.decode()
    assert Client().login(username="applicant", password="Lq7-harbour-sun")
    assert "链接已失效" in Client().get(link, follow=True).content.decode()  # used once only


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    sent = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert sent.status_code == 302 and mail.outbox == []


# --- two-factor sign-in --------------------------------------------------------------------------------------
def code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def test_with_staff_2fa_a_supervisor_must_set_up_totp_before_anything_else(client, supervisor, settings):
    settings.STAFF_2FA = True
    client.force_login(supervisor)

    response = client.get("/supervision/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")
    page = client.get(response["Location"]).content.decode()
    assert "须开启两步验证" in page and "<svg" in page
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)

    wrong = client.post(
        "/accounts/2fa/setup/", {"token": "000000" if code(device) != "000000" else "111111", "next": "/supervision/"}
    )
    assert "验证码不正确" in wrong.content.decode()
    # django-otp throttles after a wrong code (1 s, doubling); skip that wait rather than sleep in a test
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    device.refresh_from_db()
    confirmed = client.post("/accounts/2fa/setup/", {"token": code(device), "next": "/supervision/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/supervision/"
    assert client.get("/supervision/").status_code == 200

    # the next sign-in asks for a code
    again = Client()
    again.force_login(supervisor)
    asked = again.get("/supervision/")
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/2fa/verify/")
    device.refresh_from_db()
    assert again.post("/accounts/2fa/verify/", {"token": code(device, drift=1)}).status_code == 302
    assert again.get("/supervision/").status_code == 200


def test_with_staff_2fa_an_administrator_must_too_but_a_handler_and_an_applicant_need_not(
    client, administrator, handler, applicant, settings
):
    settings.STAFF_2FA = True
    client.force_login(administrator)
    assert client.get("/admin/")["Location"].startswith("/accounts/2fa/setup/")
    for user, page in ((handler, "/desk/"), (applicant, "/records/")):
        other = Client()
        other.force_login(user)
        assert other.get(page).status_code == 200


def test_without_staff_2fa_nobody_is_forced_but_an_officer_who_opted_in_is_asked(client, supervisor, handler):
    client.force_login(supervisor)
    assert client.get("/supervision/").status_code == 200

    TOTPDevice.objects.create(user=handler, name="totp", confirmed=True)
    other = Client()
    other.force_login(handler)
    assert other.get("/desk/")["Location"].startswith("/accounts/2fa/verify/")
