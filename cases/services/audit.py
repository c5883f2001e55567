"""Writing to and verifying the keyed, hash-chained audit trail (DESIGN.md, "Audit"; issue 10 item 7)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent

logger = logging.getLogger("casework.audit")


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
    """Record one event. Must run inside the caller's transaction so the event and the change it describes
    commit or roll back together.

    The event is sealed and appended with the rest of its transaction's events just before COMMIT
    (``audit_append_batch``): the chain head, one row every writer must lock, is then held for one batch of
    three statements instead of from the transaction's first event to its end, so transactions on different
    cases no longer queue behind each other (issue 15). Until then the returned event has no ``seq``/``pk``.
    An inner ``atomic()`` that rolls back drops its own events (config/db/precommit.py).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_log must be called inside the service's transaction")
    if obj is not None:
        if obj.pk is None:
            raise ValueError("audit_log(obj=...) needs a saved object")
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    # Normalise through JSON now so the seal covers exactly what the database will hand back.
    payload = _json_stable(json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False)))
    user = actor if getattr(actor, "pk", None) else None
    event = AuditEvent(
        at=timezone.now(),
        actor=user,
        actor_label=(user.get_username() if user else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=payload,
    )
    queue = getattr(connection, "queue_before_commit", None)
    if queue is None:
        # A database backend without the pre-commit hook (settings not mapped): append at once.
        audit_append_batch(connection, [event])
    else:
        queue(PRE_COMMIT_HANDLER, event)
    return event


PRE_COMMIT_HANDLER = "audit"


def audited_create(obj: models.Model, *, actor, action: str, data: dict) -> models.Model:
    """Validate and save the new ``obj`` and record its creation (``data``: what the entry says about it),
    together: a row never exists without the entry that created it."""
    with transaction.atomic():
        obj.full_clean()
        obj.save()
        audit_log(actor=actor, action=action, obj=obj, data=data)
    return obj


def audit_append_batch(connection, events: list[AuditEvent]) -> None:
    """Seal and append ``events`` in order, in the transaction about to commit: lock the head, insert, move
    the head. The lock is held until the COMMIT right after this, so each batch links to exactly one
    predecessor, and a transaction that rolls back never took a sequence number (the chain stays gap-free)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # First append ever (or after a test flush): two first writers race on the primary key; ON CONFLICT
        # lets the loser wait for the winner's row and read it FOR UPDATE.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    key = settings.AUDIT_HMAC_KEY
    seq, prev_hash = head.last_seq, head.last_hash
    for event in events:
        seq += 1
        event.seq = seq
        event.prev_hash = prev_hash
        event.hash = event.compute_hash(key)
        prev_hash = event.hash
    AuditEvent.objects.bulk_create(events)
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev_hash)


def audit_checkpoint(*, actor="system:audit") -> AuditChainHead | None:
    """Write the chain head (last sequence number and seal) to the log and to the outbox, so it leaves the
    database: an auditor holding checkpoints detects a tail cut off after them, which the chain alone cannot
    show (whoever truncates can also move the head back). Scheduled (setup_schedules); returns None when
    nothing but the previous checkpoint's own outbox event was appended since it."""
    from cases.models import OutboxEvent
    from cases.services.outbox import outbox_enqueue  # the outbox audits its own writes

    with transaction.atomic():
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None or head.last_seq == 0:
            return None
        last = OutboxEvent.objects.filter(topic="audit.checkpoint").order_by("-id").values("payload").first()
        if last is not None and last["payload"].get("seq", 0) >= head.last_seq - 1:
            return None
        now = timezone.now()
        logger.info("audit checkpoint: seq=%s hash=%s at=%s", head.last_seq, head.last_hash, now.isoformat())
        outbox_enqueue(
            topic="audit.checkpoint",
            aggregate=head,
            payload={"seq": head.last_seq, "hash": head.last_hash, "at": now.isoformat()},
            dedupe_key=f"audit-checkpoint:{head.last_seq}",
            actor=actor,
        )
        return head


@dataclass
class AuditProblem:
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else _("链头")
        return f"{where}: {self.reason}"


def audit_verify(
    *, batch_size: int = 5000, key: str | None = None, checkpoints: list[tuple[int, str]] = ()
) -> AuditProblem | None:
    """Walk the chain in order; return the first problem (edit, deletion, insertion, truncation).

    An edited event fails its own seal (recomputing it needs ``AUDIT_HMAC_KEY``); a deleted one leaves a gap
    in the sequence; a truncated tail disagrees with the chain head, or, if the head was moved back too, with
    a checkpoint (seq, seal) kept outside the database.
    """
    previous = [] if key is not None else list(getattr(settings, "AUDIT_HMAC_PREVIOUS_KEYS", []))
    key = settings.AUDIT_HMAC_KEY if key is None else key

    def key_for(seq: int) -> str:
        # Events up to a rotation point were sealed with the key in force then (AUDIT_HMAC_PREVIOUS_KEYS).
        for last_seq, old_key in previous:
            if seq <= last_seq:
                return old_key
        return key

    wanted = dict(checkpoints)
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    qs = AuditEvent.objects.order_by("seq")
    for event in qs.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return AuditProblem(expected_seq, _("事件缺失（被删除），下一条现存事件为#%(next)s") % {"next": event.seq})
        if event.compute_hash(key_for(event.seq)) != event.hash:
            return AuditProblem(event.seq, _("事件内容与其哈希不符（被修改，或校验密钥不对）"))
        if event.seq in wanted and wanted[event.seq] != event.hash:
            return AuditProblem(event.seq, _("事件与检查点记录的哈希不符（被替换）"))
        if event.prev_hash != prev_hash:
            return AuditProblem(
                event.seq, _("与前一事件#%(prev)s的链接断开（前一事件被修改或替换）") % {"prev": event.seq - 1}
            )
        prev_hash = event.hash
        expected_seq += 1
        last_seq = event.seq
    beyond = [seq for seq in wanted if seq > last_seq]
    if beyond:
        return AuditProblem(
            last_seq + 1,
            _("检查点记录到#%(checkpoint)s，但日志止于#%(last)s（尾部被截断）")
            % {"checkpoint": max(beyond), "last": last_seq},
        )
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
