"""The one rate limiter of the site: a counter per client and scope on the shared cache (Redis at scale, so every
web node counts the same hits; DESIGN.md, "Running at scale"). It serves the public pages (办件查询, notice
verification, registration) by client address and the REST API by key or address (cases.api.auth).

A window opens at a client's first hit and lasts ``window_seconds``: after ``limit`` hits in it, the client is
refused until it ends (the refusal says how long that is).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.core.cache import cache


def client_address(request) -> str:
    # django-axes' reading of the address honours TRUSTED_PROXY_COUNT, like the login lockout: behind nginx the
    # address nginx saw, never one a client wrote into X-Forwarded-For itself.
    return get_client_ip_address(request) or "unknown"


@dataclass(frozen=True)
class Hit:
    over: bool  # more than the limit in the current window: refuse
    retry_after: int  # seconds until the window ends (meaningful when ``over``)


def hit(*, scope: str, who: str, limit: int, window_seconds: int) -> Hit:
    """Count one hit of ``who`` (an address, a key prefix) on ``scope``."""
    key = f"ratelimit:{scope}:{who}"
    # add() then incr(): atomic on Redis and on the local-memory cache alike, so concurrent hits all count;
    # incr() keeps the expiry add() set, so the window ends ``window_seconds`` after its first hit.
    if cache.add(key, 0, timeout=window_seconds):
        cache.set(f"{key}:since", time.time(), timeout=window_seconds)
    try:
        hits = cache.incr(key)
    except ValueError:  # the window ended between add() and incr(): this hit is the next window's first
        return hit(scope=scope, who=who, limit=limit, window_seconds=window_seconds)
    if hits <= limit:
        return Hit(over=False, retry_after=0)
    since = cache.get(f"{key}:since") or time.time()
    return Hit(over=True, retry_after=max(1, math.ceil(since + window_seconds - time.time())))


def over_limit(*, scope: str, request, limit: int, window_seconds: int) -> bool:
    """Count one hit from this request's address; True once it has made more than ``limit`` in its window."""
    return hit(scope=scope, who=client_address(request), limit=limit, window_seconds=window_seconds).over
