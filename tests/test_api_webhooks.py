# ruff: noqa: F811  (pytest fixtures imported from tests.api_support)
"""Webhook subscriptions (issue 14): each outbox event reaches the subscribed URL signed with HMAC-SHA256 like the
outbox's own delivery, and a failing endpoint is retried with the outbox's backoff."""

import datetime as dt
import http.server
import json
import threading

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import WebhookDelivery
from cases.services.outbox_transport import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from cases.services.webhooks import webhooks_deliver_due
from tests.api_support import _fresh_rate_limits, auth, new_key, platform_key  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A local HTTP endpoint on 127.0.0.1 that records what it gets; answers 500 while ``fail`` is set."""
    got = {"requests": [], "fail": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got["requests"].append((dict(self.headers), body))
            self.send_response(500 if got["fail"] else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got["url"] = f"http://127.0.0.1:{server.server_port}/hook"
    yield got
    server.shutdown()
    server.server_close()


def test_a_subscribed_event_arrives_signed_and_a_failure_is_retried_with_backoff(
    client, platform_key, receiver, record, handler
):
    created = client.post(
        reverse("api_webhooks"),
        json.dumps({"url": receiver["url"], "topics": ["objection.marked"]}),
        content_type="application/json",
        **auth(platform_key, new_key()),
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    from django.db import transaction

    from cases.services.outbox import outbox_enqueue

    with transaction.atomic():
        wanted = outbox_enqueue(
            topic="objection.marked", aggregate=record, payload={"record": record.pk}, dedupe_key="w1", actor=handler
        )
        outbox_enqueue(topic="repair.granted", aggregate=record, payload={}, dedupe_key="w2", actor=handler)
    assert WebhookDelivery.objects.count() == 1  # only the topic subscribed to

    receiver["fail"] = True
    now = timezone.now()
    assert webhooks_deliver_due(now=now)["failed"] == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.next_attempt_at > now
    assert webhooks_deliver_due(now=now)["claimed"] == 0  # not due again before its backoff

    receiver["fail"] = False
    assert webhooks_deliver_due(now=delivery.next_attempt_at + dt.timedelta(seconds=1))["delivered"] == 1
    headers, body = receiver["requests"][-1]
    assert json.loads(body)["id"] == wanted.pk
    assert verify_signature(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature("another secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert WebhookDelivery.objects.get().status == "delivered" and len(receiver["requests"]) == 2
