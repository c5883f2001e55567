"""What the platform tells a person: in-site messages (站内消息), their read receipts, and the one-time codes
sent to a mobile number.

A message is always stored here (the site is the channel of record); e-mail and SMS copies leave through the
outbox (cases.services.outbox) as rows of their own channel, so they are sent after commit, retried, and never
sent twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    ACCEPTED = "accepted", _("申请已受理")
    SUPPLEMENT = "supplement", _("需要补正材料")
    DECIDED = "decided", _("已作出决定")
    NOTICE = "notice", _("收到新文书")
    DEADLINE = "deadline", _("期限即将届满")
    DEEMED_WITHDRAWN = "deemed_withdrawn", _("申请视为撤回")
    ACCOUNT = "account", _("账户与授权")


class Message(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="site_messages"
    )
    kind = models.CharField(_("消息类型"), max_length=20, choices=MessageKind.choices)
    # One message per person and fact: a re-run sweep or a retried service never tells anyone twice.
    dedupe_key = models.CharField(_("去重键"), max_length=160)
    # Stored in both languages: the reader's language is only known when the message is read.
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    body = models.TextField(_("内容"))
    body_en = models.TextField(_("英文内容"), blank=True)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    tracking_number = models.CharField(_("办件编号"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    # The first opening by its addressee: 送达 evidence (with the notice's own read_at for notices).
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="one_message_per_user_fact")]
        indexes = [models.Index(fields=["user"], name="message_unread_idx", condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return self.title


class MessagePreference(models.Model):
    """Which copies a person wants besides the site (always on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="message_preference"
    )
    by_email = models.BooleanField(_("同时发送电子邮件"), default=True)
    by_sms = models.BooleanField(_("同时发送短信"), default=True)

    class Meta:
        verbose_name = _("消息接收设置")
        verbose_name_plural = _("消息接收设置")

    def __str__(self) -> str:
        return str(self.user)


class PhoneCode(models.Model):
    """A one-time code sent to a mobile number (registration). Only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="phone_codes"
    )
    phone = models.CharField(_("手机号"), max_length=20)
    # What the registrant typed, matched to a subject only once the code proves the mobile is theirs.
    id_number = models.CharField(_("居民身份证号码"), max_length=18, blank=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=128)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
