"""Forms of the credit-repair portal and desk. They check shape only; the law is checked by the services
(cases.services.repair), whose RepairError messages are shown on the same form."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Commitment
from cases.models.repair import Proposal

PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
UPLOAD_ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def _file_input():
    return forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT})


# How a materials-list item is required (workflows.rules.Material.when), as the applicant reads it.
REQUIREMENT_LABELS = {
    "always": _("必须提供。"),
    "agent": _("委托代理人申请时必须提供。"),
    "unconfirmed": _("部门尚未确认履行的，必须提供。"),
    "optional": _("视情况提供。"),
}


class RepairApplicationForm(forms.Form):
    """One form for the whole draft: saving, signing and submitting all keep what was typed."""

    contact_name = forms.CharField(label=_("联系人"), max_length=60)
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    statement = forms.CharField(
        label=_("整改及履行情况说明"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": _("请说明已纠正失信行为、履行法定义务的情况，例如罚款缴纳日期、整改措施。"),
            }
        ),
    )
    by_agent = forms.BooleanField(
        label=_("委托代理人申请"), required=False, help_text=_("由代理人办理的，须上传授权委托书。")
    )
    signer_name = forms.CharField(label=_("签署人姓名"), max_length=60, required=False)
    signer_capacity = forms.ChoiceField(
        label=_("签署身份"),
        choices=Commitment.Capacity.choices,
        required=False,
        initial=Commitment.Capacity.LEGAL_REPRESENTATIVE,
    )

    def __init__(self, *args, materials=(), **kwargs):
        """``materials``: the rule set's materials list (workflows.rules.Material); each item given as a file
        becomes an upload field named after its attachment purpose, labelled and explained as the list says."""
        super().__init__(*args, **kwargs)
        self.uploads: dict[str, str] = {}  # field name → Attachment.Purpose value
        for material in materials:
            if material.source != "upload" or not material.upload:
                continue
            self.fields[material.upload] = forms.FileField(
                label=material.label,
                required=False,
                widget=_file_input(),
                help_text=" ".join(
                    filter(None, [str(REQUIREMENT_LABELS.get(material.when, "")), material.explanation])
                ),
            )
            self.uploads[material.upload] = material.upload

    def upload_fields(self):
        return [self[name] for name in self.uploads]

    def clean_contact_phone(self):
        phone = self.cleaned_data["contact_phone"].strip()
        if not PHONE.match(phone):
            raise ValidationError(
                _("请填写有效的联系电话（手机号或带区号的座机号，只含数字和“-”）。"), code="bad_phone"
            )
        return phone

    def clean(self):
        data = super().clean()
        if self.data.get("action") == "sign" and not (data.get("signer_name") or "").strip():
            self.add_error("signer_name", _("签署承诺前请填写签署人姓名。"))
        return data


class SupplementForm(forms.Form):
    file = forms.FileField(label=_("补正材料"), required=False, widget=_file_input())
    note = forms.CharField(
        label=_("补正说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    """不予受理 / 撤销修复 / 撤回: a reason in words."""

    reason = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（可不填）"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChaseForm(forms.Form):
    message = forms.CharField(
        label=_("催办留言（可不填）"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：企业急需参加招投标，请尽快办理")}),
    )


class SupplementRequestForm(forms.Form):
    """补正: the missing items are ticked on the case's materials list (一次性告知: all of them at once)."""

    items = forms.MultipleChoiceField(
        label=_("需补正的材料（从材料清单中勾选，一次性告知全部）"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请从材料清单中勾选需要补正的材料。")},
    )
    missing = forms.CharField(
        label=_("具体说明（可不填）"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("逐项写明缺少或不符合要求之处")}),
    )
    repeat_reason = forms.CharField(
        label=_("再次补正的理由（负责人签批）"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("本案已要求过补正：依一次性告知的要求，再次补正须由部门负责人签批并写明理由。"),
    )

    def __init__(self, *args, materials=(), repeat=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(m.code, m.label) for m in materials]
        if not repeat:
            del self.fields["repeat_reason"]


class ProposalForm(forms.Form):
    proposal = forms.ChoiceField(
        label=_("审查意见"), choices=Proposal.choices, widget=forms.RadioSelect, initial=Proposal.APPROVE
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不予修复和延期必须写明理由。"),
    )
    days = forms.IntegerField(label=_("延期工作日"), required=False, min_value=1, max_value=60)


class SignoffForm(forms.Form):
    agree = forms.TypedChoiceField(
        label=_("签批"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("同意")), ("no", _("退回"))],
        widget=forms.RadioSelect,
        initial="yes",
    )
    comment = forms.CharField(
        label=_("签批意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回时必须写明意见。"),
    )
