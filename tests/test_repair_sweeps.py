# ruff: noqa: F811 — pytest fixtures imported from tests.test_repair_flow are requested by name
"""The repair procedure's scheduled jobs: a missed supplement window ends the case as 视为撤回, records whose
maximum display period ended stop being displayed, and setup_schedules installs both (PROCEDURES.md §1)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule
from viewflow.workflow.status import PROCESS

from cases import tasks
from cases.models import AuditEvent, CaseActivity, CreditRecord, DisplayState, RecordChange, RepairState
from cases.models.attachments import Attachment
from cases.selectors.records import public_records_for_subject
from cases.services import repair as svc
from tests.factories import CreditRecordFactory
from tests.test_repair_flow import (  # noqa: F401 — shared fixtures
    assert_task_matches_state,
    case_clock,
    eligible_record,
    open_clocks,
    step,
    storage,
    submitted,
    travel,
    upload,
)
from workflows import engine

D = dt.date


# --- supplement window missed --------------------------------------------------------------------------------
@pytest.fixture
def supplementing(submitted, travel, handler):
    """Asked on Tue 2026-07-07 to supplement within 5 WD: the window ends at the end of Tue 07-14."""
    travel.to(2026, 7, 7)
    return step(submitted, svc.repair_request_supplement, actor=handler, missing="罚款缴纳凭证")


def test_nothing_happens_while_the_window_is_open(supplementing, travel):
    assert supplementing.supplement_due == D(2026, 7, 14)
    travel.to(2026, 7, 14, 23, 59)
    assert svc.repairs_deem_withdrawn_due() == 0
    assert assert_task_matches_state(supplementing).state == RepairState.SUPPLEMENTING


def test_a_missed_window_ends_the_case_as_deemed_withdrawn(supplementing, travel, applicant):
    travel.to(2026, 7, 15, 0, 5)
    assert svc.repairs_deem_withdrawn_due() == 1
    app = assert_task_matches_state(supplementing)
    assert app.state == RepairState.DEEMED_WITHDRAWN and app.closed_at == travel.now
    assert engine.process_for(app).status == PROCESS.CANCELED
    assert not open_clocks(app).exists()
    assert case_clock(app, svc.SUPPLEMENT_WINDOW).stop_reason == "补正期限届满未补正，视为撤回"
    assert app.activities.filter(kind=CaseActivity.Kind.DEEMED_WITHDRAWN).exists()
    assert AuditEvent.objects.filter(action="repair.deemed_withdrawn", object_id=str(app.pk)).exists()
    # Running the job again changes nothing; the applicant can no longer supplement.
    assert svc.repairs_deem_withdrawn_due() == 0
    with pytest.raises(svc.RepairError):
        svc.repair_attach(actor=applicant, application=app, purpose=Attachment.Purpose.SUPPLEMENT, uploaded=upload())
    with pytest.raises(engine.TaskConflict):
        svc.repair_supplement(actor=applicant, application=app)


def test_a_supplement_in_time_is_not_swept(supplementing, travel, applicant):
    travel.to(2026, 7, 14, 16)
    svc.repair_attach(
        actor=applicant, application=supplementing, purpose=Attachment.Purpose.SUPPLEMENT, uploaded=upload()
    )
    step(supplementing, svc.repair_supplement, actor=applicant)
    travel.to(2026, 7, 20)
    assert svc.repairs_deem_withdrawn_due() == 0
    assert assert_task_matches_state(supplementing).state == RepairState.SUBMITTED


def test_the_scheduled_task_runs_the_sweep(supplementing, travel):
    travel.to(2026, 7, 16)
    assert tasks.repairs_deem_withdrawn_task() == 1
    assert assert_task_matches_state(supplementing).state == RepairState.DEEMED_WITHDRAWN


# --- automatic expiry ---------------------------------------------------------------------------------------
@pytest.fixture
def expiring(travel, enterprise, market_bureau, rule_sets):
    """Records of one subject as on Mon 2026-07-06."""
    travel.to(2026, 7, 6)

    def make(decision, max_until, performed):
        return CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=decision,
            publication_date=decision,
            display_min_until=decision + dt.timedelta(days=90),
            display_max_until=max_until,
            obligations_performed=performed,
        )

    return {
        "ended_performed": make(D(2024, 6, 3), D(2025, 6, 3), True),
        "ended_not_performed": make(D(2024, 6, 3), D(2025, 6, 3), False),
        "running": make(D(2026, 3, 5), D(2027, 3, 5), True),
        "ends_today": make(D(2025, 7, 6), D(2026, 7, 6), True),
    }


def test_expiry_stops_display_when_the_maximum_period_ended_and_obligations_are_performed(expiring, enterprise):
    assert tasks.records_expire_task() == 1
    states = {name: CreditRecord.objects.get(pk=r.pk).display_state for name, r in expiring.items()}
    assert states == {
        "ended_performed": DisplayState.EXPIRED,
        # Henan Art 19: displayed on until the obligations are performed, or 5 years have passed.
        "ended_not_performed": DisplayState.DISPLAYED,
        "running": DisplayState.DISPLAYED,
        # The period ends with this day: display stops tomorrow.
        "ends_today": DisplayState.DISPLAYED,
    }
    expired = expiring["ended_performed"]
    assert expired.pk not in public_records_for_subject(subject=enterprise).values_list("pk", flat=True)
    change = RecordChange.objects.get(record=expired)
    assert (change.old_value, change.new_value) == ("displayed", "expired")
    assert change.reason == "最长公示期届满，自动停止公示" and change.actor is None
    event = AuditEvent.objects.get(action="record.expire", object_id=str(expired.pk))
    assert event.actor is None and event.data["to"] == "expired"
    assert not AuditEvent.objects.filter(action="record.expire", object_id=str(expiring["ended_not_performed"].pk))
    assert not RecordChange.objects.filter(record=expiring["ended_not_performed"]).exists()
    # Idempotent.
    assert svc.records_expire_due() == 0


def test_expiry_catches_up_the_next_day_and_at_the_five_year_cap(expiring, travel):
    svc.records_expire_due()
    travel.to(2026, 7, 7, 0, 15)
    assert svc.records_expire_due() == 1
    assert CreditRecord.objects.get(pk=expiring["ends_today"].pk).display_state == DisplayState.EXPIRED
    # Obligations still not performed, but five years after the decision display stops regardless.
    travel.to(2029, 6, 4, 0, 15)
    assert svc.records_expire_due() == 2  # and the record still "running" in 2026
    assert CreditRecord.objects.get(pk=expiring["ended_not_performed"].pk).display_state == DisplayState.EXPIRED


def test_a_record_under_repair_is_not_expired_from_under_the_case(submitted, travel, eligible_record):
    """Expiry does not wait for an open repair case: display stops on the law's date either way."""
    travel.to(2027, 3, 8)
    CreditRecord.objects.filter(pk=eligible_record.pk).update(obligations_performed=True)
    assert svc.records_expire_due() == 1
    assert assert_task_matches_state(submitted).state == RepairState.SUBMITTED


def test_the_sweep_judges_by_the_day_it_is_given(expiring):
    """An operator re-running a missed night passes its date; the check must use that date, not today."""
    assert svc.records_expire_due(today=D(2026, 7, 7)) == 2
    assert CreditRecord.objects.get(pk=expiring["ends_today"].pk).display_state == DisplayState.EXPIRED


def test_a_decision_older_than_every_rule_set_still_expires_at_the_five_year_cap(
    travel, enterprise, market_bureau, rule_sets
):
    travel.to(2026, 7, 6)
    old = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=D(2020, 5, 6),
        publication_date=D(2020, 5, 6),
        display_min_until=D(2020, 8, 6),
        display_max_until=D(2023, 5, 6),
        obligations_performed=False,
    )
    assert svc.records_expire_due() == 1
    assert CreditRecord.objects.get(pk=old.pk).display_state == DisplayState.EXPIRED


def test_a_repair_granted_after_the_record_expired_still_closes_the_case(
    submitted, travel, eligible_record, handler, leader
):
    step(submitted, svc.repair_accept, actor=handler)
    step(submitted, svc.repair_propose, actor=handler, proposal="approve", reason="材料齐全")
    travel.to(2027, 3, 8)
    CreditRecord.objects.filter(pk=eligible_record.pk).update(obligations_performed=True)
    assert svc.records_expire_due() == 1
    app = step(submitted, svc.repair_signoff, actor=leader, agree=True)
    assert app.state == RepairState.APPROVED
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.EXPIRED


# --- schedules ----------------------------------------------------------------------------------------------
SWEEPS = {
    "repairs-deem-withdrawn": "cases.tasks.repairs_deem_withdrawn_task",
    "records-expire": "cases.tasks.records_expire_task",
    "notices-render-due": "notices.tasks.render_due_notices",
}


def test_setup_schedules_installs_the_repair_sweeps_once(db):
    call_command("setup_schedules", stdout=StringIO())
    Schedule.objects.filter(name="records-expire").update(cron="0 12 * * *")
    Schedule.objects.create(
        name="repairs-deem-withdrawn", func="cases.tasks.repairs_deem_withdrawn_task", schedule_type=Schedule.HOURLY
    )  # an accidental copy
    out = StringIO()
    call_command("setup_schedules", stdout=out)

    for name, func in SWEEPS.items():
        [schedule] = Schedule.objects.filter(name=name)
        assert schedule.func == func and schedule.repeats == -1
        assert f"updated {name}" in out.getvalue()
    assert Schedule.objects.get(name="records-expire").cron == "15 0 * * *"
    assert Schedule.objects.get(name="repairs-deem-withdrawn").schedule_type == Schedule.CRON


@pytest.mark.parametrize("func", list(SWEEPS.values()))
def test_every_scheduled_function_exists_and_takes_no_arguments(db, func):
    import inspect

    from django.utils.module_loading import import_string

    target = import_string(func)
    assert not inspect.signature(target).parameters
    assert isinstance(target(), int)
