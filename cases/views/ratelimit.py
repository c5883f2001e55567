"""A fixed-window counter per client address on the shared cache (Redis at scale: every web node counts the
same hits; DESIGN.md, "Running at scale")."""

from __future__ import annotations

import time

from axes.helpers import get_client_ip_address
from django.core.cache import cache


def client_address(request) -> str:
    # django-axes' reading of the address honours TRUSTED_PROXY_COUNT, like the login lockout.
    return get_client_ip_address(request) or "unknown"


def over_limit(*, scope: str, request, limit: int, window_seconds: int) -> bool:
    """Count one hit for this address; True once it has made more than ``limit`` in the current window."""
    window = int(time.time()) // window_seconds
    key = f"ratelimit:{scope}:{client_address(request)}:{window}"
    # add() then incr(): atomic on Redis and on the local-memory cache alike, so concurrent hits all count.
    cache.add(key, 0, timeout=window_seconds + 5)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window_seconds + 5)
        hits = 1
    return hits > limit
