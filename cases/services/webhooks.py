"""Webhook subscriptions: every outbox event, as it is recorded, is also queued for each subscription that wants
its topic, and delivered by the outbox's own machinery — the same signed body and headers
(cases.services.outbox_transport), the same claim by conditional UPDATE and the same backoff
(cases.services.outbox.backoff_delay), on the same schedule (cases.tasks.outbox_deliver_task)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import ApiClient, OutboxEvent, WebhookDelivery, WebhookSubscription
from cases.services.audit import audit_log
from cases.services.outbox import backoff_delay
from cases.services.outbox_transport import DeliveryResult, HttpTransport

logger = logging.getLogger("casework.webhooks")
Status = WebhookDelivery.Status


def webhook_subscribe(*, client: ApiClient, url: str, topics: list[str]) -> WebhookSubscription:
    if not url.lower().startswith(("https://", "http://")):
        raise ValidationError({"url": _("推送地址必须以 https:// 或 http:// 开头。")}, code="scheme")
    with transaction.atomic():
        sub = WebhookSubscription.objects.create(
            client=client, url=url, secret=secrets.token_hex(32), topics=sorted(set(topics))
        )
        audit_log(actor=client.user, action="webhook.subscribed", obj=sub, data={"url": url, "topics": sub.topics})
    return sub


def webhook_cancel(*, client: ApiClient, subscription: WebhookSubscription) -> WebhookSubscription:
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if sub.cancelled_at is None:
            sub.cancelled_at = timezone.now()
            sub.save(update_fields=["cancelled_at"])
            sub.deliveries.filter(status__in=[Status.PENDING, Status.FAILED]).update(status=Status.DEAD)
            audit_log(actor=client.user, action="webhook.cancelled", obj=sub, data={"url": sub.url})
    return sub


def webhook_fan_out(*, event: OutboxEvent) -> int:
    """Queue ``event`` for every live subscription that wants its topic (inside the enqueuing transaction)."""
    subs = [
        s
        for s in WebhookSubscription.objects.filter(cancelled_at__isnull=True, client__revoked_at__isnull=True).only(
            "pk", "topics"
        )
        if s.wants(event.topic)
    ]
    if subs:
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(subscription=s, event=event, next_attempt_at=event.next_attempt_at) for s in subs],
            ignore_conflicts=True,
        )
    return len(subs)


def _claim(pk: int, now: dt.datetime) -> bool:
    stale = now - dt.timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    return (
        WebhookDelivery.objects.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale), pk=pk)
        .filter(status__in=[Status.PENDING, Status.FAILED])
        .update(claimed_at=now)
        == 1
    )


def webhooks_deliver_due(*, now: dt.datetime | None = None, batch: int = 100) -> dict:
    """Deliver due webhook calls; safe in any number of workers at once (each claim is a conditional UPDATE)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now, claimed_at__isnull=True
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    totals = {"claimed": 0, "delivered": 0, "failed": 0, "dead": 0}
    for pk in due:
        if not _claim(pk, now):
            continue
        totals["claimed"] += 1
        delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=pk)
        try:
            transport = HttpTransport(
                delivery.subscription.url, delivery.subscription.secret, settings.OUTBOX_HTTP_TIMEOUT
            )
            result = transport.send(delivery.event)
        except Exception as exc:  # one bad subscription costs one attempt, not the run
            logger.exception("webhook delivery %s raised", pk)
            result = DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}")
        status = _record(pk=pk, claimed_at=now, result=result, now=now)
        if status:
            totals["delivered" if status == Status.DELIVERED else "failed"] += 1
            totals["dead"] += status == Status.DEAD
    return totals


def _record(*, pk: int, claimed_at: dt.datetime, result: DeliveryResult, now: dt.datetime) -> str | None:
    with transaction.atomic():
        d = WebhookDelivery.objects.select_for_update().get(pk=pk)
        if d.claimed_at != claimed_at:
            return None
        d.attempts += 1
        d.claimed_at = None
        d.response_code = result.response_code
        if result.delivered:
            d.status, d.delivered_at, d.last_error = Status.DELIVERED, now, ""
        else:
            d.last_error = result.error[:2000]
            if d.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                d.status = Status.DEAD
            else:
                d.status = Status.FAILED
                d.next_attempt_at = now + backoff_delay(d.attempts)
        d.save()
        audit_log(
            actor="system:webhooks",
            action=f"webhook.{d.status}",
            obj=d,
            data={"attempt": d.attempts, "response_code": result.response_code, "error": d.last_error[:300]},
        )
        return d.status
