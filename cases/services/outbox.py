"""The platform-sync outbox: every result the city credit platform must receive (DESIGN.md, "Integration
with the credit platform"; STYLE.md 6).

A procedure's service calls :func:`outbox_enqueue` inside its own transaction, so the fact and the event to
report it commit or roll back together. The scheduled job (``cases.tasks.outbox_deliver_task``) calls
:func:`outbox_deliver_due`, which claims due events one at a time by a conditional UPDATE, hands each to the
transport (cases.services.outbox_transport) outside any transaction, and records the outcome. When the law sets a
limit for the report (repair result sync 3 WD, 58号令/527号; commitment and fulfilment reports 7 WD, seed 003
item 6) the event carries a legal Clock that stops on delivery, so an event stuck in retries turns overdue
and escalates like any other late step.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import policy
from cases.models import OutboxEvent
from cases.models.outbox import topic_label
from cases.portable_sql import insert_unless_exists
from cases.services.audit import audit_log
from cases.services.outbox_transport import DeliveryResult, Transport, get_transport
from workflows.models import Clock
from workflows.services.clocks import clock_start, clock_stop

logger = logging.getLogger("casework.outbox")

Status = OutboxEvent.Status
DUE_STATUSES = [Status.PENDING, Status.FAILED]
# The scheduled job runs as nobody in particular; audit rows name it.
SYSTEM_ACTOR = "system:outbox"
# Consecutive transport failures after which a run stops: the endpoint is down, and trying the rest of the
# batch would only burn its attempts (and the task's time budget) on timeouts.
CIRCUIT_BREAK_AFTER = 3


# --- enqueue ---------------------------------------------------------------------------------------------


def outbox_enqueue(
    *,
    topic: str,
    aggregate: models.Model,
    payload: dict,
    dedupe_key: str,
    limit_budget: int | None = None,
    limit_unit: str = Clock.Unit.WORKING_DAYS,
    limit_citation: str = "",
    organisation=None,
    actor,
    occurred_at: dt.datetime | None = None,
    channel: str = OutboxEvent.Channel.PLATFORM,
) -> OutboxEvent:
    """Record that ``payload`` must reach the platform; idempotent on ``dedupe_key``.

    Must run inside the caller's transaction (the one that makes the fact true). With ``limit_budget`` the
    report gets a legal clock on ``aggregate``, owned by ``organisation``, running from ``occurred_at``
    (when the fact to report happened: the decision, the change; default now).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must be called inside the caller's transaction")
    now = timezone.now()
    occurred_at = occurred_at or now
    # One INSERT ... ON CONFLICT DO NOTHING RETURNING, no savepoint (issue 15): when the key exists (a retried
    # service, or a concurrent caller whose insert the unique index made us wait for) its row is the event.
    event = OutboxEvent(
        channel=channel,
        topic=topic,
        dedupe_key=dedupe_key,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload,
        next_attempt_at=now,
    )
    if not insert_unless_exists(event, unique=("dedupe_key",)):
        # The payload is not read back: a batch report's is ~100 KB of JSON to decode for nothing (loaded if used).
        return OutboxEvent.objects.defer("payload").get(dedupe_key=dedupe_key)

    if limit_budget is not None:
        event.clock = clock_start(
            case=aggregate,
            purpose=f"outbox:{topic}"[:60],
            label=(gettext_noop("向信用平台报送：%(topic)s") % {"topic": topic_label(topic)})[:120],
            budget=limit_budget,
            unit=limit_unit,
            kind=Clock.Kind.LEGAL,
            received_at=occurred_at,
            organisation=organisation,
            citation=limit_citation,
            extension_cap=0,
            actor=actor,
        )
        event.save(update_fields=["clock"])
    # The platform's webhook subscriptions hear of the event in the same transaction (cases.services.webhooks).
    from cases.services.webhooks import webhook_fan_out

    webhook_fan_out(event=event)
    audit_log(
        actor=actor,
        action="outbox.enqueue",
        obj=event,
        data={
            "topic": topic,
            "dedupe_key": dedupe_key,
            "aggregate": f"{event.aggregate_type}:{event.aggregate_id}",
            "limit_budget": limit_budget,
            "limit_unit": limit_unit if limit_budget is not None else "",
        },
    )
    return event


# --- delivery --------------------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    interrupted: bool = False  # stopped early: the endpoint looks down

    def as_dict(self) -> dict:
        return {
            "claimed": self.claimed,
            "delivered": self.delivered,
            "failed": self.failed,
            "dead": self.dead,
            "interrupted": self.interrupted,
        }


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: base·2^(attempts−1) capped, minus up to a quarter of jitter.

    Jitter spreads out a backlog that failed together (endpoint outage) so it does not retry in lockstep;
    taking it off the top keeps each step strictly longer than the one before until the cap.
    """
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS
    cap = settings.OUTBOX_BACKOFF_MAX_SECONDS
    exponent = max(attempts - 1, 0)
    # Cap the exponent before computing the power so a huge attempt count cannot overflow.
    delay = cap if exponent >= 32 else min(cap, base * (2**exponent))
    jitter = (rng or random).uniform(0.0, 0.25)
    return dt.timedelta(seconds=delay * (1.0 - jitter))


def _claimable_q(now: dt.datetime) -> Q:
    stale_before = now - dt.timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    # Unclaimed, or claimed by a worker that has had the lease and more: it died (or hung) mid-delivery.
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale_before)


def _claim(pk: int, now: dt.datetime) -> bool:
    """Take one event for this worker. A conditional UPDATE is atomic: of two workers racing for the same row,
    PostgreSQL lets one update it and re-checks the other's WHERE against the new row, which then fails."""
    return OutboxEvent.objects.filter(_claimable_q(now), pk=pk, status__in=DUE_STATUSES).update(claimed_at=now) == 1


def outbox_deliver_due(
    *,
    now: dt.datetime | None = None,
    batch: int | None = None,
    transport: Transport | None = None,
    channel: str = OutboxEvent.Channel.PLATFORM,
) -> DeliveryRun:
    """Deliver up to ``batch`` due events of ``channel``. Safe to run in any number of workers at once.

    Call it outside a transaction in production: each claim must commit before the (slow) delivery so
    other workers skip the event, and nothing holds a database transaction open across the network call.
    """
    now = now or timezone.now()
    batch = batch or settings.OUTBOX_BATCH
    transport = transport or get_transport(channel)
    run = DeliveryRun()
    # Two reads rather than one OR: the first matches the partial index ``outbox_due_idx`` (unclaimed,
    # pending/failed) exactly; the second finds the few events left behind by a dead worker.
    due = OutboxEvent.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now, channel=channel)
    candidates = list(
        due.filter(claimed_at__isnull=True).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:batch]
    )
    if len(candidates) < batch:
        stale_before = now - dt.timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
        candidates += list(
            due.filter(claimed_at__lt=stale_before)
            .order_by("claimed_at", "pk")
            .values_list("pk", flat=True)[: batch - len(candidates)]
        )
    consecutive_failures = 0
    for pk in candidates:
        if not _claim(pk, now):
            continue  # another worker got there first
        run.claimed += 1
        event = OutboxEvent.objects.get(pk=pk)
        try:
            result = transport.send(event)
        except Exception as exc:  # a transport bug must cost one attempt, not the whole run and the claim
            logger.exception("outbox transport raised for event %s", pk)
            result = DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}")
        status = _record_attempt(pk=pk, claimed_at=now, result=result, now=now)
        if status == Status.DELIVERED:
            run.delivered += 1
            consecutive_failures = 0
        elif status is not None:
            run.failed += 1
            run.dead += status == Status.DEAD
            consecutive_failures += 1
            if consecutive_failures >= CIRCUIT_BREAK_AFTER:
                run.interrupted = True
                break
    return run


def _record_attempt(*, pk: int, claimed_at: dt.datetime, result: DeliveryResult, now: dt.datetime) -> str | None:
    """Write one attempt's outcome and release the claim; returns the new status (None: claim was lost)."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update(of=("self",)).select_related("clock").get(pk=pk)
        if event.claimed_at != claimed_at:
            # Our lease ran out and another worker took the event over: its outcome is the one recorded.
            logger.warning("outbox event %s: claim lost during delivery (delivered=%s)", pk, result.delivered)
            return None
        event.attempts += 1
        event.claimed_at = None
        event.response_code = result.response_code
        fields = ["attempts", "claimed_at", "response_code", "status", "last_error"]
        if result.delivered:
            event.status = Status.DELIVERED
            event.delivered_at = now
            event.last_error = ""
            fields.append("delivered_at")
        else:
            event.last_error = result.error[:2000]
            if event.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                # Stop retrying; the clock keeps running, so the missed limit still escalates.
                event.status = Status.DEAD
            else:
                event.status = Status.FAILED
                event.next_attempt_at = now + backoff_delay(event.attempts)
                fields.append("next_attempt_at")
        event.save(update_fields=fields)
        if result.delivered and event.clock is not None and event.clock.stopped_at is None:
            clock_stop(clock=event.clock, reason=gettext_noop("已推送至信用平台"), actor=SYSTEM_ACTOR, at=now)
        audit_log(
            actor=SYSTEM_ACTOR,
            action=f"outbox.{event.status}",
            obj=event,
            data={
                "attempt": event.attempts,
                "response_code": result.response_code,
                "error": event.last_error[:300],
                "next_attempt_at": event.next_attempt_at if event.status == Status.FAILED else None,
            },
        )
        return event.status


# --- staff actions ---------------------------------------------------------------------------------------


def outbox_retry(*, event: OutboxEvent, actor) -> OutboxEvent:
    """Give a dead event a fresh series of attempts, starting with the next run of the job.

    Platform staff only (DESIGN.md: the credit centre does the sync); they are expected to have fixed what
    made it fail (endpoint, secret, a payload the platform refused).
    """
    if not policy.is_platform(actor):
        raise PermissionDenied(_("只有信用中心工作人员可以重新推送。"))
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().get(pk=event.pk)
        if event.status != Status.DEAD:
            raise ValidationError(_("只有已停止重试的推送事件可以重新推送。"))
        previous_attempts = event.attempts
        event.status = Status.PENDING
        event.attempts = 0
        event.claimed_at = None
        event.next_attempt_at = timezone.now()
        # last_error stays: it is what staff looked at when they decided to retry.
        event.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at"])
        audit_log(
            actor=actor,
            action="outbox.retry",
            obj=event,
            data={"previous_attempts": previous_attempts, "last_error": event.last_error[:300]},
        )
    return event
