"""GET /healthz: 200 with every dependency named when all answer, 503 naming the one that does not."""

import datetime as dt
import json

import pytest
from django.core.cache import caches
from django.utils import timezone
from django_q.models import Task

from tests.servers import free_port

pytestmark = pytest.mark.django_db

CHECKS = {"database", "broker", "cache", "storage", "cluster"}


def health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_it_answers_200_naming_every_dependency_without_a_login(client):
    status, body = health(client)

    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["database"]["engine"] == "postgresql"


def test_it_answers_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    try:
        status, body = health(client)
    finally:
        caches["default"].close()

    assert status == 503
    assert body["status"] == "down"
    assert body["checks"]["cache"] == {
        "status": "down",
        "error": "ConnectionError",
        "ms": body["checks"]["cache"]["ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"


def test_it_works_on_a_shared_redis_cache(client, settings):
    import os

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": "casework-test-healthz",
        }
    }
    status, body = health(client)
    assert status == 200, body


def test_the_storage_is_down_when_its_folder_cannot_be_written(client, settings, tmp_path):
    folder = tmp_path / "private"
    folder.mkdir()
    folder.chmod(0o500)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    try:
        status, body = health(client)
    finally:
        folder.chmod(0o700)
    import os

    if os.geteuid() == 0:
        # root writes anywhere: the check cannot fail this way, but it still answers for the folder
        assert body["checks"]["storage"]["status"] == "ok"
    else:
        assert status == 503 and body["checks"]["storage"]["status"] == "down"


def test_the_cluster_is_down_until_one_reports_and_again_when_it_stops(client, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}

    status, body = health(client)
    assert status == 503
    assert body["checks"]["cluster"]["status"] == "down"
    assert body["checks"]["cluster"]["heartbeat_age_seconds"] is None

    now = timezone.now()
    task = Task.objects.create(
        id="a" * 32,
        name="outbox",
        func="cases.tasks.outbox_deliver_task",
        started=now - dt.timedelta(seconds=21),
        stopped=now - dt.timedelta(seconds=20),
        success=True,
        group="outbox-deliver",
    )
    status, body = health(client)
    assert status == 200, body
    assert 19 <= body["checks"]["cluster"]["heartbeat_age_seconds"] < 60

    Task.objects.filter(pk=task.pk).update(stopped=now - dt.timedelta(seconds=settings.HEALTHZ_CLUSTER_MAX_AGE + 5))
    status, body = health(client)
    assert status == 503
    assert body["checks"]["cluster"]["heartbeat_age_seconds"] > settings.HEALTHZ_CLUSTER_MAX_AGE


def test_it_tells_no_personal_data_and_is_never_cached(client, applicant):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert applicant.username not in response.content.decode()
