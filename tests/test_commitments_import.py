# ruff: noqa: F811  (pytest fixtures imported from tests.commitment_helpers)
"""Bulk registration of commitments: files of 10,000 rows, per-row errors, all or nothing; the JSON API with
hashed bearer tokens (PROCEDURES.md §3: "departments register commitments in bulk (file import and API)")."""

import csv
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Commitment, CommitmentImport, OutboxEvent, Severity, Subject
from cases.services.commitment import bulk_import as imp
from tests.commitment_helpers import matter, storage, travel  # noqa: F401
from tests.factories import CreditRecordFactory, make_id_number, make_uscc

HEADER = imp.TEMPLATE_HEADERS


def good_rows(n, code="food-licence"):
    rows = []
    for i in range(n):
        if i % 10 == 9:
            rows.append([f"个体户{i}", make_id_number(), code, f"经营者{i}", "本人", "2026-07-01", "", "", f"R{i}"])
        else:
            rows.append(
                [
                    f"企业{i}有限公司",
                    make_uscc(),
                    code,
                    f"代表{i}",
                    "法定代表人",
                    "2026-07-01",
                    "2026-07-02",
                    f"郑市监许〔2026〕{i}号",
                    f"R{i}",
                ]
            )
    return rows


def as_csv(rows, header=HEADER) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile("commitments.csv", out.getvalue().encode("utf-8-sig"), content_type="text/csv")


def run(handler, market_bureau, upload):
    return imp.commitments_import(
        actor=handler, department=market_bureau, raw_rows=imp.read_rows(upload), source="file", filename=upload.name
    )


def test_ten_thousand_rows_with_some_bad_ones_write_nothing_and_name_every_error(
    travel, storage, handler, market_bureau, matter
):
    rows = good_rows(10_000)
    rows[10][1] = rows[10][1][:17] + ("0" if rows[10][1][17] != "0" else "1")  # wrong check character
    rows[2000][2] = "no-such-matter"
    rows[5000][5] = "2026-13-01"
    rows[7000][4] = "本人"  # an enterprise cannot sign as itself
    rows[9000] = list(rows[8000])  # the same commitment twice
    with pytest.raises(imp.ImportRefused) as exc:
        run(handler, market_bureau, as_csv(rows))
    errors = exc.value.row_errors
    by_row = {e.row: e for e in errors}
    # Line numbers as the department sees the file: the header is line 1.
    assert set(by_row) == {12, 2002, 5002, 7002, 9002}, [e for e in errors if e.row not in (12, 2002, 5002, 7002, 9002)]
    assert by_row[12].column == "统一社会信用代码/身份证号" and "校验码" in by_row[12].message
    assert "no-such-matter" in by_row[2002].message
    assert by_row[5002].column == "签署日期"
    assert by_row[9002].message == "与第8002行重复"
    assert not Commitment.objects.exists() and not CommitmentImport.objects.exists()
    assert not Subject.objects.filter(name__startswith="企业").exists()
    assert not OutboxEvent.objects.exists()


def test_a_clean_file_is_imported_whole_and_reported_in_chunks(travel, storage, handler, market_bureau, matter):
    result = run(handler, market_bureau, as_csv(good_rows(2500)))
    assert result.created == 2500 and result.subjects_created == 2500
    assert Commitment.objects.filter(import_batch=result.batch, channel="imported").count() == 2500
    c = Commitment.objects.filter(import_batch=result.batch).select_related("subject").first()
    assert c.subject.name in c.text and c.text_sha256 == Commitment.hash_text(c.text)
    events = OutboxEvent.objects.filter(topic="commitment.batch")
    assert events.count() == 3 and all(e.clock.budget == 7 for e in events)
    assert sum(len(e.payload["commitments"]) for e in events) == 2500
    # Persons are reported without their ID number.
    person_rows = [r for e in events for r in e.payload["commitments"] if r[1].startswith("个体户")]
    assert person_rows and all(r[2] == "" for r in person_rows)


def test_importing_the_same_file_again_creates_nothing_new(travel, storage, handler, market_bureau, matter):
    from cases.models import AuditEvent
    from workflows.models import Clock

    rows = good_rows(30)
    first = run(handler, market_bureau, as_csv(rows))
    assert (first.created, first.duplicates) == (30, 0)
    counts = (
        Commitment.objects.count(),
        Subject.objects.count(),
        CommitmentImport.objects.count(),
        OutboxEvent.objects.count(),
        Clock.objects.count(),
        AuditEvent.objects.count(),
    )
    again = run(handler, market_bureau, as_csv(rows))
    assert (again.batch, again.created, again.subjects_created, again.events, again.duplicates) == (None, 0, 0, 0, 30)
    assert (
        Commitment.objects.count(),
        Subject.objects.count(),
        CommitmentImport.objects.count(),
        OutboxEvent.objects.count(),
        Clock.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    # A file that repeats some rows and adds others: only the new ones are written, in a batch of their own,
    # reported to the platform and audited with the count of rows skipped.
    more = good_rows(5)
    mixed = run(handler, market_bureau, as_csv(rows[:10] + more))
    assert (mixed.created, mixed.subjects_created, mixed.duplicates) == (5, 5, 10)
    assert mixed.batch.rows == 5 and Commitment.objects.filter(import_batch=mixed.batch).count() == 5
    payload_ids = [
        r[0] for e in OutboxEvent.objects.filter(aggregate_id=str(mixed.batch.pk)) for r in e.payload["commitments"]
    ]
    assert sorted(payload_ids) == sorted(
        Commitment.objects.filter(import_batch=mixed.batch).values_list("pk", flat=True)
    )
    audit = AuditEvent.objects.filter(action="commitment.imported").order_by("-pk").first()
    assert audit.data["duplicates_skipped"] == 10
    # The same commitment from another source case is another commitment.
    other = [list(rows[0])]
    other[0][8] = "R-other"
    assert run(handler, market_bureau, as_csv(other)).created == 1


def test_the_database_refuses_an_imported_commitment_twice(travel, storage, handler, market_bureau, matter):
    from django.db import IntegrityError, transaction

    result = run(handler, market_bureau, as_csv(good_rows(1)))
    c = Commitment.objects.get(import_batch=result.batch)
    copy = Commitment(
        **{f.attname: getattr(c, f.attname) for f in Commitment._meta.concrete_fields if f.attname not in ("id",)}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.bulk_create([copy])


def test_xlsx_files_are_read_too(travel, storage, handler, market_bureau, matter):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in good_rows(20):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("c.xlsx", buf.getvalue())
    assert run(handler, market_bureau, upload).created == 20


def test_a_subject_with_a_serious_record_is_refused_in_bulk_too(
    travel, storage, handler, market_bureau, matter, enterprise
):
    CreditRecordFactory(subject=enterprise, provider=market_bureau, severity=Severity.SERIOUS)
    rows = good_rows(3)
    rows[1][1] = enterprise.uscc
    with pytest.raises(imp.ImportRefused) as exc:
        run(handler, market_bureau, as_csv(rows))
    assert [e.row for e in exc.value.row_errors] == [3]
    assert "严重失信" in exc.value.row_errors[0].message


def test_only_the_departments_own_staff_import(travel, storage, other_handler, supervisor, market_bureau, matter):
    for user in (other_handler, supervisor):
        with pytest.raises(PermissionDenied):
            run(user, market_bureau, as_csv(good_rows(2)))


def test_a_file_missing_a_column_is_refused_before_any_row(travel, storage, handler, market_bureau, matter):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        imp.read_rows(as_csv([["a"]], header=["主体名称"]))
    assert "统一社会信用代码/身份证号" in exc.value.messages[0]


# --- the JSON API -------------------------------------------------------------------------------------------


def api_rows(n):
    keys = list(imp.COLUMNS)
    return [dict(zip(keys, row, strict=True)) for row in good_rows(n)]


def test_the_api_takes_a_key_stored_only_as_a_hash(travel, storage, client, administrator, market_bureau, matter):
    from cases.services.api_clients import api_client_issue, api_client_revoke

    api_client, secret = api_client_issue(
        actor=administrator, organisation=market_bureau, name="审批系统", scopes=["commitments:write"]
    )
    assert secret.split("_")[2] not in api_client.secret_sha256 and len(api_client.secret_sha256) == 64
    url = reverse("api_commitment_imports")
    body = json.dumps({"commitments": api_rows(5)})

    def post(body, key, idem):
        return client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY=idem
        )

    assert client.post(url, body, content_type="application/json").status_code == 401
    wrong = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    assert post(body, wrong, "k1").status_code == 401
    response = post(body, secret, "k1")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 5
    assert Commitment.objects.filter(channel="api").count() == 5
    assert CommitmentImport.objects.get().api_client == api_client
    # Bad rows: 422 with every error, nothing written.
    bad = api_rows(3)
    bad[1]["identifier"] = "123"
    response = post(json.dumps({"commitments": bad}), secret, "k2")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "commitments[1].identifier"
    assert Commitment.objects.count() == 5
    api_client_revoke(actor=administrator, client=api_client)
    assert post(body, secret, "k3").status_code == 401
