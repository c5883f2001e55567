"""Files an applicant or officer attaches to a case: stored outside the web root, served by permission."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models.fields import acting_user


class Attachment(models.Model):
    class Purpose(models.TextChoices):
        PROOF = "proof", _("履行法定义务证明")
        LICENCE = "licence", _("营业执照/身份证明")
        POWER_OF_ATTORNEY = "attorney", _("授权委托书")
        SUPPLEMENT = "supplement", _("补正材料")
        EVIDENCE = "evidence", _("证据材料")
        STATEMENT = "statement", _("陈述申辩材料")
        FOLLOW_UP = "follow_up", _("容缺后补材料")
        OTHER = "other", _("其他材料")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    purpose = models.CharField(_("材料类型"), max_length=12, choices=Purpose.choices)
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    mime_type = models.CharField(_("文件类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return self.original_name


class CaseActivity(models.Model):
    """The case's timeline, shown to the applicant and the department: what happened, when, by whom.

    Chase-ups (催办) are activities too, so the department sees them on the case and in its queue.
    """

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交申请")
        ROUTED = "routed", _("分派办理部门")
        # What happened (an event on the timeline), not the button that does it (pgettext "action").
        ACCEPTED = "accepted", pgettext_lazy("event", "受理")
        NOT_ACCEPTED = "not_accepted", pgettext_lazy("event", "不予受理")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("要求补正")
        SUPPLEMENTED = "supplemented", _("补正材料")
        PROPOSED = "proposed", _("提出审查意见")
        RETURNED = "returned", _("退回经办人")
        EXTENDED = "extended", _("延期")
        DECIDED = "decided", _("作出决定")
        EFFECTIVE = "effective", _("修复生效")
        WITHDRAWN = "withdrawn", _("撤回")
        DEEMED_WITHDRAWN = "deemed_withdrawn", _("视为撤回")
        REVOKED = "revoked", _("撤销修复")
        CHASED = "chased", _("催办")
        NOTE = "note", _("备注")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("事项"), max_length=24, choices=Kind.choices)
    text = models.TextField(_("说明"), blank=True)
    actor = acting_user(_("操作人"))
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办件动态")
        verbose_name_plural = _("办件动态")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
