# ruff: noqa: F811  (pytest fixtures imported from tests.api_support)
"""REST API v1: a department's records through the pages' own services, idempotent retries, problem+json errors
in Chinese and English, keys with scopes, expiry and revocation, audit of every call, the event feed."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import ApiClient, AuditEvent, CreditRecord, IdempotencyRecord, RecordChange
from cases.services.api_clients import api_client_revoke
from tests.api_support import (  # noqa: F401
    DEPARTMENT_SCOPES,
    _fresh_rate_limits,
    auth,
    dept_key,
    issue,
    new_key,
    other_dept_key,
    platform_key,
)
from tests.commitment_helpers import matter, storage, travel  # noqa: F401
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

RECORD = {
    "subject_name": "郑州丙食品有限公司",
    "kind": "admin_penalty",
    "severity": "ordinary",
    "title": "未按规定公示年度报告",
    "decision_number": "郑市监处罚〔2026〕88号",
    "decision_date": "2026-03-05",
    "publication_date": "2026-03-10",
}


def post(client, url, body, key, idem=None):
    return client.post(url, json.dumps(body), content_type="application/json", **auth(key, idem or new_key()))


def test_a_department_creates_and_revokes_a_record_and_a_retry_never_makes_a_second(client, dept_key, market_bureau):
    body = {**RECORD, "subject_code": make_uscc()}
    idem = new_key()
    first = post(client, reverse("api_records"), body, dept_key, idem)
    assert first.status_code == 201, first.content
    again = post(client, reverse("api_records"), body, dept_key, idem)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert CreditRecord.objects.filter(decision_number=RECORD["decision_number"]).count() == 1
    record = CreditRecord.objects.get(pk=first.json()["id"])
    assert record.provider == market_bureau and record.display_max_until is not None  # the service's window

    url = reverse("api_record_revoke", args=[record.pk])
    revoke_key = new_key()
    revoked = post(client, url, {"reason": "行政处罚决定已被依法撤销"}, dept_key, revoke_key)
    assert revoked.status_code == 200 and revoked.json()["display_state"] == "revoked"
    assert post(client, url, {"reason": "行政处罚决定已被依法撤销"}, dept_key, revoke_key).status_code == 200
    # A second, new revocation is refused by the record's state machine, in both languages.
    refused = post(client, url, {"reason": "再次撤销"}, dept_key)
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert "不能撤销" in problem["detail"] and "revoke" in problem["detail_en"].lower()
    assert RecordChange.objects.filter(record=record, field="display_state").count() == 1
    # Every call is audited with the client that made it.
    client_user = ApiClient.objects.get(organisation=market_bureau).user
    calls = AuditEvent.objects.filter(action="api.call", actor=client_user)
    assert calls.count() == 5
    assert AuditEvent.objects.filter(action="record.revoke", actor=client_user).count() == 1


def test_a_key_reused_for_another_request_is_refused(client, dept_key):
    idem = new_key()
    assert (
        post(client, reverse("api_records"), {**RECORD, "subject_code": make_uscc()}, dept_key, idem).status_code == 201
    )
    other = post(client, reverse("api_records"), {**RECORD, "subject_code": make_uscc()}, dept_key, idem)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert IdempotencyRecord.objects.count() == 1


def test_a_post_without_an_idempotency_key_is_refused(client, dept_key):
    response = client.post(
        reverse("api_records"), json.dumps(RECORD), content_type="application/json", **auth(dept_key)
    )
    assert response.status_code == 428 and response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_field_errors_name_the_field_in_chinese_and_english(client, dept_key):
    body = {**RECORD, "subject_code": "91410100MA00000000", "decision_date": "not a date"}
    del body["title"]
    response = post(client, reverse("api_records"), body, dept_key)
    assert response.status_code == 400
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert set(errors) == {"title", "decision_date"}
    assert "必填" in errors["title"]["detail"] and "required" in errors["title"]["detail_en"]
    # A wrong 统一社会信用代码 is refused by the subject service with its GB 32100 message.
    bad_code = post(client, reverse("api_records"), {**RECORD, "subject_code": "91410100MA00000000"}, dept_key)
    assert bad_code.status_code == 400 and bad_code.json()["errors"][0]["field"] == "subject_code"


def test_keys_are_hashed_scoped_expire_and_are_revoked(client, administrator, market_bureau, rule_sets):
    reader, key = issue(administrator, market_bureau, ["records:read"])
    assert key.split("_")[2] not in reader.secret_sha256
    assert client.get(reverse("api_records"), **auth(key)).status_code == 200
    forbidden = post(client, reverse("api_records"), {**RECORD, "subject_code": make_uscc()}, key)
    assert forbidden.status_code == 403 and "records:write" in forbidden.json()["detail"]
    assert client.get(reverse("api_records")).status_code == 401
    assert client.get(reverse("api_records"), **auth(key[:-2] + "xx")).status_code == 401
    ApiClient.objects.filter(pk=reader.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(reverse("api_records"), **auth(key)).status_code == 401
    _c, key2 = issue(administrator, market_bureau, ["records:read"])
    api_client_revoke(actor=administrator, client=_c)
    assert client.get(reverse("api_records"), **auth(key2)).status_code == 401


def test_another_departments_record_is_not_found(client, dept_key, other_record):
    assert client.get(reverse("api_record", args=[other_record.pk]), **auth(dept_key)).status_code == 404
    url = reverse("api_record_revoke", args=[other_record.pk])
    assert post(client, url, {"reason": "x"}, dept_key).status_code == 404
    assert CreditRecord.objects.get(pk=other_record.pk).display_state == "displayed"


def test_commitments_import_by_ndjson_is_all_or_nothing_and_idempotent(client, dept_key, matter, travel, storage):
    from tests.test_commitments_import import api_rows

    rows = api_rows(30)
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    url = reverse("api_commitment_imports")
    idem = new_key()
    first = client.post(url, body, content_type="application/x-ndjson", **auth(dept_key, idem))
    assert first.status_code == 201, first.content
    assert first.json()["created"] == 30
    again = client.post(url, body, content_type="application/x-ndjson", **auth(dept_key, idem))
    assert again.json() == first.json()
    from cases.models import Commitment

    assert Commitment.objects.count() == 30
    bad = api_rows(3)
    bad[1]["identifier"] = "123"
    refused = client.post(
        url, json.dumps({"commitments": bad}), content_type="application/json", **auth(dept_key, new_key())
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "commitments[1].identifier"
    assert Commitment.objects.count() == 30


def test_the_event_feed_is_cursor_paginated_for_the_platform_only(client, platform_key, dept_key, record):
    from cases.models import OutboxEvent

    for i in range(5):
        OutboxEvent.objects.create(
            topic="repair.granted",
            dedupe_key=f"t{i}",
            aggregate_type="cases.creditrecord",
            aggregate_id=str(record.pk),
            payload={"i": i},
            next_attempt_at=timezone.now(),
        )
    page = client.get(reverse("api_events") + "?page_size=2", **auth(platform_key)).json()
    seen = [e["payload"]["i"] for e in page["results"]]
    while page["next"]:
        page = client.get(page["next"], **auth(platform_key)).json()
        seen += [e["payload"]["i"] for e in page["results"]]
    assert seen == [0, 1, 2, 3, 4]
    assert client.get(reverse("api_events"), **auth(dept_key)).status_code == 403


def test_request_bodies_over_the_endpoints_limit_are_refused(client, dept_key):
    huge = {**RECORD, "content": "x" * (70 * 1024), "subject_code": make_uscc()}
    response = post(client, reverse("api_records"), huge, dept_key)
    assert response.status_code == 413 and response["Content-Type"] == "application/problem+json"


def test_each_client_has_its_own_rate_limit(client, administrator, market_bureau, rule_sets):
    _c, key = issue(administrator, market_bureau, ["records:read"], rate_per_minute=3)
    answers = [client.get(reverse("api_records"), **auth(key)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    # The refusal says when the client's minute ends (config.ratelimit: the window opened at its first call).
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
