# ruff: noqa: F811  (pytest fixtures imported from tests.commitment_helpers)
"""Commitment pages over HTTP: who may open what, and the public register's masking (Henan Arts 24, 46)."""

import datetime as dt

from django.urls import reverse

from cases.services.commitment import lifecycle as svc
from tests.commitment_helpers import matter, storage, travel  # noqa: F401
from tests.factories import PersonFactory


def test_pages_open_for_the_right_people_only(
    travel, storage, client, applicant, other_applicant, handler, other_handler, enterprise, matter
):
    c = svc.commitment_sign(
        actor=applicant, matter=matter, subject=enterprise, signer_name="张三", capacity="legal_rep"
    )
    v = svc.verification_start(actor=handler, commitment=c)
    detail = reverse("commitment_detail", args=[c.pk])
    check = reverse("commitment_verification", args=[v.pk])
    client.force_login(applicant)
    assert client.get(detail).status_code == 200
    assert client.get(check).status_code == 403
    client.force_login(other_applicant)
    assert client.get(detail).status_code == 404
    client.force_login(other_handler)
    assert client.get(detail).status_code == 404 and client.get(check).status_code == 404
    assert client.post(check, {"outcome": "kept"}).status_code == 404
    client.force_login(handler)
    assert client.get(check).status_code == 200
    assert client.get(reverse("commitment_desk")).status_code == 200
    response = client.post(check, {"outcome": "kept", "finding": ""})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == "kept"


def test_the_public_register_masks_people_and_does_not_find_them_by_name(
    travel, storage, client, handler, market_bureau, matter
):
    person = PersonFactory(name="王小明")
    svc.commitment_register(
        actor=handler,
        matter=matter,
        subject=person,
        signer_name="王小明",
        capacity="self",
        signed_on=dt.date(2026, 7, 1),
    )
    page = client.get(reverse("commitment_register_public")).content.decode()
    assert "王**" in page and "王小明" not in page and person.id_number not in page
    found = client.get(reverse("commitment_register_public"), {"q": "王小明"}).content.decode()
    assert "王**" not in found


def test_administrators_define_matters_in_the_admin_with_an_audit_trail(
    client, administrator, market_bureau, rule_sets
):
    from cases.models import AuditEvent, CommitmentMatter

    client.force_login(administrator)
    response = client.post(
        reverse("admin:cases_commitmentmatter_add"),
        {
            "department": market_bureau.pk,
            "code": "sign",
            "title": "户外招牌",
            "type": "certificate",
            "template": "{subject_name}承诺",
            "verification": "sample",
            "verify_within": 10,
            "verify_unit": "cd",
            "sample_ratio": "0.25",
            "sample_seed": "",
            "follow_documents": "[]",
            "follow_within_wd": 0,
            "breach_severity": "ordinary",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    matter = CommitmentMatter.objects.get(code="sign")
    assert matter.sample_seed  # given one, so the draw can be recomputed
    assert AuditEvent.objects.filter(action="commitment_matter.created", object_id=str(matter.pk)).exists()


def test_the_public_register_pages_without_counting_the_register(
    travel, storage, client, handler, market_bureau, matter, django_assert_max_num_queries
):
    """A register of a million commitments is not counted per visit (issue 15 item 5): the page reads one row
    more than it shows to know whether a next page exists, and says "第 n 页" without the total."""
    from cases.services.commitment import bulk_import as imp
    from cases.views.commitment import PAGE_SIZE
    from tests.test_commitments_import import as_csv, good_rows

    upload = as_csv(good_rows(2 * PAGE_SIZE + 7))
    imp.commitments_import(actor=handler, department=market_bureau, raw_rows=imp.read_rows(upload), source="file")
    url = reverse("commitment_register_public")
    with django_assert_max_num_queries(3):
        first = client.get(url).content.decode()
    assert first.count("<tr") == 1 + PAGE_SIZE  # the header row and one page
    assert "第 1 页" in first and "page=2" in first and "上一页" not in first
    last = client.get(url, {"page": 3}).content.decode()
    assert "第 3 页" in last and "page=2" in last and "page=4" not in last and last.count("<tr") == 1 + 7
    assert client.get(url, {"page": 99}).status_code == 200
    assert client.get(url, {"page": "x"}).status_code == 200
