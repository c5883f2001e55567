"""Errors as RFC 9457 ``application/problem+json``, in Chinese (``detail``) and English (``detail_en``), with
the field each error belongs to.

Chinese is the source language: every message is its own msgid, so the English text is the catalogue's
translation of the Chinese one, whether the message was built lazily or already formatted.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Titles by status: short, fixed, bilingual.
TITLES = {
    400: _("请求有误"),
    401: _("缺少或无效的接口密钥"),
    403: _("没有权限"),
    404: _("未找到"),
    405: _("不支持该请求方法"),
    406: _("无法提供所要求的格式"),
    409: _("请求冲突"),
    413: _("请求体过大"),
    415: _("不支持的请求格式"),
    422: _("无法办理"),
    428: _("缺少幂等键"),
    429: _("请求过于频繁"),
}


def both(message, params: dict | None = None) -> tuple[str, str]:
    """(Chinese, English) of a message, formatting ``params`` in each language."""
    with translation.override("zh-hans"):
        zh_template = str(message)
        zh_params = {k: str(v) for k, v in (params or {}).items()}
        zh = zh_template % zh_params if params else zh_template
    with translation.override("en"):
        en_params = {k: gettext(str(v)) if isinstance(v, str) else str(v) for k, v in zh_params.items()}
        en_template = gettext(zh_template)
        en = en_template % en_params if params else en_template
    return zh, en


class Problem(exceptions.APIException):
    """An error answered as problem+json. ``errors``: [(field, Chinese, English)]."""

    def __init__(self, status_code: int, message, *, params=None, code: str = "", errors=None, headers=None):
        self.status_code = status_code
        self.zh, self.en = both(message, params)
        self.code = code or "error"
        self.errors = errors or []
        self.headers = headers or {}
        super().__init__(self.zh, self.code)


def _django_errors(exc: DjangoValidationError, prefix: str = "") -> list[tuple[str, str, str]]:
    out = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = "" if field == "__all__" else field
            for e in errors:
                out.append((prefix + name if name else prefix.rstrip("."), *both(e.message, e.params)))
    else:
        for e in exc.error_list:
            out.append((prefix.rstrip("."), *both(e.message, e.params)))
    return out


def from_validation_error(exc: DjangoValidationError, *, status_code: int = 422, prefix: str = "") -> Problem:
    """A service's refusal (a rule of law or of the case's state) as a 422 with every message."""
    errors = _django_errors(exc, prefix)
    first = errors[0] if errors else ("", *both(_("请求无法办理。")))
    problem = Problem(status_code, first[1], code=getattr(exc, "code", None) or "refused", errors=errors)
    problem.zh, problem.en = first[1], first[2]
    return problem


def _flatten(errors, path: str = "") -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            out += _flatten(value, f"{path}.{name}" if path and name else (name or path))
        return out
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [(path, str(e)) for e in errors]
        out = []
        for i, value in enumerate(errors):
            if value:
                out += _flatten(value, f"{path}[{i}]")
        return out
    return [(path, str(errors))]


def serializer_problem(zh_errors, en_errors) -> Problem:
    zh = _flatten(zh_errors)
    en = _flatten(en_errors)
    if len(en) != len(zh):
        en = [(f, translation_of(m)) for f, m in zh]
    errors = [(f, z, e) for (f, z), (_f, e) in zip(zh, en, strict=True)]
    problem = Problem(400, _("请求内容有误，请按字段说明修改。"), code="invalid", errors=errors)
    return problem


def translation_of(zh: str) -> str:
    with translation.override("en"):
        return gettext(zh)


# DRF's own exceptions, by class: our fixed bilingual messages.
_MESSAGES = {
    exceptions.NotAuthenticated: (401, _("请在 Authorization 头中以 Bearer 方式提供接口密钥。"), "not_authenticated"),
    exceptions.AuthenticationFailed: (401, _("接口密钥无效、已过期或已吊销。"), "authentication_failed"),
    exceptions.NotFound: (404, _("未找到该对象，或该对象不属于本机构。"), "not_found"),
    exceptions.MethodNotAllowed: (405, _("该地址不支持此请求方法。"), "method_not_allowed"),
    exceptions.NotAcceptable: (406, _("只能返回 JSON 格式。"), "not_acceptable"),
    exceptions.UnsupportedMediaType: (415, _("不支持该请求体格式。"), "unsupported_media_type"),
    exceptions.ParseError: (400, _("请求体不是有效的 JSON。"), "parse_error"),
}


def problem_response(problem: Problem, *, instance: str = "") -> Response:
    body = {
        "type": f"urn:casework:problem:{problem.code}",
        "title": both(TITLES.get(problem.status_code, _("请求有误")))[0],
        "status": problem.status_code,
        "detail": problem.zh,
        "detail_en": problem.en,
        "instance": instance,
        "errors": [{"field": f, "detail": z, "detail_en": e} for f, z, e in problem.errors],
    }
    response = Response(body, status=problem.status_code, headers=problem.headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def to_problem(exc) -> Problem | None:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        message = exc.args[0] if exc.args and exc.args[0] else _("没有进行此操作的权限。")
        return Problem(403, message, code="permission_denied")
    if isinstance(exc, DjangoValidationError):
        return from_validation_error(exc)
    if isinstance(exc, RequestDataTooBig):
        return Problem(413, _("请求体超过该接口的大小上限。"), code="too_large")
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return Problem(
            429,
            _("请求过于频繁，请在 %(seconds)s 秒后重试。"),
            params={"seconds": wait},
            code="throttled",
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return Problem(
            403, exc.detail if isinstance(exc.detail, str) else _("没有进行此操作的权限。"), code="forbidden"
        )
    for cls, (status_code, message, code) in _MESSAGES.items():
        if isinstance(exc, cls):
            headers = {}
            if status_code == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="casework"'
            return Problem(status_code, message, code=code, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        return serializer_problem(exc.detail, exc.detail)
    if isinstance(exc, exceptions.APIException):
        return Problem(exc.status_code, _("请求有误"), code=exc.default_code)
    return None


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: everything the API refuses, as problem+json."""
    problem = to_problem(exc)
    if problem is None:
        return None  # a bug: Django's 500 (logged with its traceback)
    request = context.get("request")
    return problem_response(problem, instance=request.path if request is not None else "")


__all__ = ["Problem", "both", "exception_handler", "from_validation_error", "problem_response", "status"]
