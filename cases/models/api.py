"""Integrators of the REST API v1 (DESIGN.md, "Integrators"): an organisation's API clients and keys, the
responses kept for ``Idempotency-Key`` retries, and the platform's webhook subscriptions with their deliveries.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user
from cases.models.outbox import Delivery


class ApiScope(models.TextChoices):
    RECORDS_READ = "records:read", _("读取本部门信用记录")
    RECORDS_WRITE = "records:write", _("新增、更正、撤销本部门信用记录")
    CASES_READ = "cases:read", _("读取本机构办件、待办和文书")
    COMMITMENTS_WRITE = "commitments:write", _("登记和批量导入信用承诺")
    EVENTS_READ = "events:read", _("读取平台事件流")
    WEBHOOKS = "webhooks", _("管理事件推送订阅")


class ApiClient(models.Model):
    """One system of one organisation calling the API (a department's 审批系统, the city platform …).

    The key is ``ck_<prefix>_<secret>``: only a SHA-256 of the secret is stored, shown once when issued;
    ``prefix`` finds the row without scanning hashes. The client acts through its own service account
    (``user``, no password, the organisation's role) so that the pages' policy and selectors scope every call
    and every audit row names the client.
    """

    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(_("用途"), max_length=80)
    prefix = models.CharField(_("密钥前缀"), max_length=12, unique=True)
    secret_sha256 = models.CharField(_("密钥摘要"), max_length=64)
    scopes = models.JSONField(_("权限范围"), default=list)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("服务账号"), on_delete=models.PROTECT, related_name="api_client"
    )
    rate_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=600)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    created_by = acting_user(_("签发人"))
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > timezone.now())
            and self.organisation.is_active
        )

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``: a retry with the same key gets it again instead
    of creating a second object (STYLE.md 15). Written in the transaction that made the object."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="one_response_per_idempotency_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookSubscription(models.Model):
    """The city platform's (or another client's) endpoint that receives outbox events as they happen, signed with
    HMAC-SHA256 like the outbox's own delivery."""

    client = models.ForeignKey(ApiClient, verbose_name=_("接口客户端"), on_delete=models.PROTECT, related_name="+")
    url = models.URLField(_("推送地址"), max_length=500)
    # The HMAC key: both sides must hold it, so it is stored (shown to the client once, when subscribing).
    secret = models.CharField(_("签名密钥"), max_length=64)
    topics = models.JSONField(_("事件类型"), default=list, blank=True, help_text=_("为空表示全部事件。"))
    created_at = models.DateTimeField(_("订阅时间"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件推送订阅")
        verbose_name_plural = _("事件推送订阅")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, topic: str) -> bool:
        return not self.topics or topic in self.topics


class WebhookDelivery(Delivery):
    """One event for one subscription, delivered and retried like the outbox's own events."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("cases.OutboxEvent", on_delete=models.CASCADE, related_name="webhook_deliveries")

    class Meta:
        verbose_name = _("事件推送记录")
        verbose_name_plural = _("事件推送记录")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="one_delivery_per_subscription_event")
        ]
        indexes = [Delivery.due_index("webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.get_status_display()})"
