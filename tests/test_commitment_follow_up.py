# ruff: noqa: F811 — pytest fixtures imported from tests.commitment_helpers are requested by name
"""容缺受理 (issue 13 item 5): the applicant uploads the documents to follow on the portal against their date;
lateness opens a task (a check) for the department with the consequences the matter defines."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import AuditEvent, Commitment, CommitmentVerification
from cases.models.attachments import Attachment
from cases.services.commitment import follow_up
from cases.services.commitment import lifecycle as svc
from tests.commitment_helpers import make_matter, storage, travel  # noqa: F401
from tests.test_repair_flow import PDF
from workflows.models import Clock

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def tolerance_matter(market_bureau, rule_sets):
    return make_matter(
        market_bureau,
        code="tolerance",
        title="个体工商户登记（容缺受理）",
        type="tolerance",
        follow_documents=["房屋产权证明"],
        follow_within_wd=5,
        follow_late_consequences=["terminate", "revoke_decision"],
    )


@pytest.fixture
def signed(travel, storage, applicant, enterprise, tolerance_matter):
    """Signed Mon 2026-07-06: the documents are due in 5 WD, by Mon 07-13."""
    travel.to(2026, 7, 6)
    return svc.commitment_sign(
        actor=applicant, matter=tolerance_matter, subject=enterprise, signer_name="张三", capacity="legal_rep"
    )


def pdf(name="产权证明.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_the_applicant_sees_the_date_and_uploads_the_documents_on_the_portal(signed, applicant, travel):
    travel.to(2026, 7, 8)
    page = login(applicant).get(f"/commitments/{signed.pk}/").content.decode()
    assert "房屋产权证明" in page and "截止2026-07-13" in page and "剩余3个工作日" in page
    assert "终止办理" in page and "第六十九条" in page  # what lateness brings, with its source
    r = login(applicant).post(f"/commitments/{signed.pk}/follow-up/", {"files": [pdf(), pdf("附件2.pdf")]})
    assert r.status_code == 302
    signed.refresh_from_db()
    assert signed.follow_received_at is not None
    assert Attachment.objects.filter(object_id=signed.pk, purpose="follow_up").count() == 2
    assert AuditEvent.objects.filter(action="commitment.documents_uploaded", object_id=str(signed.pk)).exists()
    assert "已于" in login(applicant).get(f"/commitments/{signed.pk}/").content.decode()
    # In time: the sweep after the date opens nothing.
    travel.to(2026, 7, 20)
    assert follow_up.follow_up_lateness_sweep() == 0


def test_a_file_that_is_not_a_document_is_refused(signed, applicant):
    fake = SimpleUploadedFile("证明.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = login(applicant).post(f"/commitments/{signed.pk}/follow-up/", {"files": [fake]})
    assert r.status_code == 400 and "PDF、JPEG或PNG" in r.content.decode()
    signed.refresh_from_db()
    assert signed.follow_received_at is None


def test_only_the_subjects_people_upload(signed, other_applicant, handler):
    assert login(other_applicant).post(f"/commitments/{signed.pk}/follow-up/", {"files": [pdf()]}).status_code == 404
    r = login(handler).post(f"/commitments/{signed.pk}/follow-up/", {"files": [pdf()]})
    assert r.status_code in (400, 403)
    signed.refresh_from_db()
    assert signed.follow_received_at is None


def test_lateness_opens_one_task_for_the_department_with_the_matters_consequences(signed, travel, handler):
    travel.to(2026, 7, 13, 18, 0)
    assert follow_up.follow_up_lateness_sweep() == 0  # the last day is not over
    travel.to(2026, 7, 14, 1, 0)
    assert follow_up.follow_up_lateness_sweep() == 1
    assert follow_up.follow_up_lateness_sweep() == 0  # once
    v = CommitmentVerification.objects.get(commitment=signed, reason="late_docs")
    # Marked in the same transaction: out of commitment_follow_late_idx, the sweep never reads it again.
    signed.refresh_from_db()
    assert signed.follow_late_opened_at is not None
    assert v.state == "open" and v.handling_organisation == handler.organisation
    assert "终止办理" in v.finding and "撤销已作出的行政决定" in v.finding and "2026-07-13" in v.finding
    clock = Clock.objects.get(object_id=v.pk, purpose="commitment.verify", content_type__model="commitmentverification")
    assert clock.organisation == handler.organisation and clock.kind == "legal"
    # The department finds it on its desk and on the check's page.
    assert login(handler).get(f"/commitments/desk/verifications/{v.pk}/").status_code == 200
    desk = login(handler).get("/commitments/desk/").content.decode()
    assert "个体工商户登记（容缺受理）" in desk
    # Late documents still count as handed in; the department decides on the check.
    signed.refresh_from_db()
    assert signed.status == Commitment.Status.IN_FORCE


def test_the_sweep_is_scheduled(db):
    from io import StringIO

    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=StringIO())
    assert Schedule.objects.filter(
        name="commitment-follow-up-lateness", func="cases.tasks.commitment_follow_up_lateness_task"
    ).exists()


def test_unknown_consequences_are_refused(market_bureau, rule_sets):
    from django.core.exceptions import ValidationError

    matter = make_matter(market_bureau, code="t2", type="tolerance", follow_late_consequences=["fine"])
    with pytest.raises(ValidationError):
        matter.full_clean()
