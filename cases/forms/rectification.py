"""Forms of 政务失信 rectification: the lead, each step on the case page, and the case list's filters.

Every step is a bound form, so a refused step comes back with what the person typed and the reason next to
the field. Free text that reaches a notice or the platform is bounded here (the services refuse it too).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms.once import OnceForm
from cases.models.rectification import REFUSAL_CONSEQUENCE_CITATIONS, RectificationState, RefusalConsequence
from cases.selectors import rectification as sel
from cases.services.escalation import Step

# Long enough for a detailed complaint; a notice of several pages at most (PDF layout wraps it).
TEXT_MAX = 5000
SUMMARY_MAX = 200


def _text(label, *, required=True, rows=4, max_length=TEXT_MAX):
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class IntakeForm(OnceForm):
    source = forms.ChoiceField(label=_("线索来源"))
    body = forms.ModelChoiceField(label=_("被投诉机构"), queryset=sel.government_bodies(), empty_label=None)
    complainant = forms.ModelChoiceField(label=_("投诉主体"), queryset=None, empty_label=None)
    complainant_name = forms.CharField(label=_("投诉人/来源单位"), max_length=100, required=False)
    summary = forms.CharField(label=_("事项"), max_length=SUMMARY_MAX)
    facts = _text(_("事实和理由"), rows=5)
    sme_payment = forms.BooleanField(
        label=_("中小企业款项投诉（适用《保障中小企业款项支付条例》第二十五条时限）"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = sel.intake_sources(user)
        subjects = sel.complainant_subjects(user)
        if subjects.exists():
            # An enterprise complains in the name of a subject it acts for; staff type the complainant instead.
            self.fields["complainant"].queryset = subjects
            del self.fields["complainant_name"]
        else:
            del self.fields["complainant"]


class ForwardForm(forms.Form):
    verifier = forms.ModelChoiceField(label=_("核实认定部门"), queryset=None, empty_label=None)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = sel.verifier_choices(case)
        parent = case.handling_organisation.parent_id
        if parent and not self.is_bound:
            self.initial.setdefault("verifier", parent)


def _yes_no(label, yes, no, **kwargs):
    """A two-way decision posted as "1"/"0" (radio buttons, or the value of the button pressed)."""
    return forms.TypedChoiceField(label=label, choices=[("1", yes), ("0", no)], coerce=lambda v: v == "1", **kwargs)


class VerifyForm(forms.Form):
    substantiated = _yes_no(
        _("核实认定结果"), _("认定为政务失信"), _("不予认定"), widget=forms.RadioSelect, initial="1"
    )
    reason = _text(_("事实和理由"))
    deadline = forms.DateField(
        label=_("整改期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    requirements = _text(_("整改要求"), required=False)


class ReportForm(forms.Form):
    """A plan, a progress report or the completion report of the government body, with its evidence."""

    text = _text(_("报送内容"))
    evidence = forms.FileField(label=_("证明材料"), required=False, help_text=_("PDF、JPEG或PNG格式。"))

    def clean_evidence(self):
        # The service takes a list of files (checked by content there, like every upload).
        uploaded = self.cleaned_data.get("evidence")
        return [uploaded] if uploaded else []


class CheckForm(forms.Form):
    # Posted by the button pressed; the template renders only the comment field.
    accepted = _yes_no(_("核验结论"), _("整改到位，销号"), _("退回继续整改"))
    comment = _text(_("核验意见"), required=False)


class RefuseForm(forms.Form):
    reason = _text(_("拒不整改的事实"))
    consequences = forms.MultipleChoiceField(
        label=_("适用的惩戒措施"),
        choices=[
            (code, f"{label}（{REFUSAL_CONSEQUENCE_CITATIONS[code]}）") for code, label in RefusalConsequence.choices
        ],
        widget=forms.CheckboxSelectMultiple,
    )


class EscalateForm(forms.Form):
    clock = forms.ModelChoiceField(label=_("时限"), queryset=None, empty_label=None)
    step = forms.ChoiceField(label=_("督办层级"), choices=Step.choices)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clock"].queryset = sel.open_clocks_of(case)
        self.fields["clock"].label_from_instance = lambda clock: clock.label


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("办件编号或事项"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("办件编号或事项关键词")}),
    )
    state = forms.ChoiceField(label=_("办理状态"), required=False)
    organisation = forms.ModelChoiceField(
        label=_("被投诉机构"), queryset=sel.government_bodies(), required=False, empty_label=_("全部")
    )
    overdue = forms.BooleanField(label=_("只看已逾期"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("全部")), *RectificationState.choices]


# The step in the URL → its form. "check" is one form with two buttons (accepted=1/0).
STEP_FORMS = {
    "forward": ForwardForm,
    "verify": VerifyForm,
    "plan": ReportForm,
    "progress": ReportForm,
    "completion": ReportForm,
    "check": CheckForm,
    "refuse": RefuseForm,
    "escalate": EscalateForm,
}
# Forms that need the case to build their choices.
CASE_BOUND = {"forward", "escalate"}
