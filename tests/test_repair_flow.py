"""The credit-repair procedure end to end at service level (PROCEDURES.md §1), and the helpers the other
repair test modules (test_repair_paths.py, test_repair_sweeps.py) share."""

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from viewflow.workflow.status import PROCESS

from cases.models import CreditRecord, DisplayState, RepairApplication, RepairState, Role
from cases.models.attachments import Attachment
from cases.services import repair as svc
from tests.factories import CreditRecordFactory, UserFactory
from workflows import engine
from workflows.models import Clock

BEIJING = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(name="proof.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def at(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BEIJING)


class Travel:
    """Freezes ``django.utils.timezone.now`` (which every service, clock and auto_now field reads) at a
    moment the test chooses, so receipt times and "today" are the law's dates, not the machine's."""

    def __init__(self):
        self.now = at(2026, 7, 6)  # a Monday with no holiday within a month either side
        self._patcher = mock.patch("django.utils.timezone.now", side_effect=lambda: self.now)

    def to(self, y, m, d, hh=10, mm=0) -> dt.datetime:
        self.now = at(y, m, d, hh, mm)
        return self.now


@pytest.fixture
def travel():
    t = Travel()
    t._patcher.start()
    yield t
    t._patcher.stop()


@pytest.fixture
def storage(settings, tmp_path):
    """Uploads and notice PDFs go to a private directory of this test only."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def eligible_record(enterprise, market_bureau, rule_sets):
    """A 一般 administrative penalty decided 2026-03-05: minimum period ended 2026-06-05, maximum 2027-03-05."""
    return CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )


@pytest.fixture
def other_leader(tax_bureau):
    return UserFactory(username="other_leader", role=Role.DEPT_LEADER, organisation=tax_bureau)


@pytest.fixture
def handler2(market_bureau):
    """A second handler of the market bureau (the case belongs to the department, not one officer)."""
    return UserFactory(username="handler2", role=Role.DEPT_HANDLER, organisation=market_bureau)


def make_draft(applicant, record, **kwargs):
    app = svc.repair_draft_save(
        actor=applicant,
        record=record,
        contact_name="赵六",
        contact_phone="13800000000",
        statement="已缴清罚款并完成整改。",
        **kwargs,
    )
    svc.repair_attach(actor=applicant, application=app, purpose=Attachment.Purpose.PROOF, uploaded=upload())
    svc.repair_sign_commitment(actor=applicant, application=app, signer_name="张三", capacity="legal_rep")
    return app


def make_submitted(applicant, record):
    return svc.repair_submit(actor=applicant, application=make_draft(applicant, record))


@pytest.fixture
def submitted(travel, storage, applicant, eligible_record):
    """Received Mon 2026-07-06 10:00: acceptance due Thu 07-09 (3 WD), decision due Mon 07-20 (10 WD)."""
    return make_submitted(applicant, eligible_record)


def case_clock(app, purpose) -> Clock:
    return (
        Clock.objects.filter(content_type=ContentType.objects.get_for_model(app), object_id=app.pk, purpose=purpose)
        .order_by("-id")
        .first()
    )


def open_clocks(app):
    return Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(app), object_id=app.pk, stopped_at__isnull=True
    ).exclude(purpose__startswith="outbox:")


EXPECTED_NODE = {
    RepairState.SUBMITTED: "acceptance",
    RepairState.SUPPLEMENTING: "supplement",
    RepairState.ACCEPTED: "review",
    RepairState.PENDING_SIGNOFF: "signoff",
}


def assert_task_matches_state(app) -> RepairApplication:
    """The invariant: the open viewflow task is the one the legal state calls for, and a final case has
    none (its process is finished or cancelled)."""
    app.refresh_from_db()
    assert engine.open_node_name(app) == EXPECTED_NODE.get(app.state), app.state
    process = engine.process_for(app)
    if app.state in EXPECTED_NODE:
        assert process.status == PROCESS.NEW
    elif app.state != RepairState.DRAFT:
        assert process.status in (PROCESS.DONE, PROCESS.CANCELED)
    return app


def step(app, fn, **kwargs) -> RepairApplication:
    """Run one service on ``app`` and check the invariant after it."""
    fn(application=app, **kwargs)
    return assert_task_matches_state(app)


def drive(app, target, *, handler, leader, reason="材料齐全，已履行全部义务"):
    """Take a submitted case to ``target`` through the services, checking the invariant on the way."""
    if target == RepairState.SUBMITTED:
        return app
    if target == RepairState.SUPPLEMENTING:
        return step(app, svc.repair_request_supplement, actor=handler, missing="罚款缴纳凭证")
    step(app, svc.repair_accept, actor=handler)
    if target == RepairState.ACCEPTED:
        return app
    proposal = "reject" if target == RepairState.REJECTED else "approve"
    step(app, svc.repair_propose, actor=handler, proposal=proposal, reason=reason)
    if target == RepairState.PENDING_SIGNOFF:
        return app
    return step(app, svc.repair_signoff, actor=leader, agree=True)


def test_it_routes_to_the_recording_department_and_approves(submitted, handler, leader, eligible_record):
    app = assert_task_matches_state(submitted)
    assert app.tracking_number.startswith("XF2026")
    assert app.handling_organisation == eligible_record.provider
    assert app.received_on == dt.date(2026, 7, 6)
    drive(app, RepairState.APPROVED, handler=handler, leader=leader)
    assert app.state == RepairState.APPROVED
    assert app.signed_off_by == leader and app.proposed_by == handler
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.REPAIRED


def test_the_leader_returns_a_proposal_to_the_handler_with_a_comment(submitted, handler, leader):
    app = drive(submitted, RepairState.PENDING_SIGNOFF, handler=handler, leader=leader)
    with pytest.raises(svc.RepairError):
        svc.repair_signoff(actor=leader, application=app, agree=False, comment=" ")
    step(app, svc.repair_signoff, actor=leader, agree=False, comment="请核实罚款缴纳凭证")
    assert app.state == RepairState.ACCEPTED
    assert app.activities.filter(kind="returned", text="请核实罚款缴纳凭证").exists()
    # The handler reviews again and the case still reaches a decision.
    step(app, svc.repair_propose, actor=handler, proposal="approve", reason="已核实")
    step(app, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.APPROVED


def test_other_department_cannot_accept(submitted, other_handler):
    with pytest.raises(PermissionDenied):
        svc.repair_accept(actor=other_handler, application=submitted)
    assert_task_matches_state(submitted)
    assert submitted.state == RepairState.SUBMITTED


def test_handler_cannot_sign_off(submitted, handler):
    app = drive(submitted, RepairState.ACCEPTED, handler=handler, leader=None)
    svc.repair_propose(actor=handler, application=app, proposal="reject", reason="未履行")
    with pytest.raises(PermissionDenied):
        svc.repair_signoff(actor=handler, application=app, agree=True)
    assert assert_task_matches_state(app).state == RepairState.PENDING_SIGNOFF


def test_early_application_is_explained(travel, applicant, enterprise, market_bureau, rule_sets):
    # Decided after the 2026-04-01 switch, so the record's own minimum applies (before it, 从旧兼从轻 could
    # shorten it: tests/test_legal_findings.py).
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=dt.date(2026, 5, 5),
        publication_date=dt.date(2026, 5, 8),
        display_min_until=dt.date(2099, 6, 5),
        display_max_until=dt.date(2099, 12, 5),
    )
    problems = svc.repair_eligibility(subject=enterprise, record=record)
    assert any("2099年6月5日后方可申请" in p.message for p in problems)
    app = svc.repair_draft_save(actor=applicant, record=record, contact_name="a", contact_phone="1", statement="s")
    with pytest.raises(ValidationError):
        svc.repair_submit(actor=applicant, application=app)
    app.refresh_from_db()
    assert app.state == RepairState.DRAFT and not app.tracking_number
