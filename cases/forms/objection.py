"""Forms of the objection pages: input checks only; the rules are in cases.services.objection."""

import datetime as dt

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import CreditRecord
from cases.models.objection import OBJECTABLE_FIELDS, ObjectionMatter, ObjectionOutcome
from cases.services.objection import PAUSE_REASONS, field_display, field_label

_UNCHANGED = ("", _("（不变）"))
_YES_NO = [("True", _("是")), ("False", _("否"))]


def record_field_input(name: str, *, label, help_text, initial="") -> forms.Field:
    """An input for what a record field should be, shaped like the field: its choices with their Chinese
    labels, a date picker, yes/no — never a free-text box for a code (blank = unchanged)."""
    field = CreditRecord._meta.get_field(name)
    common = {"label": label, "required": False, "help_text": help_text, "initial": initial}
    if field.choices:
        return forms.ChoiceField(choices=[_UNCHANGED, *field.flatchoices], **common)
    if isinstance(field, models.BooleanField):
        return forms.ChoiceField(choices=[_UNCHANGED, *_YES_NO], **common)
    if isinstance(field, models.DateField):
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if isinstance(field, models.TextField):
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **common)
    return forms.CharField(max_length=min(field.max_length or 500, 500), **common)


def _as_text(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value))


class ObjectionForm(forms.Form):
    matter = forms.ChoiceField(label=_("异议事项"), choices=ObjectionMatter.choices)
    reason = forms.CharField(label=_("异议理由"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    contact_name = forms.CharField(label=_("联系人"), max_length=60)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20)
    evidence = forms.FileField(label=_("证明材料"), help_text=_("PDF、JPEG或PNG格式。"))
    evidence2 = forms.FileField(label=_("其他证明材料"), required=False)

    def __init__(self, *args, record=None, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The evidence upload as the rule set's materials list (workflows.rules ``materials.objection``) says.
        for material in materials:
            if material.source == "upload" and material.upload == "evidence":
                field = self.fields["evidence"]
                field.label = material.label
                field.required = material.when == "always"
                field.help_text = " ".join(filter(None, [material.explanation, str(_("PDF、JPEG或PNG格式。"))]))
        # One optional input per field: what the applicant says the value should be (blank = not disputed).
        for name in OBJECTABLE_FIELDS:
            current = record._meta.get_field(name).value_to_string(record) if record is not None else ""
            self.fields[f"f_{name}"] = record_field_input(
                name,
                label=field_label(name),
                help_text=_("现为：%(value)s") % {"value": field_display(name, current) or "—"},
            )

    def disputed_fields(self):
        return [self[f"f_{name}"] for name in OBJECTABLE_FIELDS]

    def disputed(self) -> dict[str, str]:
        values = {name: _as_text(self.cleaned_data.get(f"f_{name}")) for name in OBJECTABLE_FIELDS}
        return {name: value for name, value in values.items() if value}

    def uploads(self):
        return [f for f in (self.cleaned_data.get("evidence"), self.cleaned_data.get("evidence2")) if f]


class ReviewRequestForm(forms.Form):
    reason = forms.CharField(label=_("申请复核的理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    evidence = forms.FileField(label=_("补充证明材料"), required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（可不填）"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CheckForm(forms.Form):
    note = forms.CharField(
        label=_("核查要求"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("处理结果"), choices=ObjectionOutcome.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("处理理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        for item in case.disputed if case is not None else []:
            self.fields[f"new_{item['field']}"] = record_field_input(
                item["field"],
                label=_("更正后的%(label)s") % {"label": field_label(item["field"])},
                initial=item.get("proposed", ""),
                help_text=_("原值：%(value)s") % {"value": field_display(item["field"], item.get("current")) or "—"},
            )

    def change_fields(self):
        return [self[name] for name in self.fields if name.startswith("new_")]

    def changes(self) -> dict[str, str]:
        if self.cleaned_data.get("outcome") != ObjectionOutcome.CORRECTED:
            return {}
        values = {name[4:]: _as_text(value) for name, value in self.cleaned_data.items() if name.startswith("new_")}
        return {name: value for name, value in values.items() if value}


class PauseForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("暂停事由"), choices=[(r.value, r.label) for r in PAUSE_REASONS])
    reason = forms.CharField(label=_("具体说明"), max_length=300)


class SuperviseForm(forms.Form):
    note = forms.CharField(label=_("督办意见"), required=False, max_length=500)
