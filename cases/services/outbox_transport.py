"""How an outbox event leaves the building: a signed HTTP POST, or a line in a local file.

The transport is chosen by settings (DESIGN.md, "Integration with the credit platform"):
``OUTBOX_ENDPOINT`` set → :class:`HttpTransport`; empty → :class:`FileSink` at ``OUTBOX_FILE_SINK``, so a
fresh installation records what it would have sent without needing the city platform.

Delivery is at-least-once (a worker can die after the POST and before recording it): receivers deduplicate
on ``X-Casework-Event-Id`` (the same value as ``id`` in the body and in each file-sink line).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

from cases.models import OutboxEvent

SIGNATURE_HEADER = "X-Casework-Signature"
TIMESTAMP_HEADER = "X-Casework-Timestamp"
EVENT_ID_HEADER = "X-Casework-Event-Id"

# Enough of a failing response to diagnose it on the staff page without storing whole error pages.
_ERROR_EXCERPT = 500


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    response_code: int | None = None
    error: str = ""


class Transport(Protocol):
    def send(self, event: OutboxEvent) -> DeliveryResult: ...


def event_document(event: OutboxEvent) -> dict:
    """What the platform receives for one event: stable keys, the business payload untouched."""
    return {
        "id": event.pk,
        "topic": event.topic,
        "dedupe_key": event.dedupe_key,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "created_at": event.created_at,
        "payload": event.payload,
    }


def event_body(event: OutboxEvent) -> bytes:
    # sort_keys + compact separators: the same event always serialises to the same bytes.
    return json.dumps(
        event_document(event), cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body).

    The timestamp is inside the signed text so a receiver can refuse replays older than its tolerance.
    """
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_request(url: str, secret: str, body: bytes, event_id: str, headers=None) -> urllib.request.Request:
    """A POST of the JSON ``body`` signed as the receivers check it: the signing time and the signature (see
    :func:`sign`), and ``event_id``, the key a receiver deduplicates a retried delivery on."""
    timestamp = str(int(time.time()))
    return urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            **(headers or {}),
            EVENT_ID_HEADER: event_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """The receiving side's check (used by tests; documents the scheme for the platform's developers)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


class FileSink:
    """Appends one JSON line per event to a local file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def send(self, event: OutboxEvent) -> DeliveryResult:
        return self.append(event_body(event))

    def append(self, body: bytes) -> DeliveryResult:
        line = body + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                # Several qcluster workers (or hosts sharing a volume) may append at once: the lock keeps
                # lines whole, one write call keeps a crash from leaving half a line, and fsync means
                # "delivered" is only recorded once the line is on disk.
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    written = os.write(fd, line)
                    if written != len(line):
                        raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
                    os.fsync(fd)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        except OSError as exc:
            return DeliveryResult(delivered=False, error=f"file sink: {exc}")
        return DeliveryResult(delivered=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would re-send the body somewhere the operator never configured (or as a GET without it):
    treat it as a failure to look into instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpTransport:
    """POSTs the event as JSON, signed with the shared secret; any 2xx answer means delivered."""

    def __init__(self, url: str, secret: str, timeout: float):
        if not secret:
            raise ImproperlyConfigured("OUTBOX_ENDPOINT is set but OUTBOX_HMAC_SECRET is empty")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def send(self, event: OutboxEvent) -> DeliveryResult:
        request = signed_request(
            self.url, self.secret, event_body(event), str(event.pk), {"User-Agent": "credit-casework-outbox/1"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                code = response.status
                excerpt = response.read(_ERROR_EXCERPT)
        except urllib.error.HTTPError as exc:
            # 3xx (redirects refused above), 4xx and 5xx land here.
            try:
                excerpt = exc.read(_ERROR_EXCERPT)
            except OSError:
                excerpt = b""
            return DeliveryResult(
                delivered=False, response_code=exc.code, error=_describe(f"HTTP {exc.code} {exc.reason}", excerpt)
            )
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # Refused connection, DNS failure, timeout, TLS error, malformed URL.
            reason = getattr(exc, "reason", exc)
            return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {reason}")
        if 200 <= code < 300:
            return DeliveryResult(delivered=True, response_code=code)
        return DeliveryResult(delivered=False, response_code=code, error=_describe(f"HTTP {code}", excerpt))


def _describe(head: str, excerpt: bytes) -> str:
    text = excerpt.decode("utf-8", errors="replace").strip()
    return f"{head}: {text}" if text else head


def get_transport(channel: str = OutboxEvent.Channel.PLATFORM) -> Transport:
    """The transport the settings ask for, built fresh so tests and reconfigured workers see changes."""
    if channel != OutboxEvent.Channel.PLATFORM:
        # A person's e-mail and SMS copies (cases.services.message_channels).
        from cases.services.message_channels import get_message_transport

        return get_message_transport(channel)
    if settings.OUTBOX_ENDPOINT:
        return HttpTransport(settings.OUTBOX_ENDPOINT, settings.OUTBOX_HMAC_SECRET, settings.OUTBOX_HTTP_TIMEOUT)
    return FileSink(settings.OUTBOX_FILE_SINK)
