"""Writing to and verifying the hash-chained audit trail (DESIGN.md, "Audit")."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent


def _json_stable(value):
    """What the hash covers must be exactly what PostgreSQL's jsonb hands back later.

    jsonb re-renders numbers (``1e+20`` comes back as ``100000000000000000000``, an int in Python),
    so floats are kept as their decimal text; everything else survives a JSON round trip unchanged.
    """
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: _json_stable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_stable(item) for item in value]
    return value


def audit_log(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction so the event and the change it
    describes commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_log must be called inside the service's transaction")
    if obj is not None:
        if obj.pk is None:
            raise ValueError("audit_log(obj=...) needs a saved object")
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    # Normalise through JSON now so the hash covers exactly what the database will hand back.
    payload = _json_stable(json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False)))
    # Lock the chain head: appends are serialised so each event links to exactly one predecessor.
    # The lock is held until the caller's transaction ends, so a rolled-back service gives its
    # sequence number back and the chain has no gaps. (If the head row does not exist yet, two first
    # writers race on its primary key; get_or_create re-reads it FOR UPDATE after losing that race.)
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    user = actor if getattr(actor, "pk", None) else None
    event = AuditEvent(
        seq=head.last_seq + 1,
        at=timezone.now(),
        actor=user,
        actor_label=(user.get_username() if user else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=payload,
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.last_seq = event.seq
    head.last_hash = event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class AuditProblem:
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else _("链头")
        return f"{where}: {self.reason}"


def audit_verify(*, batch_size: int = 5000) -> AuditProblem | None:
    """Walk the chain in order; return the first problem (edit, deletion, insertion, truncation).

    An edited event fails its own hash; a deleted one leaves a gap in the sequence; a truncated tail
    disagrees with the chain head, which every append updates in the same transaction.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    qs = AuditEvent.objects.order_by("seq")
    for event in qs.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return AuditProblem(expected_seq, _("事件缺失（被删除），下一条现存事件为#%(next)s") % {"next": event.seq})
        if event.compute_hash() != event.hash:
            return AuditProblem(event.seq, _("事件内容与其哈希不符（被修改）"))
        if event.prev_hash != prev_hash:
            return AuditProblem(
                event.seq, _("与前一事件#%(prev)s的链接断开（前一事件被修改或替换）") % {"prev": event.seq - 1}
            )
        prev_hash = event.hash
        expected_seq += 1
        last_seq = event.seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if last_seq:
            return AuditProblem(None, _("链头缺失，但存在%(n)s条事件") % {"n": last_seq})
        return None
    if head.last_seq > last_seq:
        # The tail was cut off: the first missing event is the first bad one.
        return AuditProblem(
            last_seq + 1,
            _("链头记录最后一条为#%(head)s，但日志止于#%(last)s（尾部被截断）")
            % {"head": head.last_seq, "last": last_seq},
        )
    if head.last_seq < last_seq:
        return AuditProblem(
            head.last_seq + 1,
            _("日志在链头记录的#%(head)s之后还有事件（被插入）") % {"head": head.last_seq},
        )
    if head.last_hash != prev_hash:
        return AuditProblem(last_seq or None, _("最后一条事件与链头记录的哈希不符（被替换）"))
    return None


def audit_chain_length() -> int:
    head = AuditChainHead.objects.filter(pk=1).first()
    return head.last_seq if head else 0
