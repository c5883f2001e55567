"""Forms of the officers' inbox: input checks only; the rules are in cases.services.inbox."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.selectors.inbox import WHO_ALL, WHO_MINE, WHO_UNASSIGNED
from workflows.procedures import PROCEDURES

WHO_CHOICES = [(WHO_ALL, _("全部")), (WHO_MINE, _("我的")), (WHO_UNASSIGNED, _("待认领"))]


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("查找"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("办件编号、主体名称或统一社会信用代码")}),
    )
    procedure = forms.ChoiceField(label=_("事项类型"), required=False)
    step = forms.CharField(label=_("办理环节"), required=False, max_length=40, widget=forms.HiddenInput)
    who = forms.ChoiceField(label=_("范围"), required=False, choices=WHO_CHOICES)
    overdue = forms.BooleanField(label=_("只看已超期"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", _("全部事项"))] + [(c, p.label) for c, p in PROCEDURES.items()]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("分派给"), queryset=None, empty_label=_("请选择承办人"))

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues


class BulkAssignForm(AssignForm):
    tasks = forms.TypedMultipleChoiceField(label=_("待办事项"), coerce=int, choices=())

    def __init__(self, *args, task_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Any task id is accepted here; the service checks scope, state and permission for each.
        self.fields["tasks"].choices = [(i, i) for i in task_ids]
        self.fields["tasks"].error_messages["required"] = _("请至少选择一项待办事项。")


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(label=_("受托人"), queryset=None, empty_label=_("请选择同事"))
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("事由"), required=False, max_length=200)

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = colleagues
