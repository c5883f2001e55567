"""Request body parsers with a size limit per endpoint (the view's ``max_body_bytes``), read in chunks, and the
body's SHA-256 kept for the Idempotency-Key check."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers

from cases.api.problems import Problem
from config.input_guard import BadInput, parse_json

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
        return checked_json(data)


def checked_json(data: bytes, *, field: str = ""):
    """JSON with the site's input guard (config/input_guard.py): no over-deep nesting, NUL or lone surrogates,
    which PostgreSQL or the parser could not take."""
    try:
        return parse_json(data)
    except BadInput as exc:
        zh, en = exc.message("zh-hans"), exc.message("en")
        problem = Problem(400, zh, code=exc.code, errors=[(field, zh, en)])
        problem.en = en
        raise problem from exc


class ProblemJSONParser(LimitedJSONParser):
    media_type = "application/problem+json"
