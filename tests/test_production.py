"""Production mode (CASEWORK_ENV=production): it refuses to start half-configured, passes Django's deployment
check with the documented variables, ends idle sessions, logs every 500 with its traceback and shows the
project's own Chinese error pages."""

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

from config.session import LAST_SEEN

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ENV = ROOT / "deploy" / "casework.env.example"


def documented_production_env() -> dict[str, str]:
    """The variables deploy/casework.env.example sets, with a real secret in place of the placeholder."""
    values = {}
    for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Z0-9_]+)=(.*)", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    values["SECRET_KEY"] = secrets.token_urlsafe(64)
    values["AUDIT_HMAC_KEY"] = secrets.token_urlsafe(48)
    return values


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only the basics of this environment: the example file must be complete on its own.
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=180
    )


def test_it_passes_the_deployment_check_with_the_documented_production_variables():
    env = documented_production_env()
    assert env["CASEWORK_ENV"] == "production"
    result = manage("check", "--deploy", **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "security." not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "change, refusal",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "dev-only-insecure-key-change-me"}, "SECRET_KEY must be a random value"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be a random value"),
        ({"AUDIT_HMAC_KEY": ""}, "AUDIT_HMAC_KEY must be set"),
        ({"AUDIT_HMAC_KEY": "casework-demo-audit-key-not-secret"}, "AUDIT_HMAC_KEY must be a random value"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS=* is refused"),
        ({"DEBUG": "1"}, "DEBUG=1 is refused in production"),
        ({"DB_CONN_MAX_AGE": "a minute"}, "DB_CONN_MAX_AGE='a minute' is not an integer"),
        ({"Q_BROKER_URL": "http://127.0.0.1:6379"}, "Q_BROKER_URL='http://127.0.0.1:6379' must start with redis://"),
        ({"STORAGE_URL": "s3://?region_name=x"}, "names no bucket"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS=-1 must be between 0"),
    ],
)
def test_it_refuses_to_start_half_configured(change, refusal):
    env = {**documented_production_env(), **change}
    result = manage("check", **{key: value for key, value in env.items()})

    assert result.returncode != 0
    assert refusal in result.stderr


def test_without_production_mode_the_embedded_defaults_still_start():
    result = manage("check", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr


# --- sessions ---------------------------------------------------------------------------------------------
def idle(client: Client, minutes: int) -> None:
    session = client.session
    session[LAST_SEEN] = int(time.time()) - minutes * 60
    session.save()


@pytest.mark.django_db
def test_an_officers_session_ends_after_30_idle_minutes(client, handler):
    client.force_login(handler)
    assert client.get("/desk/").status_code == 200
    idle(client, 29)
    assert client.get("/desk/").status_code == 200
    idle(client, 31)
    response = client.get("/desk/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/desk/")
    page = client.get(response["Location"]).content.decode()
    assert "已自动退出" in page
    assert client.get("/desk/").status_code == 302  # signed out, not just redirected once


@pytest.mark.django_db
def test_an_applicants_session_lasts_two_idle_hours(client, applicant):
    client.force_login(applicant)
    assert client.get("/records/").status_code == 200
    idle(client, 119)
    assert client.get("/records/").status_code == 200
    idle(client, 121)
    assert client.get("/records/").status_code == 302


# --- error pages and logs ---------------------------------------------------------------------------------
class Boom(Exception):
    pass


def explode(request):
    raise Boom("a bug in a view")


urlpatterns = [path("explode/", explode)]


@pytest.mark.urls("tests.test_production")
@pytest.mark.django_db
def test_a_500_shows_our_chinese_page_and_leaves_its_traceback_in_the_log(capfd):
    client = Client(raise_request_exception=False)
    response = client.get("/explode/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "系统繁忙" in page and "Traceback" not in page and "Boom" not in page
    out = capfd.readouterr().out
    assert "django.request" in out and "Internal Server Error: /explode/" in out
    assert "Traceback (most recent call last)" in out and "Boom: a bug in a view" in out


@pytest.mark.django_db
def test_404_and_403_are_our_chinese_pages(client, applicant):
    assert "页面不存在" in client.get("/no-such-page/").content.decode()
    client.force_login(applicant)
    response = client.get("/supervision/")
    assert response.status_code in (403, 404)
    assert ("无权操作" if response.status_code == 403 else "页面不存在") in response.content.decode()


@pytest.mark.django_db
def test_a_request_for_an_unknown_host_gets_our_400_page_not_a_librarys():
    response = Client(HTTP_HOST="elsewhere.example.com").get("/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求无效" in page and "Material" not in page


def test_the_json_log_line_carries_the_traceback():
    import json
    import logging

    from config.logging import LineFormatter

    try:
        raise Boom("kept in the log")
    except Boom:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x/",), sys.exc_info()
        )
    entry = json.loads(LineFormatter(json=True).format(record))

    assert entry["level"] == "ERROR" and entry["logger"] == "django.request"
    assert entry["message"] == "Internal Server Error: /x/"
    assert "Boom: kept in the log" in entry["traceback"]


@pytest.mark.django_db
def test_static_files_are_served_by_the_app_itself(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert b"Credit Casework" in b"".join(response.streaming_content)
