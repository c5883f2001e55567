"""A few 政务失信 rectification cases for ``manage.py load_demo`` (fixtures/demo.json "rectifications"), written
through the services, so ``duban`` finds numbers on the supervision dashboard and ``zhengfu`` a case to act on:

- awaiting_plan: received today, substantiated, the body (街道办, login zhengfu) must hand in its plan;
- overdue: received ``days_ago`` days ago, plan handed in (login chengguan), the deadline has passed and the
  escalation sweep has fired the 督办通知 (with its notice);
- closed: received ``days_ago`` days ago, rectified, checked, record repaired.

The law's clocks run from the moment each service is called, so a case with a past is told at its own dates:
each step runs with ``django.utils.timezone.now`` set to the day it happened (the same device the tests use),
and clocks, timeline, audit trail and notices all carry those dates. Idempotent: a body's case with the same
matter is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from cases.models import Organisation, Subject, User
from cases.models.rectification import RectificationCase
from workflows.calendar import LEGAL_TZ

STAGES = ("awaiting_plan", "overdue", "closed")


@contextmanager
def _on(moment: dt.datetime | None):
    if moment is None:
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _working_morning(day: dt.date) -> dt.datetime:
    """10:00 on ``day``, moved back to the Friday when it falls on a weekend (a demo officer works weekdays)."""
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=LEGAL_TZ)


def _at(start: dt.datetime | None, days: int) -> dt.datetime | None:
    """``days`` after the case's first day (None: the case has no past, it happens now)."""
    return None if start is None else _working_morning(start.date() + dt.timedelta(days=days))


def _staff(organisation: Organisation, role: str) -> User | None:
    return User.objects.filter(organisation=organisation, role=role, is_active=True).order_by("pk").first()


def load_demo_rectifications(items: list[dict], created: Counter) -> None:
    from cases.services import escalation
    from cases.services import rectification as svc

    office = Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).order_by("pk").first()
    if office is None or not items:
        return
    intake = _staff(office, "platform_intake")
    reviewer = _staff(office, "platform_reviewer")
    fired = False
    for item in items:
        if item["stage"] not in STAGES:
            raise ValueError(f"rectification stage must be one of {STAGES}: {item['stage']}")
        body = Organisation.objects.get(name=item["body"])
        if RectificationCase.objects.filter(handling_organisation=body, summary=item["summary"]).exists():
            continue
        liaison = _staff(body, "gov_body")
        today = timezone.localdate()
        start = _working_morning(today - dt.timedelta(days=item["days_ago"])) if item.get("days_ago") else None
        with _on(_at(start, 0)):
            case = svc.rectification_intake(
                actor=intake,
                body=body,
                source=item["source"],
                summary=item["summary"],
                facts=item["facts"],
                credit_office=office,
                complainant_subject=Subject.objects.get(name=item["complainant"]),
                amount=Decimal(item["amount"]) if item.get("amount") else None,
            )
            svc.rectification_forward(actor=intake, case=case, verifier=Organisation.objects.get(name=item["verifier"]))
        with _on(_at(start, 1)):
            svc.rectification_verify(
                actor=reviewer,
                case=case,
                substantiated=True,
                reason=item["reason"],
                requirements=item.get("requirements", ""),
            )
        created["rectification cases"] += 1
        if item["stage"] == "awaiting_plan" or liaison is None:
            continue
        with _on(_at(start, 3)):
            svc.rectification_submit_plan(actor=liaison, case=case, text=item["plan"])
        if item["stage"] == "overdue":
            # The body keeps reporting progress (its last report is today's), but the deadline has passed.
            svc.rectification_report_progress(
                actor=liaison, case=case, text=item.get("progress", "已完成部分款项支付，剩余款项正在筹措。")
            )
            fired = True
            continue
        with _on(_at(start, 20)):
            svc.rectification_submit_completion(actor=liaison, case=case, text=item["completion"])
        with _on(_at(start, 22)):
            svc.rectification_check_completion(actor=reviewer, case=case, accepted=True, comment=item.get("check", ""))
    if fired:
        # What the nightly job (setup_schedules) would have done by now: the overdue case gets its 督办.
        result = escalation.escalation_sweep()
        created["escalation steps"] += result.total
