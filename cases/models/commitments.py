"""Credit commitments (信用承诺). The repair procedure creates 信用修复型 ones; the commitment procedure
(matters, templates, bulk registration, verification) builds on this model."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CommitmentType(models.TextChoices):
    APPROVAL_SUBSTITUTE = "approval", _("审批替代型")
    CERTIFICATE = "certificate", _("证明事项告知承诺")
    TOLERANCE = "tolerance", _("容缺受理型")
    REPAIR = "repair", _("信用修复型")
    SELF_DISCIPLINE = "industry", _("行业自律型")
    VOLUNTARY = "voluntary", _("主动公示型")


class Commitment(models.Model):
    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("在诺")
        KEPT = "kept", _("已践诺")
        BROKEN = "broken", _("违诺")
        FALSE = "false", _("虚假承诺")

    class Capacity(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("法定代表人")
        AGENT = "agent", _("受托代理人")
        SELF = "self", _("本人")

    subject = models.ForeignKey("cases.Subject", verbose_name=_("承诺主体"), on_delete=models.PROTECT,
                                related_name="commitments")
    type = models.CharField(_("承诺类型"), max_length=12, choices=CommitmentType.choices)
    matter = models.CharField(_("承诺事项"), max_length=200)
    department = models.ForeignKey("cases.Organisation", verbose_name=_("受诺部门"), on_delete=models.PROTECT,
                                   related_name="received_commitments")
    # The signed text is immutable: its hash is kept and checked (Henan Art 32: a public commitment).
    text = models.TextField(_("承诺书正文"))
    text_sha256 = models.CharField(_("正文SHA-256"), max_length=64)
    signer_name = models.CharField(_("签署人"), max_length=60)
    signer_capacity = models.CharField(_("签署身份"), max_length=10, choices=Capacity.choices)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("签署账号"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("签署时间"))
    status = models.CharField(_("履约状态"), max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    source_reference = models.CharField(_("来源办件"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("信用承诺")
        verbose_name_plural = _("信用承诺")
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["subject", "type"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()}：{self.matter}"

    @staticmethod
    def hash_text(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            original = type(self).objects.filter(pk=self.pk).values_list("text", "text_sha256").first()
            if original and (original[0] != self.text or original[1] != self.text_sha256):
                raise PermissionError("a signed commitment's text is immutable")
        super().save(*args, **kwargs)
