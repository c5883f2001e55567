"""Writing to and verifying the hash-chained audit trail (DESIGN.md, "Audit")."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from cases.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent


def audit_log(*, actor, action: str, obj: models.Model | None = None, object_type: str = "",
              object_id: str | int = "", data: dict | None = None) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction so the event and the change it
    describes commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_log must be called inside the service's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    # Lock the chain head: appends are serialised so each event links to exactly one predecessor.
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    # Normalise through JSON now so the hash covers exactly what the database will hand back.
    payload = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False))
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
        where = f"#{self.seq}" if self.seq is not None else "chain head"
        return f"{where}: {self.reason}"


def audit_verify(*, batch_size: int = 5000) -> AuditProblem | None:
    """Walk the chain in order; return the first problem (edit, deletion, insertion, truncation)."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    qs = AuditEvent.objects.order_by("seq")
    last_seq = 0
    for event in qs.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return AuditProblem(expected_seq, f"event missing (next stored event is #{event.seq})")
        if event.prev_hash != prev_hash:
            return AuditProblem(event.seq, "link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return AuditProblem(event.seq, "content does not match its hash (edited)")
        prev_hash = event.hash
        expected_seq += 1
        last_seq = event.seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        return AuditProblem(last_seq + 1 if head.last_seq > last_seq else None,
                            f"chain head says #{head.last_seq} is last, the log ends at #{last_seq}")
    return None
