from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user


class NumberSequence(models.Model):
    """Gap-free counters (tracking numbers, notice numbers) per scope and year.

    A writer locks its row FOR UPDATE inside the transaction that uses the number, so a rolled-back
    transaction gives its number back and two writers never get the same one.
    """

    scope = models.CharField(_("范围"), max_length=80)
    year = models.PositiveSmallIntegerField(_("年度"))
    last_value = models.PositiveIntegerField(_("当前值"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")
        constraints = [models.UniqueConstraint(fields=["scope", "year"], name="one_sequence_per_scope_year")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.year}: {self.last_value}"


class CaseBase(models.Model):
    """What every procedure's case shares (repair, objection, commitment, rectification).

    Concrete cases add their own protected FSMField ``state`` with cases.models.fsm.StateMachineMixin.
    """

    # Assigned on submission: a draft has no tracking number, receipt time or rule set yet.
    tracking_number = models.CharField(_("办件编号"), max_length=32, unique=True, null=True, blank=True, editable=False)
    subject = models.ForeignKey("cases.Subject", verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="+")
    applicant = acting_user(_("申请人"))
    handling_organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("办理机构"), on_delete=models.PROTECT, related_name="+"
    )
    rule_set = models.ForeignKey(
        "workflows.RuleSet",
        verbose_name=_("适用规则版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("收件时间"), null=True, blank=True)
    received_on = models.DateField(
        _("计时起算日"), null=True, blank=True, help_text=_("收件日为非工作日的，顺延至下一工作日。")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        abstract = True
