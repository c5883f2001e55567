"""The dashboard summary (issue 15 item 3): after a seeded random sequence of real operations through the
services — intake, forward, verify, plans, reports, completion checks, repair submissions, acceptance,
supplement requests (the clock pauses) and supplements (it resumes), proposals, sign-offs, withdrawals,
refusals, clock extensions, the escalation sweep, a calendar recompute, time passing — the figures kept by the
triggers equal the ones rebuilt from scratch and the ones the direct queries compute."""

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import Sum

from cases.models import (
    Role,
    SupervisionClearing,
    SupervisionDisclosure,
    SupervisionLateness,
    SupervisionOpen,
    SupervisionTimeUsed,
)
from cases.models.attachments import Attachment
from cases.models.records import DISCLOSURE_PURPOSE
from cases.selectors import disclosure
from cases.selectors import statistics as stats
from cases.selectors import supervision as sup
from cases.services import escalation, supervision_summary
from cases.services import rectification as rsvc
from cases.services import repair as psvc
from tests.factories import CreditRecordFactory, UserFactory
from tests.rectification_support import new_case
from tests.test_repair_flow import upload
from workflows.engine import TaskConflict
from workflows.models import Clock
from workflows.services import clocks as clock_svc

pytestmark = pytest.mark.django_db


def _ledger() -> dict:
    """The summary as its readers see it: the sum of the ledger per key, zero sums left out."""
    out = {}
    for model, keys, values in (
        (SupervisionOpen, ("procedure", "organisation_id", "oldest_due"), ("n",)),
        (SupervisionTimeUsed, ("organisation_id", "purpose", "label"), ("n", "micros")),
        (SupervisionClearing, ("verified_on", "closed_on"), ("n",)),
        (SupervisionLateness, ("organisation_id", "content_type_id", "start_date", "end_day"), ("n", "on_time")),
        (SupervisionDisclosure, ("organisation_id", "outcome", "due_at"), ("n",)),
    ):
        rows = model.objects.values(*keys).annotate(**{v: Sum(v) for v in values}).order_by()
        out[model.__name__] = {
            tuple(r[k] for k in keys): tuple(r[v] for v in values) for r in rows if any(r[v] for v in values)
        }
    return out


def _rows(rows) -> set:
    assert all(type(r.open) is int and type(r.overdue) is int for r in rows)
    return {(r.procedure, r.organisation_id, r.open, r.overdue, tuple(r.buckets.items())) for r in rows}


def _stat_rows(rows) -> list:
    return [(r.organisation, r.procedure, r.decided, r.within_limit, r.histogram) for r in rows]


def _assert_same_figures(now):
    assert _rows(sup.by_organisation(now=now)) == _rows(sup.by_organisation_direct(now=now))
    today = now.date()
    assert sup.clearing(today=today) == sup.clearing_direct(today=today)
    assert sup.growth(today=today) == sup.growth_direct(today=today)
    assert _stat_rows(stats.lateness_statistics()) == _stat_rows(stats.lateness_statistics_direct())
    since = today - dt.timedelta(days=20)
    assert _stat_rows(stats.lateness_statistics(since=since)) == _stat_rows(
        stats.lateness_statistics_direct(since=since)
    )
    assert disclosure.late_publications(now=now) == disclosure.late_publications_direct(now=now)
    kept, direct = sup.time_used(), sup.time_used_direct()
    assert sorted(kept["stages"], key=str) == sorted(direct["stages"], key=str)
    assert sorted(kept["organisations"], key=str) == sorted(direct["organisations"], key=str)


@pytest.fixture
def people(market_bureau, other_body, applicant):
    return {
        "handler": UserFactory(username="summary_handler", role=Role.DEPT_HANDLER, organisation=market_bureau),
        "leader": UserFactory(username="summary_leader", role=Role.DEPT_LEADER, organisation=market_bureau),
        "other_user": UserFactory(username="summary_other", role=Role.GOV_BODY, organisation=other_body),
        "applicant": applicant,
    }


def test_kept_figures_equal_rebuilt_and_direct_after_random_operations(
    rule_sets,
    rect_travel,
    settings,
    tmp_path,
    people,
    market_bureau,
    body,
    other_body,
    city_gov,
    credit_centre,
    intake,
    reviewer,
    body_user,
    enterprise,
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    travel = rect_travel
    rng = random.Random(15)
    rects, repairs = [], []
    body_users = {body.pk: body_user, other_body.pk: people["other_user"]}

    def new_rect():
        rects.append(new_case(actor=intake, body=rng.choice([body, other_body]), office=credit_centre))

    def rect_step():
        if not rects:
            return
        case = rng.choice(rects)
        case.refresh_from_db()
        actor = body_users.get(case.handling_organisation_id, body_user)
        move = rng.choice(["forward", "verify", "plan", "progress", "completion", "check"])
        if move == "forward":
            rsvc.rectification_forward(actor=intake, case=case, verifier=city_gov)
        elif move == "verify":
            rsvc.rectification_verify(
                actor=reviewer,
                case=case,
                substantiated=rng.random() < 0.8,
                reason="经核实。",
                deadline=travel.now.date() + dt.timedelta(days=rng.randint(5, 40)),
            )
        elif move == "plan":
            rsvc.rectification_submit_plan(actor=actor, case=case, text="方案")
        elif move == "progress":
            rsvc.rectification_report_progress(actor=actor, case=case, text="进展")
        elif move == "completion":
            rsvc.rectification_submit_completion(actor=actor, case=case, text="完成")
        else:
            rsvc.rectification_check_completion(actor=reviewer, case=case, accepted=rng.random() < 0.7, comment="核查")

    def new_repair():
        record = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=dt.date(2026, 3, 5),
            publication_date=dt.date(2026, 3, 10),
            display_min_until=dt.date(2026, 6, 5),
            display_max_until=dt.date(2027, 3, 5),
        )
        app = psvc.repair_draft_save(
            actor=people["applicant"],
            record=record,
            contact_name="赵六",
            contact_phone="13800000000",
            statement="已缴清罚款并完成整改。",
        )
        psvc.repair_attach(
            actor=people["applicant"], application=app, purpose=Attachment.Purpose.PROOF, uploaded=upload()
        )
        psvc.repair_sign_commitment(
            actor=people["applicant"], application=app, signer_name="张三", capacity="legal_rep"
        )
        repairs.append(psvc.repair_submit(actor=people["applicant"], application=app))

    def repair_step():
        if not repairs:
            return
        app = rng.choice(repairs)
        app.refresh_from_db()
        h, lead, a = people["handler"], people["leader"], people["applicant"]
        move = rng.choice(["accept", "supplement_request", "supplement", "propose", "signoff", "withdraw", "refuse"])
        if move == "accept":
            psvc.repair_accept(actor=h, application=app)
        elif move == "supplement_request":
            psvc.repair_request_supplement(actor=h, application=app, missing="罚款缴纳凭证")
        elif move == "supplement":
            psvc.repair_supplement(actor=a, application=app, note="已补正")
        elif move == "propose":
            psvc.repair_propose(
                actor=h, application=app, proposal=rng.choice(["approve", "reject"]), reason="已审查，理由充分"
            )
        elif move == "signoff":
            psvc.repair_signoff(actor=lead, application=app, agree=rng.random() < 0.8, comment="请再核")
        elif move == "withdraw":
            psvc.repair_withdraw(actor=a, application=app, reason="撤回")
        else:
            psvc.repair_refuse(actor=lead, application=app, reason="不符合受理条件")

    def clock_step():
        running = list(Clock.objects.filter(stopped_at__isnull=True, kind=Clock.Kind.LEGAL).order_by("pk"))
        if not running:
            return
        clock = rng.choice(running)
        move = rng.choice(["pause", "resume", "extend"])
        if move == "pause":
            clock_svc.clock_pause(clock=clock, actor=reviewer, reason_code="expert_review", reason="专家评审")
        elif move == "resume":
            clock_svc.clock_resume(clock=clock, actor=reviewer)
        else:
            clock_svc.clock_extend(clock=clock, actor=reviewer, days=rng.randint(1, 5), reason="情况复杂")

    def disclose():
        """A record's 双公示 report limit starts (decision day = day 0), as the disclosure service starts it."""
        today = travel.now.date()
        record = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=today,
            publication_date=today,
            display_min_until=today + dt.timedelta(days=90),
            display_max_until=today + dt.timedelta(days=365),
        )
        clock_svc.clock_start(
            case=record,
            purpose=DISCLOSURE_PURPOSE,
            label="双公示信息报送",
            budget=7,
            received_at=record.decision_date,
            start_rule=Clock.StartRule.IMMEDIATE,
            organisation=market_bureau,
            actor=reviewer,
        )

    def report():
        running = list(Clock.objects.filter(purpose=DISCLOSURE_PURPOSE, stopped_at__isnull=True).order_by("pk"))
        if running:
            clock_svc.clock_stop(clock=rng.choice(running), actor=reviewer, reason="已报送")

    def time_passes():
        now = travel.now + dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
        travel.to(now.year, now.month, now.day, now.hour)

    operations = [
        (new_rect, 3),
        (rect_step, 8),
        (new_repair, 2),
        (repair_step, 6),
        (clock_step, 3),
        (disclose, 2),
        (report, 2),
        (time_passes, 2),
        (lambda: escalation.escalation_sweep(), 1),
        (lambda: clock_svc.clocks_recompute_open(), 1),
        (lambda: supervision_summary.consolidate(), 1),
    ]
    functions, weights = zip(*operations, strict=True)
    done = 0
    for i in range(110):
        try:
            rng.choices(functions, weights)[0]()
            done += 1
        except (ValidationError, PermissionDenied, TaskConflict):
            pass  # not allowed in the case's state: the services refuse, nothing changes
        if i % 40 == 39:
            _assert_same_figures(travel.now)
    assert done > 50 and rects and repairs

    _assert_same_figures(travel.now)
    for later in (7, 31, 95):  # the ageing buckets move with time alone
        _assert_same_figures(travel.now + dt.timedelta(days=later))
    kept = _ledger()
    assert all(kept.values())
    call_command("rebuild_supervision_summary", stdout=StringIO())
    assert _ledger() == kept
    _assert_same_figures(travel.now)


def test_consolidation_folds_the_ledger_into_one_row_per_key(rule_sets, rect_travel, body, credit_centre, intake):
    for _ in range(3):
        new_case(actor=intake, body=body, office=credit_centre)
    before = _ledger()
    assert SupervisionOpen.objects.count() > 1
    supervision_summary.consolidate()
    assert _ledger() == before
    keys = SupervisionOpen.objects.values_list("procedure", "organisation_id", "oldest_due")
    assert len(keys) == len(set(keys))
