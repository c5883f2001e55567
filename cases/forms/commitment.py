"""Forms of the commitment pages (PROCEDURES.md §3)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms.once import OnceForm
from cases.models import Commitment, CommitmentMatter, Subject, VerificationState
from cases.selectors.commitment import subject_for_registration
from cases.services.subjects import normalise_code


class SignForm(OnceForm):
    subject = forms.ModelChoiceField(label=_("承诺主体"), queryset=Subject.objects.none())
    signer_name = forms.CharField(label=_("签署人姓名"), max_length=60)
    capacity = forms.ChoiceField(
        label=_("签署身份"), choices=Commitment.Capacity.choices, initial=Commitment.Capacity.LEGAL_REPRESENTATIVE
    )

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects
        if subjects.count() == 1:
            self.fields["subject"].initial = subjects.first()


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("核查结果"),
        choices=[
            (VerificationState.KEPT, VerificationState.KEPT.label),
            (VerificationState.BROKEN, VerificationState.BROKEN.label),
            (VerificationState.FALSE, VerificationState.FALSE.label),
        ],
    )
    finding = forms.CharField(label=_("核查意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    serious_consequences = forms.BooleanField(
        label=_("造成严重后果（《河南省社会信用条例》第三十三条第（八）项）"), required=False
    )
    evidence = forms.FileField(label=_("证据材料"), required=False)


class StatementForm(forms.Form):
    """陈述、申辩 by the subject within the hearing period (行政处罚法 Art 45)."""

    text = forms.CharField(label=_("陈述、申辩意见"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))
    file = forms.FileField(label=_("证明材料"), required=False, help_text=_("PDF、JPEG或PNG格式。"))

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        return [uploaded] if uploaded else []


class BreachDecisionForm(forms.Form):
    """The leader's decision after the hearing: never heavier than proposed (行政处罚法 Art 45 ¶2)."""

    outcome = forms.ChoiceField(label=_("认定结果"))
    reasons = forms.CharField(
        label=_("决定理由（含对陈述、申辩意见的采纳情况）"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, verification, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [VerificationState.KEPT, VerificationState.BROKEN]
        if verification.proposed_outcome == VerificationState.FALSE:
            allowed.append(VerificationState.FALSE)
        self.fields["outcome"].choices = [(state, VerificationState(state).label) for state in allowed]
        self.initial.setdefault("outcome", verification.proposed_outcome)


class RevocationStartForm(forms.Form):
    reason = forms.CharField(label=_("撤销理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RepairReviewForm(forms.Form):
    note = forms.CharField(label=_("修复复核结论"), max_length=2000)


class RevocationCloseForm(forms.Form):
    decision = forms.ChoiceField(label=_("决定"), choices=[("revoke", _("撤销行政决定")), ("keep", _("不撤销"))])
    note = forms.CharField(label=_("办理结果"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RegisterForm(OnceForm):
    matter = forms.ModelChoiceField(label=_("承诺事项"), queryset=CommitmentMatter.objects.none())
    identifier = forms.CharField(label=_("统一社会信用代码/身份证号"), max_length=30)
    signer_name = forms.CharField(label=_("签署人"), max_length=60)
    capacity = forms.ChoiceField(label=_("签署身份"), choices=Commitment.Capacity.choices)
    signed_on = forms.DateField(label=_("签署日期"), widget=forms.DateInput(attrs={"type": "date"}))
    decision_date = forms.DateField(
        label=_("行政决定日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    decision_number = forms.CharField(label=_("决定文书号"), max_length=80, required=False)

    def __init__(self, *args, department_id, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["matter"].queryset = CommitmentMatter.objects.filter(
            department_id=department_id, is_active=True
        ).exclude(type="repair")

    def clean(self):
        data = super().clean()
        code = normalise_code(data.get("identifier"))
        # One answer for an unknown number and for a person this department may not see (no existence probe).
        subject = subject_for_registration(self.user, code)
        if code and subject is None:
            self.add_error("identifier", _("未找到该主体；新主体请通过批量导入登记。"))
        data["subject"] = subject
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("承诺清单（.csv 或 .xlsx）"))


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            if not data:
                return super().clean(None, initial)
            return [super(_MultipleFileField, self).clean(d, initial) for d in data]
        cleaned = super().clean(data, initial)
        return [cleaned] if cleaned else []


class FollowUpForm(forms.Form):
    """容缺受理: the documents to follow, several files at once."""

    files = _MultipleFileField(
        label=_("后补材料"),
        help_text=_("PDF、JPEG或PNG格式，可一次选择多个文件。"),
        error_messages={"required": _("请选择要提交的材料文件。")},
    )
