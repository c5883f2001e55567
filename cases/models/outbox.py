"""Events for the city credit platform (信用中国（河南·郑州）), delivered by a django-q2 job."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# What each event reports, as staff read it on the case and on the outbox page.
TOPIC_LABELS = {
    "repair.granted": _("信用修复结果（准予）"),
    "repair.revoked": _("撤销信用修复"),
    "commitment.made": _("信用承诺信息"),
    "commitment.fulfilment": _("信用承诺履约践诺情况"),
    "commitment.batch": _("信用承诺信息（批量登记）"),
    "objection.marked": _("异议标注"),
    "objection.closed": _("异议处理结果"),
    "objection.review_closed": _("异议复核结果"),
    "objection.withdrawn": _("异议撤回"),
    "rectification.recorded": _("政务失信记录认定"),
    "rectification.closed": _("政务失信整改销号"),
    "rectification.refused": _("政务失信拒不整改认定"),
    "audit.checkpoint": _("审计链检查点"),
    "record.published": _("双公示信息（行政许可、行政处罚）"),
    "record.corrected": _("信用信息更正"),
    "record.revoked": _("信用信息撤销"),
    "record.expired": _("信用信息到期停止公示"),
    "message.email": _("消息邮件"),
    "message.sms": _("消息短信"),
}


def topic_label(topic: str) -> str:
    return str(TOPIC_LABELS.get(topic, topic))


class Delivery(models.Model):
    """What is pushed to another system and retried until it arrives: an outbox event to the platform, or one
    event to one webhook subscription (cases.models.api.WebhookDelivery). A job claims the due rows, posts
    them and records the answer; a failure is retried later, until it is given up as dead."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        DELIVERED = "delivered", _("已推送")
        FAILED = "failed", _("推送失败（重试中）")
        DEAD = "dead", _("推送失败（已停止重试）")

    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"))
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def due_index(name: str) -> models.Index:
        """The partial index the delivery job claims its due rows through (unclaimed, not yet delivered)."""
        return models.Index(
            fields=["next_attempt_at"],
            name=name,
            condition=Q(status__in=["pending", "failed"], claimed_at__isnull=True),
        )


class OutboxEvent(Delivery):
    class Channel(models.TextChoices):
        PLATFORM = "platform", _("信用平台")
        # Copies of a person's in-site messages (cases.services.messages): same claim, retry and dedupe.
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.PLATFORM)
    topic = models.CharField(_("事件类型"), max_length=60)
    # One event per business fact: re-running a service never sends the same fact twice.
    dedupe_key = models.CharField(_("去重键"), max_length=120, unique=True)
    aggregate_type = models.CharField(_("对象类型"), max_length=60)
    aggregate_id = models.CharField(_("对象编号"), max_length=40)
    payload = models.JSONField(_("内容"))
    created_at = models.DateTimeField(_("产生时间"), auto_now_add=True)
    # The legal limit for reporting this fact (e.g. repair sync 3 WD, commitment report 7 WD).
    clock = models.OneToOneField(
        "workflows.Clock",
        verbose_name=_("报送时限"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_event",
    )

    class Meta:
        verbose_name = _("推送事件")
        verbose_name_plural = _("推送事件")
        ordering = ["-created_at", "-id"]
        indexes = [Delivery.due_index("outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate_type}:{self.aggregate_id} ({self.get_status_display()})"

    @property
    def topic_label(self) -> str:
        return topic_label(self.topic)
