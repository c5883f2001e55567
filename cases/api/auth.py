"""Who is calling: an API client by its key (``Authorization: Bearer ck_…``), the scope each call needs, and
the per-client rate limit on the shared cache (Redis in production, so every web node counts together)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from cases.api.problems import Problem
from cases.models import ApiClient
from cases.services.api_clients import api_client_authenticate
from config import ratelimit


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise exceptions.AuthenticationFailed()
        client = api_client_authenticate(key.strip())
        if client is None:
            raise exceptions.AuthenticationFailed()
        return client.user, client

    def authenticate_header(self, request):
        return 'Bearer realm="casework"'


def client_of(request) -> ApiClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


class HasScope(permissions.BasePermission):
    """The view names the scope each method needs (``required_scopes``); a key without it gets 403."""

    def has_permission(self, request, view):
        scope = view.required_scopes.get(request.method)
        if scope is None:
            return True  # public
        client = client_of(request)
        if client is None:
            raise exceptions.NotAuthenticated()
        if not client.has_scope(scope):
            raise Problem(
                403, _("该接口密钥没有此操作所需的权限范围：%(scope)s。"), params={"scope": scope}, code="scope_missing"
            )
        return True


class _RateThrottle(throttling.BaseThrottle):
    """DRF's side of the site's one rate limiter (config.ratelimit): who is counted, against what limit."""

    scope = ""

    def limit_for(self, request, view) -> tuple[str, int, int] | None:
        """(who, hits allowed, window in seconds), or None when this throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request, view):
        applies = self.limit_for(request, view)
        if applies is None:
            return True
        who, limit, window_seconds = applies
        self.outcome = ratelimit.hit(scope=f"api-{self.scope}", who=who, limit=limit, window_seconds=window_seconds)
        return not self.outcome.over

    def wait(self):
        return self.outcome.retry_after


class ClientRateThrottle(_RateThrottle):
    """Each client's own budget per minute (ApiClient.rate_per_minute)."""

    scope = "client"

    def limit_for(self, request, view):
        client = client_of(request)
        return None if client is None else (client.prefix, client.rate_per_minute, 60)


class PublicRateThrottle(_RateThrottle):
    """Public endpoints (verification, 办件查询): per address, without a key (DESIGN.md: public traffic)."""

    scope = "public"
    PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def limit_for(self, request, view):
        if not getattr(view, "is_public", False):
            return None
        hits, _slash, period = settings.API_PUBLIC_RATE.partition("/")  # "60/min", DRF's notation
        return ratelimit.client_address(request), int(hits), self.PERIODS[period[0]]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How drf-spectacular documents the key: HTTP bearer."""

    target_class = "cases.api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "ck_<前缀>_<密钥>"}
