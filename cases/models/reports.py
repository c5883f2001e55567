"""信用报告: a credit report a subject obtained free of charge (issue 12 item 7).

河南省社会信用条例 Art 40: a subject may obtain its own credit report free twice a year, and the report states
who used or looked up its information. Each report is a numbered notice (notices app, kind ``credit_report``)
attached to one of these rows; the row is what the yearly count and the idempotency key are kept on.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CreditReport(models.Model):
    subject = models.ForeignKey(
        "cases.Subject", verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="credit_reports"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    ordinal = models.PositiveSmallIntegerField(_("本年度第几次"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    # The form's one-time key: a double click or a retried POST returns the report already made.
    request_key = models.CharField(_("请求标识"), max_length=64, unique=True)
    rule_set = models.ForeignKey(
        "workflows.RuleSet", verbose_name=_("适用规则版本"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用报告")
        verbose_name_plural = _("信用报告")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "year", "ordinal"], name="one_report_per_subject_year_ordinal"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.year}-{self.ordinal}"
