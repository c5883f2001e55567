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
