"""The demo city (manage.py load_demo, fixtures/demo.json) that `make demo` shows a newcomer."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from cases.identifiers import validate_id_number, validate_uscc
from cases.management.commands.load_demo import read_demo_data
from cases.models import (
    AuditEvent,
    CreditRecord,
    DisplayState,
    Organisation,
    RecordChange,
    RecordKind,
    Role,
    Severity,
    Subject,
    SubjectAuthorisation,
    User,
)
from cases.services.records import record_clear_objection

DEMO = read_demo_data()


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Organisation, User, Subject, SubjectAuthorisation, CreditRecord, RecordChange, AuditEvent)
    }


def test_every_identifier_in_the_demo_data_passes_its_national_standard():
    for subject in DEMO["subjects"]:
        if subject.get("uscc"):
            validate_uscc(subject["uscc"])
        if subject.get("id_number"):
            validate_id_number(subject["id_number"])
    for organisation in DEMO["organisations"]:
        if organisation.get("uscc"):
            validate_uscc(organisation["uscc"])


def test_it_gives_every_role_a_login_with_the_demo_password(demo):
    for item in DEMO["users"]:
        user = authenticate(username=item["username"], password=DEMO["password"])
        assert user is not None, item["username"]
        user.clean()  # staff belong to an organisation of the right kind
    assert {user.role for user in User.objects.all()} == set(Role.values)
    assert User.objects.get(username="admin").is_superuser


def test_the_demo_applicants_act_for_their_own_subjects_only(demo):
    qiye = User.objects.get(username="qiye")
    shimin = User.objects.get(username="shimin")

    assert [a.subject.name for a in qiye.authorisations.all()] == ["郑州中原某某科技有限公司"]
    assert [a.subject.kind for a in shimin.authorisations.all()] == ["individual"]
    assert qiye.authorisations.get().subject.records.filter(display_state=DisplayState.DISPLAYED).exists()


def test_it_has_records_of_every_kind_severity_and_display_state(demo):
    records = CreditRecord.objects.all()

    assert {r.kind for r in records} == set(RecordKind.values)
    # A licence carries no 失信程度 (only penalties and dishonesty records are graded).
    assert {r.severity for r in records if r.kind != RecordKind.ADMINISTRATIVE_LICENSE} == set(Severity.values)
    assert {r.severity for r in records if r.kind == RecordKind.ADMINISTRATIVE_LICENSE} == {""}
    assert {r.display_state for r in records} == set(DisplayState.values)
    graded = [r for r in records if r.kind != RecordKind.ADMINISTRATIVE_LICENSE]
    assert all(r.display_min_until and r.display_max_until for r in graded)


def test_it_moves_records_to_their_state_through_the_record_history(demo):
    repaired = CreditRecord.objects.filter(display_state=DisplayState.REPAIRED)

    for record in repaired:
        change = record.changes.get(field="display_state")
        assert (change.old_value, change.new_value) == (DisplayState.DISPLAYED, DisplayState.REPAIRED)
        assert change.reason
    assert AuditEvent.objects.filter(action="record.repair").count() == repaired.count()


def test_loading_it_again_changes_nothing(demo):
    before = counts()

    out = io.StringIO()
    call_command("load_demo", stdout=out)

    assert counts() == before
    assert "nothing to do" in out.getvalue()


def test_loading_it_again_keeps_what_someone_did_in_the_demo(demo):
    record = CreditRecord.objects.filter(display_state=DisplayState.UNDER_OBJECTION).first()
    record_clear_objection(actor=None, record=record, reason="异议不成立，维持原信息。")

    call_command("load_demo", verbosity=0)

    record.refresh_from_db()
    assert record.display_state == DisplayState.DISPLAYED


def test_it_prints_one_login_per_role_and_the_password():
    out = io.StringIO()
    call_command("load_demo", "--show-logins", stdout=out)

    for item in DEMO["users"]:
        assert item["username"] in out.getvalue()
    assert DEMO["password"] in out.getvalue()


def test_the_demo_desk_has_repairs_waiting_in_the_right_queues(demo):
    """A newcomer logging in as the 市场监管局 handler finds one case to accept and one to review."""
    from cases.models import RepairApplication, RepairState
    from workflows import engine

    states = {
        app.applicant.username: (app.state, engine.open_node_name(app))
        for app in RepairApplication.objects.select_related("applicant")
    }
    assert states == {"shipin": (RepairState.SUBMITTED, "acceptance"), "canyin": (RepairState.ACCEPTED, "review")}


def test_the_demo_has_government_bodies_rectifying_for_the_supervisor_and_the_liaison(demo, client):
    """duban sees numbers on the supervision dashboard (one body overdue, already 督办ed); zhengfu finds its
    街道办's case waiting for the plan in its own inbox; a third case went all the way to 销号."""
    from cases.models import EscalationStep, RectificationCase, RectificationState
    from cases.selectors import supervision as sup
    from workflows import engine

    street = Organisation.objects.get(name="郑州市金水区某街道办事处")
    city_mgmt = Organisation.objects.get(name="郑州市某区城市管理局")
    states = sorted(
        (c.handling_organisation.name, c.state)
        for c in RectificationCase.objects.select_related("handling_organisation")
    )
    assert states == sorted(
        [
            (street.name, RectificationState.AWAITING_PLAN),
            (street.name, RectificationState.CLOSED),
            (city_mgmt.name, RectificationState.RECTIFYING),
        ]
    )

    overdue = RectificationCase.objects.get(handling_organisation=city_mgmt)
    # Its rectification deadline has its 督办 (so has its late progress report, escalated like every limit).
    supervision = EscalationStep.objects.get(
        object_id=overdue.pk, step=EscalationStep.Step.SUPERVISION, clock__purpose="rectification.deadline"
    )
    assert supervision.notice is not None and supervision.notice.kind == "rectification_supervision"
    assert not EscalationStep.objects.filter(object_id=overdue.pk, step=EscalationStep.Step.INTERVIEW).exists()
    closed = RectificationCase.objects.get(handling_organisation=street, state=RectificationState.CLOSED)
    assert closed.record.display_state == DisplayState.REPAIRED

    rows = {(r.procedure, r.organisation): (r.open, r.overdue) for r in sup.by_organisation()}
    assert rows[("rectification", city_mgmt.name)] == (1, 1)
    assert rows[("rectification", street.name)] == (1, 0)
    client.force_login(User.objects.get(username="duban"))
    assert client.get("/supervision/").status_code == 200

    zhengfu = User.objects.get(username="zhengfu")
    waiting = RectificationCase.objects.get(handling_organisation=street, state=RectificationState.AWAITING_PLAN)
    task = engine.open_task(waiting)
    assert task.flow_task.name == "plan" and zhengfu.has_perm(task.owner_permission, obj=street)
    client.force_login(zhengfu)
    page = client.get(f"/rectification/{waiting.pk}/").content.decode()
    assert "报送整改方案" in page
    assert client.get(f"/rectification/{overdue.pk}/").status_code == 404  # another body's case
