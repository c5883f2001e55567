"""What every API view shares: Chinese-first messages, a request size limit per endpoint, the
``Idempotency-Key`` on every POST, and one audit row per call naming the client."""

from __future__ import annotations

import hashlib
import json
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.auth import client_of
from cases.api.parsers import LimitedJSONParser
from cases.api.problems import Problem, serializer_problem
from cases.models import IdempotencyRecord
from cases.services.api_clients import api_call_audit

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, like Stripe's keys and UUIDs


class ApiView(APIView):
    """Base of every v1 view. ``required_scopes``: method → scope (absent: public)."""

    required_scopes: dict[str, str] = {}
    parser_classes = [LimitedJSONParser]
    max_body_bytes = 64 * 1024
    is_public = False

    def initial(self, request, *args, **kwargs):
        # The API answers in Chinese and English at once (problem details); domain code runs in Chinese, the
        # source language, so messages are their own msgids.
        translation.activate("zh-hans")
        super().initial(request, *args, **kwargs)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise Problem(
                413,
                _("请求体超过该接口的大小上限（%(limit)s 字节）。"),
                params={"limit": self.max_body_bytes},
                code="too_large",
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        client = client_of(request)
        if client is not None:
            api_call_audit(
                client=client,
                method=request.method,
                path=request.get_full_path(),
                status=response.status_code,
                idempotency_key=request.META.get("HTTP_IDEMPOTENCY_KEY", ""),
            )
        return response

    # --- validation in both languages ----------------------------------------------------------------------

    def validated(self, serializer_class, data, **context):
        serializer = serializer_class(data=data, context={"request": self.request, **context})
        if serializer.is_valid():
            return serializer.validated_data
        zh = serializer.errors
        with translation.override("en"):
            again = serializer_class(data=data, context={"request": self.request, **context})
            again.is_valid()
            en = again.errors
        raise serializer_problem(zh, en)

    # --- idempotent POST -----------------------------------------------------------------------------------

    def idempotent(self, request, create) -> Response:
        """Run ``create()`` once per Idempotency-Key: the object and the stored answer commit together, and a
        retry (or a concurrent duplicate, which waits on the unique key) gets the first answer back."""
        client = client_of(request)
        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "")
        if client is None:
            return create()
        if not _KEY_RE.match(key):
            raise Problem(
                428,
                _("每个 POST 请求都须带 Idempotency-Key 请求头（1至255个可见ASCII字符，建议用UUID）。"),
                code="idempotency_key_required",
                errors=[("Idempotency-Key", *_bilingual_required())],
            )
        self.parsed_body = request.data  # parse now: the parser records the body's digest
        fingerprint = hashlib.sha256(
            f"{request.method} {request.path}\n{getattr(request, 'body_sha256', '')}".encode()
        ).hexdigest()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        client=client,
                        key=key,
                        method=request.method,
                        path=request.path[:300],
                        fingerprint=fingerprint,
                        status_code=0,
                        body={},
                    )
            except IntegrityError:
                record = None
            if record is None:
                first = IdempotencyRecord.objects.get(client=client, key=key)
                if first.fingerprint != fingerprint:
                    raise Problem(
                        422,
                        _("该 Idempotency-Key 已用于另一个不同的请求，请为新请求使用新的键。"),
                        code="idempotency_key_reused",
                        errors=[("Idempotency-Key", *_bilingual_reused())],
                    )
                return Response(first.body, status=first.status_code, headers={"Idempotent-Replayed": "true"})
            response = create()
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            record.save(update_fields=["status_code", "body"])
            return response


def _bilingual_required():
    from cases.api.problems import both

    return both(_("请提供 Idempotency-Key 请求头。"))


def _bilingual_reused():
    from cases.api.problems import both

    return both(_("同一个键不能用于内容不同的请求。"))
