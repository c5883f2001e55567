"""How a person's message copies leave the building: e-mail through Django's e-mail backend, SMS through one
gateway interface (DESIGN.md, "People's front doors").

SMS gateways differ by operator; :class:`SmsGateway` is the one interface the outbox sees. Two adapters:

- :class:`HttpSmsGateway` (``SMS_GATEWAY_URL`` set): a signed JSON POST — the same HMAC-SHA256 scheme as
  the platform outbox (``X-Casework-Signature`` over timestamp + "." + body, ``SMS_GATEWAY_SECRET``);
- :class:`FileSmsGateway` (the embedded default): one JSON line per SMS appended to ``SMS_FILE_SINK`` and a
  log line, so a fresh installation shows what it would have sent.

Both are called only by the outbox worker, outside any request and transaction.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from cases.models import OutboxEvent
from cases.services.outbox_transport import DeliveryResult, FileSink, Transport, signed_request

logger = logging.getLogger("casework.messages")


class SmsGateway(Protocol):
    def send(self, *, message_id: str, phone: str, text: str) -> DeliveryResult: ...


def sms_body(*, message_id: str, phone: str, text: str) -> bytes:
    return json.dumps(
        {"id": message_id, "phone": phone, "text": text}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


class FileSmsGateway:
    def __init__(self, path):
        self.sink = FileSink(path)

    def send(self, *, message_id: str, phone: str, text: str) -> DeliveryResult:
        logger.info("sms to %s: %s", phone[:3] + "****" + phone[-4:], text)
        return self.sink.append(sms_body(message_id=message_id, phone=phone, text=text))


class HttpSmsGateway:
    def __init__(self, url: str, secret: str, timeout: float):
        if not secret:
            raise ImproperlyConfigured("SMS_GATEWAY_URL is set but SMS_GATEWAY_SECRET is empty")
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, *, message_id: str, phone: str, text: str) -> DeliveryResult:
        request = signed_request(
            self.url, self.secret, sms_body(message_id=message_id, phone=phone, text=text), message_id
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            return DeliveryResult(delivered=False, response_code=exc.code, error=f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")
        if 200 <= code < 300:
            return DeliveryResult(delivered=True, response_code=code)
        return DeliveryResult(delivered=False, response_code=code, error=f"HTTP {code}")


def get_sms_gateway() -> SmsGateway:
    if settings.SMS_GATEWAY_URL:
        return HttpSmsGateway(settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_SECRET, settings.SMS_GATEWAY_TIMEOUT)
    return FileSmsGateway(settings.SMS_FILE_SINK)


class SmsTransport:
    def __init__(self, gateway: SmsGateway):
        self.gateway = gateway

    def send(self, event: OutboxEvent) -> DeliveryResult:
        p = event.payload
        # The outbox row id is the gateway's idempotency key: a retried send carries the same id.
        return self.gateway.send(message_id=f"casework-{event.pk}", phone=p["phone"], text=p["text"])


class EmailTransport:
    def send(self, event: OutboxEvent) -> DeliveryResult:
        p = event.payload
        mail = EmailMessage(
            subject=p["subject"],
            body=p["body"],
            to=[p["to"]],
            headers={"Message-ID": f"<casework-{event.pk}@{settings.MESSAGE_ID_DOMAIN}>"},
        )
        try:
            mail.send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 — SMTP errors come in many classes; each costs one attempt
            return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}")
        return DeliveryResult(delivered=True)


def get_message_transport(channel: str) -> Transport:
    if channel == OutboxEvent.Channel.EMAIL:
        return EmailTransport()
    if channel == OutboxEvent.Channel.SMS:
        return SmsTransport(get_sms_gateway())
    raise ValueError(f"no message transport for channel {channel!r}")
