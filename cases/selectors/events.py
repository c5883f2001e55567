"""The platform's event feed (the outbox's events) and its webhook subscriptions, scoped by cases.policy: the
credit centre reports to the city platform (DESIGN.md), so only platform staff and clients read the feed."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from cases import policy
from cases.models import OutboxEvent, WebhookSubscription


def events_for_user(*, user, topic: str = "") -> QuerySet[OutboxEvent]:
    qs = OutboxEvent.objects.all() if policy.is_platform(user) else OutboxEvent.objects.none()
    if topic:
        qs = qs.filter(topic=topic)
    return qs.order_by("pk")


def webhooks_for_client(*, client) -> QuerySet[WebhookSubscription]:
    """A client sees its own organisation's subscriptions (another organisation's answer 404)."""
    return WebhookSubscription.objects.filter(
        client__organisation_id=client.organisation_id, cancelled_at__isnull=True
    ).order_by("-pk")


def webhook_get_for_client(*, client, pk: int) -> WebhookSubscription:
    found = webhooks_for_client(client=client).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
