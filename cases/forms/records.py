from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from cases.identifiers import mask_id_number, mask_phone, normalize_id_number, validate_id_number
from cases.models import CreditRecord, DisplayState, Subject, User
from cases.services.records import CORRECTABLE_FIELDS

# --- pages ----------------------------------------------------------------------------------------------


class PublicSearchForm(forms.Form):
    q = forms.CharField(
        label=_("主体名称或统一社会信用代码"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("请输入企业名称或18位统一社会信用代码"), "autofocus": True}),
    )


class SubjectSearchForm(forms.Form):
    q = forms.CharField(
        label=_("名称、统一社会信用代码或身份证号"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("名称、统一社会信用代码或完整身份证号")}),
    )


class RecordFilterForm(forms.Form):
    q = forms.CharField(
        label=_("关键词"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("事项名称、文书号或主体名称")}),
    )
    state = forms.ChoiceField(label=_("公示状态"), required=False, choices=[("", _("全部状态")), *DisplayState.choices])


class RevealIdForm(forms.Form):
    """Asking to see a full ID number: staff say why (the reason goes into the look-up register)."""

    reason = forms.CharField(
        label=_("查询事由"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：核对处罚决定书当事人")}),
    )

    def __init__(self, *args, reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


# --- admin ----------------------------------------------------------------------------------------------


class UserAddForm(AdminUserCreationForm):
    """Role and organisation are on the add form so User.clean (role ↔ organisation kind) runs at once."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "role", "organisation")


class UserEditForm(UserChangeForm):
    """The phone number is write-only: administrators manage accounts, they do not need to read it."""

    new_phone = forms.CharField(label=_("新手机号"), max_length=20, required=False, help_text=_("留空则不修改。"))

    class Meta(UserChangeForm.Meta):
        model = User
        fields = (
            "username",
            "password",
            "display_name",
            "role",
            "organisation",
            "email",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = mask_phone(self.instance.phone) if self.instance.pk else ""
        if current:
            self.fields["new_phone"].help_text = _("当前：%(masked)s。留空则不修改。") % {"masked": current}

    def clean_new_phone(self):
        value = self.cleaned_data["new_phone"].strip()
        if value and not value.isdigit():
            raise forms.ValidationError(_("手机号只能包含数字。"))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_phone"):
            self.instance.phone = cleaned["new_phone"]
        return cleaned


class SubjectAdminForm(forms.ModelForm):
    """The ID number is entered once and then only replaced, never shown: the admin is not a way around
    the masking (every unmasked view is registered, see cases.services.privacy)."""

    new_id_number = forms.CharField(
        label=_("居民身份证号码"), max_length=18, required=False, validators=[validate_id_number]
    )

    class Meta:
        model = Subject
        fields = ("kind", "name", "uscc", "legal_representative", "address", "district", "organisation")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["new_id_number"]
        if self.instance.pk and self.instance.id_number:
            field.label = _("新居民身份证号码")
            field.help_text = _("当前：%(masked)s。留空则不修改。") % {
                "masked": mask_id_number(self.instance.id_number)
            }
        else:
            field.help_text = _("自然人必填，18位，校验码按GB 11643-1999核验。")

    def clean_new_id_number(self):
        value = normalize_id_number(self.cleaned_data["new_id_number"])
        if value and Subject.objects.filter(id_number=value).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("已有信用主体使用该居民身份证号码。"))
        return value

    def clean(self):
        cleaned = super().clean()
        new = cleaned.get("new_id_number")
        if new:
            self.instance.id_number = new
        elif "new_id_number" not in self.errors and cleaned.get("kind") == "individual" and not self.instance.id_number:
            self.add_error("new_id_number", _("自然人主体必须填写居民身份证号码。"))
        return cleaned


class CreditRecordAdminForm(forms.ModelForm):
    """Creating a record (the display window comes from the rule set) or correcting one field by field;
    a correction needs a reason, which goes into the record's change history."""

    change_reason = forms.CharField(
        label=_("变更原因"), max_length=300, required=False, help_text=_("更正记录时必填，将记入变更记录。")
    )

    class Meta:
        model = CreditRecord
        fields = ("subject", *CORRECTABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "change_reason" in self.fields:
            self.fields["change_reason"].required = True
