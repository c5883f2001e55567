"""GET /healthz: is this node able to serve? For load balancers and monitoring; no login, no personal data.

200 when the database, the task broker, the cache and the file storage answer and a task cluster has reported
within HEALTHZ_CLUSTER_MAX_AGE seconds; 503 naming what is down otherwise.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def check_broker() -> dict:
    from django_q.brokers import get_broker

    broker = get_broker()
    if broker.ping() is False:
        raise ConnectionError("the broker did not answer")
    return {"kind": "redis" if settings.Q_BROKER_URL else "orm"}


def check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise ConnectionError("a value written to the cache could not be read back")
    cache.delete(key)
    return {"kind": "redis" if settings.REDIS_URL else "local-memory"}


def check_storage() -> dict:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        # HEAD on the bucket: reachable, credentials accepted, bucket exists — without listing or writing.
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return {"kind": "s3"}
    location = Path(default_storage.location)
    location.mkdir(parents=True, exist_ok=True)
    if not os.access(location, os.W_OK):
        raise PermissionError("the storage folder is not writable")
    return {"kind": "local"}


def cluster_heartbeat_age() -> float | None:
    """Seconds since a task cluster last showed life: its own status report (shared over Redis) or, on the ORM
    broker with a per-process cache, the last task any cluster finished (the outbox job runs every minute)."""
    from django_q.models import Task
    from django_q.status import Stat

    moments = []
    try:
        moments += [stat.timestamp for stat in Stat.get_all() if getattr(stat, "timestamp", None)]
    except Exception:  # noqa: BLE001 — no readable stats is not an error, the task table below still answers
        pass
    last_task = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    if last_task:
        moments.append(last_task)
    if not moments:
        return None
    return max(0.0, (timezone.now() - max(moments)).total_seconds())


def check_cluster() -> dict:
    if settings.Q_CLUSTER.get("sync"):
        return {"mode": "sync"}  # tasks run inside the web process: there is no cluster to wait for
    age = cluster_heartbeat_age()
    if age is None:
        return {"status": "down", "heartbeat_age_seconds": None, "error": "no task cluster has reported yet"}
    stale = age > settings.HEALTHZ_CLUSTER_MAX_AGE
    return {"status": "down" if stale else "ok", "heartbeat_age_seconds": round(age, 1)}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
    "storage": check_storage,
    "cluster": check_cluster,
}


def run_check(check: Callable[[], dict]) -> dict:
    started = time.monotonic()
    try:
        result = {"status": "ok", **check()}
    except Exception as exc:  # noqa: BLE001 — any failure of a dependency is "down", reported by its class only
        # The exception's class, never its text: a connection error can carry a URL with a password.
        result = {"status": "down", "error": type(exc).__name__}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


@never_cache
@require_GET
def healthz(request):
    checks = {name: run_check(check) for name, check in CHECKS.items()}
    healthy = all(result["status"] == "ok" for result in checks.values())
    body = {"status": "ok" if healthy else "down", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
