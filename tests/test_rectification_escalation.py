"""The escalation ladder (PROCEDURES.md §4): each step at its threshold, across holidays, never twice."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import EscalationStep
from cases.services import escalation
from cases.services import rectification as svc
from notices.models import Notice
from notices.services import notice_render
from tests.rectification_support import clock_of, substantiated_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(rect_travel):
    return rect_travel


@pytest.fixture
def late_case(rule_sets, travel, body, city_gov, office, intake, reviewer, supervisor_office):
    # Deadline Thu 2026-09-24, just before the 2026 Mid-Autumn/National Day run (Sep 25–27, Oct 1–7 off;
    # Sep 20 and Oct 10 are make-up working days).
    travel.to(2026, 9, 1)
    body.refresh_from_db()
    return substantiated_case(
        intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, deadline=dt.date(2026, 9, 24)
    )


def steps(case):
    clock = clock_of(case, svc.DEADLINE)
    return sorted(EscalationStep.objects.filter(clock=clock).values_list("step", flat=True))


@pytest.mark.parametrize(
    "before, on, expected",
    [
        # 3 WD before Sep 24: on Mon Sep 21 (22, 23, 24 left). On Sun Sep 20, a make-up working day, the next
        # three working days end on Sep 23 → not yet.
        ((2026, 9, 20), (2026, 9, 21), "reminder"),
        # Overdue the day after the deadline (the deadline ends at 24:00 on Sep 24).
        ((2026, 9, 24), (2026, 9, 25), "supervision"),
        # 10 WD overdue: Sep 28, 29, 30, Oct 8, 9, 10 (make-up Sat), 12, 13, 14, 15 → Oct 15, not Oct 14.
        ((2026, 10, 14), (2026, 10, 15), "interview"),
        # 20 WD overdue → Oct 29.
        ((2026, 10, 28), (2026, 10, 29), "public_notice"),
        # 30 WD overdue (accountability, [cfg]) → Nov 12.
        ((2026, 11, 11), (2026, 11, 12), "accountability"),
    ],
)
def test_each_step_fires_at_its_threshold_and_not_a_day_earlier(late_case, travel, before, on, expected):
    travel.to(*before, hh=23, mm=0)
    escalation.escalation_sweep(now=travel.now)
    assert expected not in steps(late_case)
    travel.to(*on, hh=0, mm=30)
    escalation.escalation_sweep(now=travel.now)
    assert expected in steps(late_case)


def test_no_step_fires_twice(late_case, travel):
    travel.to(2026, 11, 20)
    first = escalation.escalation_sweep(now=travel.now)
    # Four rungs on the deadline clock and four on the (unanswered) plan clock; the reminder is only for
    # clocks not yet overdue, so a late first sweep skips it.
    assert first.inserted["reminder"] == 0 and first.total == 8
    second = escalation.escalation_sweep(now=travel.now)
    assert second.total == 0
    assert steps(late_case) == ["accountability", "interview", "public_notice", "supervision"]
    kinds = sorted(
        Notice.objects.filter(object_id=late_case.pk, kind__startswith="rectification_")
        .exclude(kind="rectification_notice")
        .values_list("kind", flat=True)
    )
    assert kinds.count("rectification_supervision") == 2  # deadline clock + plan clock, once each


def test_a_stopped_clock_is_never_escalated(late_case, travel, body_user):
    svc.rectification_submit_plan(actor=body_user, case=late_case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=late_case, text="完成")
    travel.to(2026, 10, 30)
    escalation.escalation_sweep(now=travel.now)
    assert "supervision" not in steps(late_case)


def test_the_supervision_notice_is_a_pdf_addressed_to_the_body(late_case, travel, storage_dir):
    travel.to(2026, 9, 25)
    escalation.escalation_sweep(now=travel.now)
    step = EscalationStep.objects.get(clock=clock_of(late_case, svc.DEADLINE), step="supervision")
    assert step.notice.addressee_subject.organisation == late_case.handling_organisation
    assert step.notice.issuer.kind == "supervisor"
    notice = notice_render(notice_id=step.notice_id)
    assert notice.status == Notice.Status.ISSUED and notice.pdf.read(5) == b"%PDF-"
    assert "督办" in notice.number
    assert late_case.activities.filter(text__contains="督办").exists()


def test_supervisors_escalate_by_hand_once(late_case, travel, supervisor, body_user):
    clock = clock_of(late_case, svc.DEADLINE)
    with pytest.raises(PermissionDenied):
        escalation.escalation_fire(actor=body_user, clock=clock, step="interview")
    row = escalation.escalation_fire(actor=supervisor, clock=clock, step="interview", note="群众反映强烈")
    assert row.manual and row.notice.kind == "rectification_interview"
    with pytest.raises(ValidationError):
        escalation.escalation_fire(actor=supervisor, clock=clock, step="interview")
    # The sweep later respects the hand-fired step.
    travel.to(2026, 10, 16)
    escalation.escalation_sweep(now=travel.now)
    assert EscalationStep.objects.filter(clock=clock, step="interview").count() == 1


def test_the_case_keeps_its_rule_set_thresholds(late_case, travel):
    from workflows.models import RuleParameter

    # A later change of the *other* rule sets does not move this case's ladder.
    others = RuleParameter.objects.exclude(rule_set=late_case.rule_set).filter(key="rectification.interview_overdue_wd")
    assert others.exists()
    for other in others:
        other.value = 1
        other.save()
    travel.to(2026, 9, 29)
    escalation.escalation_sweep(now=travel.now)
    assert "interview" not in steps(late_case)


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


# --- the sweep reads only what is due (Clock.next_escalation_at, workflows.ladder) -------------------------
def _bj(y, m, d):
    from workflows.ladder import day_start

    return day_start(dt.date(y, m, d))


def test_each_clock_stores_the_moment_its_next_rung_comes_and_the_sweep_moves_it_on(late_case, travel):
    clock = clock_of(late_case, svc.DEADLINE)
    # Started with the case's rule set in memory: the exact moment, the 临期提醒 3 WD before Thu Sep 24.
    assert clock.next_escalation_at == _bj(2026, 9, 21)
    travel.to(2026, 9, 20, hh=23)  # the reminder not yet due (the plan clock, already late, is swept)
    escalation.escalation_sweep(now=travel.now)
    assert steps(late_case) == []
    # Swept once, nothing is due any more: the next run at the same moment looks at no clock at all.
    assert escalation.escalation_sweep(now=travel.now).looked_at == 0
    ladder = [
        ((2026, 9, 21), "reminder", _bj(2026, 9, 25)),
        ((2026, 9, 25), "supervision", _bj(2026, 10, 15)),
        ((2026, 10, 15), "interview", _bj(2026, 10, 29)),
        ((2026, 10, 29), "public_notice", _bj(2026, 11, 12)),
        ((2026, 11, 12), "accountability", None),
    ]
    for day, fired, following in ladder:
        travel.to(*day, hh=0, mm=30)
        escalation.escalation_sweep(now=travel.now)
        clock.refresh_from_db()
        assert fired in steps(late_case)
        assert clock.next_escalation_at == following
        # Until that moment, a sweep reads nothing of this clock.
        assert not type(clock).objects.filter(pk=clock.pk, next_escalation_at__lte=travel.now).exists()


def test_stopping_or_pausing_a_clock_takes_it_off_the_sweep_and_resuming_puts_it_back(late_case, travel, body_user):
    from workflows.ladder import RESCHEDULE
    from workflows.services.clocks import clock_pause, clock_resume, clock_stop

    clock = clock_of(late_case, svc.DEADLINE)
    travel.to(2026, 9, 10)
    clock_pause(clock=clock, actor=None, reason_code="expert_review")
    clock.refresh_from_db()
    assert clock.is_paused and clock.next_escalation_at is None
    travel.to(2026, 9, 15)
    clock_resume(clock=clock, actor=None)
    clock.refresh_from_db()
    # The due date moved with the pause; the next sweep computes the moment with the case's rule set.
    assert clock.due_date > dt.date(2026, 9, 24) and clock.next_escalation_at == RESCHEDULE
    escalation.escalation_sweep(now=travel.now)
    clock.refresh_from_db()
    assert clock.next_escalation_at > travel.now and steps(late_case) == []
    clock_stop(clock=clock, actor=None, reason="整改完成")
    clock.refresh_from_db()
    assert clock.next_escalation_at is None


def test_a_clock_left_for_the_next_run_fires_exactly_what_is_due(late_case, travel):
    """The backfill's state (every open clock marked RESCHEDULE) fires the rungs due, never a later one."""
    from workflows.ladder import RESCHEDULE
    from workflows.models import Clock

    clock = clock_of(late_case, svc.DEADLINE)
    Clock.objects.filter(pk=clock.pk).update(next_escalation_at=RESCHEDULE)
    travel.to(2026, 10, 14, hh=23)  # 9 WD overdue: 督办 due, 约谈 not yet
    escalation.escalation_sweep(now=travel.now)
    assert steps(late_case) == ["supervision"]
    clock.refresh_from_db()
    assert clock.next_escalation_at == _bj(2026, 10, 15)


def test_a_calendar_change_reschedules_the_later_rungs(late_case, travel):
    from workflows.ladder import RESCHEDULE
    from workflows.services.clocks import clocks_recompute_open

    clock = clock_of(late_case, svc.DEADLINE)
    travel.to(2026, 9, 25, hh=0, mm=30)
    escalation.escalation_sweep(now=travel.now)
    clock.refresh_from_db()
    assert clock.next_escalation_at == _bj(2026, 10, 15)
    # A day changed on Oct 12 cannot move the Sep 24 due date but can move 约谈 (10 WD after it).
    clocks_recompute_open(since=dt.date(2026, 10, 12), until=dt.date(2026, 10, 12))
    clock.refresh_from_db()
    assert clock.due_date == dt.date(2026, 9, 24) and clock.next_escalation_at == RESCHEDULE
