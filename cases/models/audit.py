"""Append-only, keyed hash chain of audit events.

Every service writes its events in the same transaction as its change. Each event's seal is an HMAC-SHA256,
keyed with ``AUDIT_HMAC_KEY`` (environment only, never in the database), over its own content and the previous
event's seal; the chain head (one row) holds the last sequence number and seal. Editing, deleting or
truncating events is detected by ``manage.py verify_audit``, and without the key nobody can recompute a chain
that verifies. A database trigger (cases/migrations/_database_rules.py) refuses UPDATE and DELETE of events
outright.
"""

import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user

GENESIS_HASH = "0" * 64


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit events are append-only")

    def delete(self):
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"))
    actor = acting_user(_("操作人"))
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    data = models.JSONField(_("内容"), default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("前序哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")

    def canonical(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                # Always UTC: the database hands the timestamp back in the connection's zone, and the
                # hash must not depend on which zone a verifier happens to run in.
                "at": self.at.astimezone(dt.UTC).isoformat(),
                "actor": self.actor_id,
                "actor_label": self.actor_label,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "data": self.data,
            },
            sort_keys=True,
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        )

    def compute_hash(self, key: str | None = None) -> str:
        key = settings.AUDIT_HMAC_KEY if key is None else key
        return hmac.new(key.encode(), (self.prev_hash + self.canonical()).encode(), hashlib.sha256).hexdigest()


class AuditChainHead(models.Model):
    """The single row that serialises appends: locked FOR UPDATE by each committing transaction, from the
    moment it appends its batch of events (just before COMMIT) to the commit."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
