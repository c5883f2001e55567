"""Registration, enterprise registration and 经办人 authorisation forms. They check shape (GB check digits,
mobile format, password rules); the services decide what the input means."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms.repair import UPLOAD_ACCEPT
from cases.identifiers import normalize_id_number, normalize_uscc, validate_id_number, validate_uscc
from cases.models import SubjectAuthorisation

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def clean_mobile(value: str) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if not MOBILE.match(value):
        raise ValidationError(_("请填写11位中国大陆手机号码，例如13812345678。"), code="mobile")
    return value


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=60)
    id_number = forms.CharField(
        label=_("居民身份证号码"), max_length=18, help_text=_("18位，末位可为X；仅用于关联本人信用信息，页面脱敏显示。")
    )
    phone = forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = forms.EmailField(label=_("电子邮箱"), required=False, help_text=_("选填；填写后办理进度同时发送邮件。"))
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(render_value=True), strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput(render_value=True), strip=False)

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(value)
        return value

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                validate_password(p1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ConfirmForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    code = forms.CharField(
        label=_("短信验证码"), max_length=6, min_length=6, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"])


class EnterpriseRegisterForm(forms.Form):
    CAPACITIES = [("legal_rep", _("法定代表人")), ("agent", _("受托经办人（须上传授权委托书）"))]

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18)
    name = forms.CharField(label=_("企业名称"), max_length=200)
    capacity = forms.ChoiceField(label=_("您的身份"), choices=CAPACITIES, widget=forms.RadioSelect, initial="legal_rep")
    legal_representative = forms.CharField(
        label=_("法定代表人姓名"), max_length=60, required=False, help_text=_("受托经办人填写。")
    )
    attorney = forms.FileField(
        label=_("授权委托书"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
        help_text=_("由法定代表人签字并加盖企业公章；PDF、JPEG或PNG格式。"),
    )

    def clean_uscc(self):
        value = normalize_uscc(self.cleaned_data["uscc"])
        validate_uscc(value)
        return value

    def clean(self):
        data = super().clean()
        if data.get("capacity") == "agent":
            if not data.get("attorney"):
                self.add_error("attorney", _("受托经办人须上传授权委托书。"))
            if not (data.get("legal_representative") or "").strip():
                self.add_error("legal_representative", _("请填写企业法定代表人姓名。"))
        return data


class AgentGrantForm(forms.Form):
    name = forms.CharField(label=_("经办人姓名"), max_length=60)
    phone = forms.CharField(
        label=_("经办人手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("经办人须先在本平台完成注册。"),
    )
    scope = forms.ChoiceField(label=_("授权范围"), choices=SubjectAuthorisation.Scope.choices)
    valid_until = forms.DateField(label=_("授权截止日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"])

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        if value < timezone.localdate():
            raise ValidationError(_("授权截止日期不能早于今天。"))
        return value


class AuthorisationReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("approve", _("通过")), ("refuse", _("不予通过"))], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("审核意见"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("note") or "").strip():
            self.add_error("note", _("不予通过时请写明理由。"))
        return data


class MessagePreferenceForm(forms.Form):
    by_email = forms.BooleanField(label=_("同时发送电子邮件"), required=False)
    by_sms = forms.BooleanField(label=_("同时发送短信"), required=False)
