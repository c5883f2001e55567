"""Typed environment helpers that fail loudly on bad values (STYLE.md 8)."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int_range(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """An integer that must lie in [minimum, maximum]: a negative timeout or a zero limit is a typo, not a choice."""
    value = env_int(name, default)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and {maximum}"
        raise ImproperlyConfigured(f"{name}={value} must be between {minimum}{upper}")
    return value


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return value


def env_url(name: str, schemes: tuple[str, ...], default: str = "") -> str:
    """A URL whose scheme is one of ``schemes`` (empty = not configured); anything else is refused at start-up."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return ""
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name}={raw!r} must start with {' or '.join(s + '://' for s in schemes)}")
    return raw


def env_required(name: str, *, reason: str) -> str:
    """A value production cannot run without: refuse to start rather than fall back to a default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        raise ImproperlyConfigured(f"{name} must be set: {reason}")
    return raw


def env_signed_endpoint(url_name: str, secret_name: str, *, what: str) -> tuple[str, str]:
    """An HTTP endpoint the site POSTs to and the shared secret its requests are signed with (HMAC-SHA256): an
    endpoint without its secret is refused at start rather than sent unsigned requests."""
    url, secret = env_str(url_name, ""), env_str(secret_name, "")
    if url and not secret:
        raise ImproperlyConfigured(f"{url_name} is set but {secret_name} is empty: {what} must be signed")
    return url, secret
