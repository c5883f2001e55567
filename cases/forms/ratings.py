"""好差评 forms: shape only; the rules (once per case, closed cases, a reason for a 差评) are the service's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models.ratings import Grade


class RatingForm(forms.Form):
    grade = forms.ChoiceField(
        label=_("评价等级"),
        choices=Grade.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择评价等级（非常满意至非常不满意）。")},
    )
    comment = forms.CharField(
        label=_("评价意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("选择“不满意”或“非常不满意”时必须填写原因。"),
    )


class FollowUpCloseForm(forms.Form):
    response = forms.CharField(
        label=_("核实整改及回访情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请写明核实整改及回访情况。")},
    )
