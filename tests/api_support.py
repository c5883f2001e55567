"""Fixtures for the REST API tests: one key per client kind and scope, issued through the real service."""

import uuid

import pytest
from django.core.cache import cache

from cases.models import ApiScope
from cases.services.api_clients import api_client_issue

DEPARTMENT_SCOPES = [ApiScope.RECORDS_READ, ApiScope.RECORDS_WRITE, ApiScope.CASES_READ, ApiScope.COMMITMENTS_WRITE]
PLATFORM_SCOPES = [ApiScope.RECORDS_READ, ApiScope.CASES_READ, ApiScope.EVENTS_READ, ApiScope.WEBHOOKS]


def issue(administrator, organisation, scopes, **kwargs):
    client, key = api_client_issue(
        actor=administrator, organisation=organisation, name="业务系统", scopes=scopes, **kwargs
    )
    return client, key


def auth(key: str, idempotency_key: str | None = None) -> dict:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return headers


def new_key() -> str:
    return str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dept_key(administrator, market_bureau, rule_sets):
    return issue(administrator, market_bureau, DEPARTMENT_SCOPES)[1]


@pytest.fixture
def other_dept_key(administrator, tax_bureau, rule_sets):
    return issue(administrator, tax_bureau, DEPARTMENT_SCOPES)[1]


@pytest.fixture
def platform_key(administrator, credit_centre):
    return issue(administrator, credit_centre, PLATFORM_SCOPES)[1]
