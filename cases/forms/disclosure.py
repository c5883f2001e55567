"""Forms of 双公示 intake: one decision, a file of decisions, a correction, a revocation."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import RecordKind, Severity
from cases.models.records import Sector
from cases.services.disclosure import INTAKE_KINDS

KIND_CHOICES = [(k.value, k.label) for k in INTAKE_KINDS]


class DateInput(forms.DateInput):
    input_type = "date"


class RecordIntakeForm(forms.Form):
    kind = forms.ChoiceField(label=_("决定类别"), choices=KIND_CHOICES)
    subject_name = forms.CharField(label=_("当事人名称或姓名"), max_length=200)
    identifier = forms.CharField(
        label=_("统一社会信用代码或身份证号"), max_length=18, help_text=_("18位，按国家标准核验校验码。")
    )
    title = forms.CharField(label=_("事项名称"), max_length=200)
    decision_number = forms.CharField(label=_("决定文书号"), max_length=80)
    decision_date = forms.DateField(label=_("决定日期"), widget=DateInput)
    severity = forms.ChoiceField(
        label=_("失信程度"),
        required=False,
        choices=[("", _("（行政许可不填）")), *Severity.choices],
        help_text=_("行政处罚必填。"),
    )
    sector = forms.ChoiceField(label=_("所属领域"), required=False, choices=[("", _("（无）")), *Sector.choices])
    legal_basis = forms.CharField(label=_("依据"), max_length=300, required=False)
    content = forms.CharField(label=_("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == RecordKind.ADMINISTRATIVE_PENALTY and not cleaned.get("severity"):
            self.add_error("severity", _("行政处罚信息必须填写失信程度。"))
        return cleaned


class RecordImportForm(forms.Form):
    file = forms.FileField(label=_("导入文件（.csv 或 .xlsx）"))


class RecordCorrectForm(forms.Form):
    title = forms.CharField(label=_("事项名称"), max_length=200)
    decision_number = forms.CharField(label=_("决定文书号"), max_length=80)
    decision_date = forms.DateField(label=_("决定日期"), widget=DateInput)
    severity = forms.ChoiceField(label=_("失信程度"), required=False, choices=[("", "—"), *Severity.choices])
    legal_basis = forms.CharField(label=_("依据"), max_length=300, required=False)
    content = forms.CharField(label=_("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label=_("更正原因"), max_length=300)


class RecordRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("例如：原处罚决定已被行政复议机关撤销")}),
    )
