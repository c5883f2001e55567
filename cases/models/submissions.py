"""One-time form tokens: a create a person triggers happens once, however often the form is sent.

Every form that creates something (a commitment signed or registered, a rectification lead) carries a random
token issued with the page. The create stores the token in the same transaction, under a unique constraint:
a second send of the same form (a double click, two tabs, Back and confirm again) finds it and is answered
with what the first one created. Two sends at the same moment: PostgreSQL makes the second insert wait for
the first transaction and then refuses it, so exactly one create commits.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FormSubmission(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.CASCADE)
    token = models.CharField(_("表单令牌"), max_length=64)
    purpose = models.CharField(_("用途"), max_length=40)
    # The primary key of what the first send created (the model follows from ``purpose``).
    result_id = models.BigIntegerField(_("结果"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("表单提交记录")
        verbose_name_plural = _("表单提交记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "purpose", "token"], name="one_submission_per_form_token")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.token}"
