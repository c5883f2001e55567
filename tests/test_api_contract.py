# ruff: noqa: F811  (pytest fixtures imported from tests.api_support)
"""Contract tests of REST API v1 (issue 14 item 4): schemathesis generates requests from the live OpenAPI
schema and every answer must be no 5xx and match the schema (status, content type, headers, body); and every
endpoint refuses another organisation's objects (404) and a key without its scope (403)."""

import json

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.urls import reverse
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from cases.models import ApiScope, OutboxEvent
from cases.services.webhooks import webhook_subscribe
from config.wsgi import application
from tests.api_support import (  # noqa: F401
    _fresh_rate_limits,
    auth,
    dept_key,
    issue,
    new_key,
    other_dept_key,
    platform_key,
)

pytestmark = pytest.mark.django_db(transaction=False)

PLATFORM_PATHS = ("/api/v1/events/", "/api/v1/webhooks/")


@pytest.fixture
def api_schema(db):
    """The live schema, fetched from the application itself; requests go through the whole WSGI stack. As
    Django's test client does, keep the test's database connection open across those requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_schema_is_valid_openapi_3_and_the_docs_are_served_locally(client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "//unpkg" not in docs
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs


CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


@override_settings(API_PUBLIC_RATE="100000/min")
def test_every_operation_answers_within_its_schema(api_schema, dept_key, platform_key, record, other_record):
    """Bounded: a fixed number of generated requests per operation, derandomised (the same run every time)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        run_operation(operation, platform_key if operation.path.startswith(PLATFORM_PATHS) else dept_key)


def run_operation(operation, key):
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

    run()


# --- every endpoint: another organisation's objects are 404, a missing scope is 403 ---------------------


def _operations(client):
    document = client.get("/api/v1/openapi.json").json()
    return [
        (path, method)
        for path, methods in document["paths"].items()
        for method in methods
        if method in ("get", "post", "delete") and "/public/" not in path
    ]


def test_every_endpoint_refuses_a_key_without_its_scope(client, administrator, market_bureau, credit_centre, rule_sets):
    # A key holding every scope but the one the operation needs.
    from cases.api import urls as api_urls

    views = {str(p.pattern): p.callback.view_class for p in api_urls.urlpatterns if hasattr(p.callback, "view_class")}
    checked = 0
    for path, method in _operations(client):
        route = (
            path.removeprefix("/api/v1/")
            .replace("{id}", "<id:pk>")
            .replace("{tracking_number}", "<str:tracking_number>")
        )
        needed = views[route].required_scopes[method.upper()]
        org = credit_centre if needed in (ApiScope.EVENTS_READ, ApiScope.WEBHOOKS) else market_bureau
        from cases.services.api_clients import SCOPES_BY_KIND

        others = sorted(set(SCOPES_BY_KIND[org.kind]) - {needed})
        _client, key = issue(administrator, org, others)
        url = path.replace("{id}", "1").replace("{tracking_number}", "X")
        if method == "post":
            response = client.post(url, "{}", content_type="application/json", **auth(key, new_key()))
        else:
            response = getattr(client, method)(url, **auth(key))
        assert response.status_code == 403, (path, method, response.content)
        assert response["Content-Type"] == "application/problem+json"
        checked += 1
    assert checked >= 13


def test_every_endpoint_with_an_object_refuses_another_organisations(
    client, dept_key, other_dept_key, administrator, tax_bureau, credit_centre, other_record, rule_sets
):
    """The tax bureau's record, case and webhook subscription are not found for the market bureau."""
    from cases.models import RepairApplication  # noqa: F401

    # the tax bureau's objects
    record_id = other_record.pk
    _platform, platform_key_a = issue(administrator, credit_centre, ["webhooks"])
    sub = webhook_subscribe(client=_platform, url="http://127.0.0.1:9/hook", topics=[])
    from cases.models import Organisation

    second_centre = Organisation.objects.create(name="另一信用中心", kind=Organisation.Kind.CREDIT_CENTRE)
    _c2, platform_key_b = issue(administrator, second_centre, ["webhooks"])
    refused = {
        ("get", reverse("api_record", args=[record_id])): dept_key,
        ("post", reverse("api_record_correct", args=[record_id])): dept_key,
        ("post", reverse("api_record_revoke", args=[record_id])): dept_key,
        ("get", reverse("api_webhook", args=[sub.pk])): platform_key_b,
        ("delete", reverse("api_webhook", args=[sub.pk])): platform_key_b,
    }
    for (method, url), key in refused.items():
        if method == "post":
            body = json.dumps({"reason": "更正", "title": "x"})
            response = client.post(url, body, content_type="application/json", **auth(key, new_key()))
        else:
            response = getattr(client, method)(url, **auth(key))
        assert response.status_code == 404, (method, url, response.content)
    # The owner does see them.
    assert client.get(reverse("api_record", args=[record_id]), **auth(other_dept_key)).status_code == 200
    assert client.get(reverse("api_webhook", args=[sub.pk]), **auth(platform_key_a)).status_code == 200
    # Lists never show another organisation's objects.
    listed = client.get(reverse("api_records"), **auth(dept_key)).json()["results"]
    assert record_id not in [r["id"] for r in listed]
    assert client.get(reverse("api_webhooks"), **auth(platform_key_b)).json()["results"] == []
    assert OutboxEvent.objects.count() >= 0
