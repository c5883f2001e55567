"""The credit-repair procedure end to end at service level (PROCEDURES.md §1)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import CreditRecord, DisplayState, RepairState
from cases.models.attachments import Attachment
from cases.services import repair as svc
from tests.factories import CreditRecordFactory
from workflows import engine

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(name="proof.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def eligible_record(enterprise, market_bureau, rule_sets):
    return CreditRecordFactory(subject=enterprise, provider=market_bureau, decision_date=dt.date(2026, 3, 5),
                               publication_date=dt.date(2026, 3, 10), display_min_until=dt.date(2026, 6, 5),
                               display_max_until=dt.date(2027, 3, 5))


@pytest.fixture
def submitted(applicant, eligible_record):
    app = svc.repair_draft_save(actor=applicant, record=eligible_record, contact_name="赵六",
                                contact_phone="13800000000", statement="已缴清罚款并完成整改。")
    svc.repair_attach(actor=applicant, application=app, purpose=Attachment.Purpose.PROOF, uploaded=upload())
    svc.repair_sign_commitment(actor=applicant, application=app, signer_name="张三", capacity="legal_rep")
    return svc.repair_submit(actor=applicant, application=app)


def assert_task_matches_state(app):
    app.refresh_from_db()
    expected = {
        RepairState.SUBMITTED: "acceptance",
        RepairState.SUPPLEMENTING: "supplement",
        RepairState.ACCEPTED: "review",
        RepairState.PENDING_SIGNOFF: "signoff",
    }.get(app.state)
    assert engine.open_node_name(app) == expected


def test_it_routes_to_the_recording_department_and_approves(submitted, handler, leader, eligible_record):
    app = submitted
    assert app.tracking_number.startswith("XF")
    assert app.handling_organisation == eligible_record.provider
    assert_task_matches_state(app)
    svc.repair_accept(actor=handler, application=app)
    assert_task_matches_state(app)
    svc.repair_propose(actor=handler, application=app, proposal="approve", reason="材料齐全")
    assert_task_matches_state(app)
    svc.repair_signoff(actor=leader, application=app, agree=True)
    app.refresh_from_db()
    assert app.state == RepairState.APPROVED
    assert_task_matches_state(app)
    record = CreditRecord.objects.get(pk=eligible_record.pk)
    assert record.display_state == DisplayState.REPAIRED


def test_other_department_cannot_accept(submitted, other_handler):
    with pytest.raises(PermissionDenied):
        svc.repair_accept(actor=other_handler, application=submitted)


def test_handler_cannot_sign_off(submitted, handler):
    svc.repair_accept(actor=handler, application=submitted)
    svc.repair_propose(actor=handler, application=submitted, proposal="reject", reason="未履行")
    with pytest.raises(PermissionDenied):
        svc.repair_signoff(actor=handler, application=submitted, agree=True)


def test_early_application_is_explained(applicant, enterprise, market_bureau, rule_sets):
    record = CreditRecordFactory(subject=enterprise, provider=market_bureau, decision_date=dt.date(2026, 3, 5),
                                 display_min_until=dt.date(2099, 6, 5), display_max_until=dt.date(2099, 12, 5))
    problems = svc.repair_eligibility(subject=enterprise, record=record)
    assert any("2099年6月5日后方可申请" in p.message for p in problems)
    app = svc.repair_draft_save(actor=applicant, record=record, contact_name="a", contact_phone="1", statement="s")
    with pytest.raises(ValidationError):
        svc.repair_submit(actor=applicant, application=app)
