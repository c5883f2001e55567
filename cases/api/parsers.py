"""Request body parsers with a size limit per endpoint (the view's ``max_body_bytes``), read in chunks, and the
body's SHA-256 kept for the Idempotency-Key check."""

from __future__ import annotations

import hashlib
import json

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers

from cases.api.problems import Problem

READ_CHUNK = 64 * 1024


def read_limited(stream, limit: int, request) -> bytes:
    """The body, read in chunks and refused as soon as it passes ``limit`` (whatever Content-Length said)."""
    digest = hashlib.sha256()
    parts, size = [], 0
    while stream is not None:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise Problem(
                413, _("请求体超过该接口的大小上限（%(limit)s 字节）。"), params={"limit": limit}, code="too_large"
            )
        digest.update(chunk)
        parts.append(chunk)
    request.body_sha256 = digest.hexdigest()
    return b"".join(parts)


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        view, request = parser_context["view"], parser_context["request"]
        data = read_limited(stream, view.max_body_bytes, request)
        if not data:
            return {}
        try:
            return json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Problem(400, _("请求体不是有效的 JSON。"), code="parse_error") from exc


class ProblemJSONParser(LimitedJSONParser):
    media_type = "application/problem+json"
