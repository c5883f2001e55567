"""Two-factor sign-in with a TOTP app (django-otp), for officers.

Any officer may turn it on (两步验证 in the top bar); with STAFF_2FA=1 supervisors and administrators must, because
they see every case in the city. Once a device is confirmed, every sign-in of that account asks for a code.
"""

from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Role

REQUIRED_ROLES = {Role.SUPERVISOR, Role.ADMINISTRATOR}
# Pages a signed-in officer may open before giving the second factor.
OPEN_PATHS = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/healthz", "/i18n/")


def is_staff_user(user) -> bool:
    return user.is_staff or user.is_superuser or getattr(user, "role", Role.APPLICANT) != Role.APPLICANT


def two_factor_required(user) -> bool:
    return settings.STAFF_2FA and (user.is_superuser or getattr(user, "role", None) in REQUIRED_ROLES)


# Whether the signed-in officer has a TOTP device, looked up once per login rather than on every request (the
# inbox and the queues promise a fixed number of queries per page). Setting a device up happens in this same
# session (and verifies it there); a device added elsewhere counts from the next login.
_HAS_DEVICE = "casework_otp_has_device"


def _has_device(request, user) -> bool:
    known = request.session.get(_HAS_DEVICE)
    if known is None or known[0] != user.pk:
        known = [user.pk, user_has_device(user)]
        request.session[_HAS_DEVICE] = known
    return known[1]


@receiver(user_logged_in)
def _forget_device_lookup(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(_HAS_DEVICE, None)


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and is_staff_user(user)
            and not user.is_verified()
            and not request.path.startswith(OPEN_PATHS)
        ):
            has_device = _has_device(request, user)
            if has_device or two_factor_required(user):
                target = "twofactor_verify" if has_device else "twofactor_setup"
                return redirect(reverse(target) + "?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("动态验证码"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": gettext_lazy("请输入验证器应用显示的6位数字。")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@login_required
def setup(request):
    if not is_staff_user(request.user):
        return HttpResponseForbidden()
    if user_has_device(request.user) and not request.user.is_verified():
        return redirect(reverse("twofactor_verify") + "?" + urlencode({"next": _next_url(request)}))
    # One unconfirmed device per person, kept until confirmed, so reloading the page keeps the same QR code.
    device, _created = TOTPDevice.objects.get_or_create(user=request.user, confirmed=False, defaults={"name": "totp"})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session[_HAS_DEVICE] = [request.user.pk, True]
            return redirect(_next_url(request))
        form.add_error("token", _("验证码不正确或已过期，请按应用中当前显示的验证码重新输入。"))
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return render(
        request,
        "registration/twofactor_setup.html",
        {
            "form": form,
            "qr_svg": image.to_string(encoding="unicode"),
            "secret": device.config_url.split("secret=")[1].split("&")[0],
            "next": _next_url(request),
            "required": two_factor_required(request.user),
        },
    )


@login_required
def verify(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("验证码不正确或已过期，请按应用中当前显示的验证码重新输入。"))
    return render(request, "registration/twofactor_verify.html", {"form": form, "next": _next_url(request)})
