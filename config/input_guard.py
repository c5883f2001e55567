"""Refuses input no form could mean, before any view sees it, with a specific bilingual 400.

PostgreSQL cannot store a NUL character in text, Python cannot encode a lone UTF-16 surrogate to UTF-8, and
the JSON parser recurses once per nesting level: each of these used to reach a view and answer 500. Nobody
types them; the page says precisely what was refused (Chinese first, English below, whatever the language
chosen), and machine clients get the same as JSON.

What a form can judge itself (a wrong type, a too long field with its own limit) stays with the form, which
re-renders with everything typed kept.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

MAX_QUERY_VALUE = 1000  # characters in one query parameter: search boxes, filters, page numbers
MAX_JSON_DEPTH = 100
API_PREFIX = "/api/v1/"

PROBLEMS = {
    "nul": _("内容含有空字符（NUL，\\x00），系统不能保存。"),
    "encoding": _("内容不是有效的UTF-8编码（例如含有不成对的代理字符）。"),
    "surrogate": _("JSON内容含有不成对的Unicode代理字符（如\\ud800），系统不能保存。"),
    "too_long": _("查询参数“%(name)s”过长（不得超过%(limit)d个字符）。"),
    "too_deep": _("JSON内容嵌套过深（不得超过%(limit)d层）。"),
    "bad_json": _("JSON内容格式有误。"),
}


class BadInput(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def message(self, language: str) -> str:
        with translation.override(language):
            text = str(PROBLEMS[self.code])
            return text % self.params if self.params else text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def check_text(value: str, *, json_value: bool = False) -> None:
    if "\x00" in value:
        raise BadInput("nul")
    if json_value and _has_surrogate(value):
        raise BadInput("surrogate")


def json_depth_ok(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Nesting depth of a JSON text without parsing it (the parser would recurse once per level)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def _walk(value) -> None:
    if isinstance(value, str):
        check_text(value, json_value=True)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, json_value=True)
            _walk(item)
    elif isinstance(value, list):
        for item in value:
            _walk(item)


def parse_json(raw: bytes):
    """json.loads for request bodies: refuses over-deep nesting, NUL and lone surrogates (BadInput)."""
    if not json_depth_ok(raw):
        raise BadInput("too_deep", limit=MAX_JSON_DEPTH)
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise BadInput("bad_json") from None
    _walk(value)
    return value


def _check_encoded(raw: str | bytes) -> None:
    data = raw.encode("latin-1") if isinstance(raw, str) else raw
    for part in data.split(b"&"):
        try:
            unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("encoding") from None


def check_request(request) -> None:
    query = request.META.get("QUERY_STRING", "")
    if query:
        _check_encoded(query)
        for name, values in request.GET.lists():
            check_text(name)
            for value in values:
                check_text(value)
                if len(value) > MAX_QUERY_VALUE:
                    raise BadInput("too_long", name=name[:40], limit=MAX_QUERY_VALUE)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.path.startswith(API_PREFIX):
        # The REST API reads bodies itself, in chunks and under each endpoint's own size limit (a bulk import
        # is far over DATA_UPLOAD_MAX_MEMORY_SIZE), with these same checks (cases/api/parsers.py).
        return
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data") or content_type.startswith("application/x-www-form-urlencoded"):
        if content_type.startswith("application/x-www-form-urlencoded"):
            _check_encoded(request.body)
        for name, values in request.POST.lists():
            check_text(name)
            for value in values:
                check_text(value)
        return
    body = request.body
    if body.lstrip()[:1] in (b"{", b"["):
        parse_json(body)


def refusal(request, error: BadInput):
    zh, en = error.message("zh-hans"), error.message("en")
    if request.path.startswith(API_PREFIX):
        # RFC 9457, like every other refusal of the API (cases/api/problems.py).
        return JsonResponse(
            {
                "type": f"urn:casework:problem:{error.code}",
                "title": "请求有误",
                "status": 400,
                "detail": zh,
                "detail_en": en,
                "instance": request.path,
                "errors": [],
            },
            status=400,
            content_type="application/problem+json",
            json_dumps_params={"ensure_ascii": False},
        )
    wants_json = request.path.startswith("/api/") or "json" in request.META.get("CONTENT_TYPE", "")
    if wants_json:
        return JsonResponse(
            {"error": f"{zh} / {en}", "error_zh": zh, "error_en": en, "code": error.code},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    html = render_to_string("bad_input.html", {"zh": zh, "en": en})
    return HttpResponse(html, status=400)


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except BadInput as error:
            return refusal(request, error)
        return self.get_response(request)
