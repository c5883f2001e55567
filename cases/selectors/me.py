"""The personal centre (/me/): every case of every procedure of every subject the person acts for, with its
step, progress and the next deadline that is the applicant's own (issue 12, item 2)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases import policy
from cases.models import Message, Subject, SubjectAuthorisation
from cases.selectors.rectification import rectification_scope_q
from workflows.calendar import get_calendar
from workflows.models import Clock
from workflows.procedures import PROCEDURES, Procedure, progress

# The clocks that run against the applicant, not the authority (补正 window, 陈述申辩 window).
APPLICANT_CLOCK_PURPOSES = ("repair.supplement_window", "commitment.hearing")
# A deadline of the applicant's shows red from this many working days before it.
CLOSE_WORKING_DAYS = 2


@dataclass
class Deadline:
    label: str
    due: dt.date
    remaining: int  # working days after today; negative when passed
    citation: str = ""

    @property
    def close(self) -> bool:
        return self.remaining <= CLOSE_WORKING_DAYS

    @property
    def passed(self) -> bool:
        return self.remaining < 0


@dataclass
class MyCase:
    procedure: Procedure
    case: Model
    step: int
    steps: int
    step_label: str
    url: str
    deadline: Deadline | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.step / self.steps) if self.steps else 0

    @property
    def step_numbers(self) -> list[tuple[int, str]]:
        return [(i + 1, str(label)) for i, (label, _states) in enumerate(self.procedure.steps)]


def deadline_for(due: dt.date, label: str, citation: str = "", today: dt.date | None = None) -> Deadline:
    today = today or timezone.localdate()
    cal = get_calendar()
    if due >= today:
        remaining = cal.working_days_between(today, due)
    else:
        remaining = -max(1, cal.working_days_between(due, today))
    return Deadline(label=label, due=due, remaining=remaining, citation=citation)


def _scope(user, code: str) -> Q:
    if code == "rectification":
        return rectification_scope_q(user)
    return policy.case_scope_q(user, code)


def _url(procedure: Procedure, case) -> str:
    if not procedure.applicant_url_name:
        return ""
    try:
        return reverse(procedure.applicant_url_name, args=[case.pk])
    except NoReverseMatch:
        return ""


def my_cases(*, user) -> list[MyCase]:
    """Every case the applicant may act on or follow, newest first; one query per procedure plus one for
    the applicant's clocks."""
    if not policy.is_applicant(user):
        return []
    rows: list[MyCase] = []
    by_ct: dict[int, dict[int, MyCase]] = defaultdict(dict)
    for code, procedure in PROCEDURES.items():
        model = procedure.model
        ct = ContentType.objects.get_for_model(model)
        for case in model.objects.filter(_scope(user, code)).select_related("subject").order_by("-created_at")[:200]:
            step, steps, label = progress(procedure, case.state)
            row = MyCase(procedure, case, step, steps, label or case.get_state_display(), _url(procedure, case))
            rows.append(row)
            by_ct[ct.pk][case.pk] = row
    if by_ct:
        q = Q(pk__in=[])
        for ct_id, cases in by_ct.items():
            q |= Q(content_type_id=ct_id, object_id__in=list(cases))
        clocks = Clock.objects.filter(
            q, purpose__in=APPLICANT_CLOCK_PURPOSES, stopped_at__isnull=True, due_date__isnull=False
        ).order_by("due_date")
        today = timezone.localdate()
        for clock in clocks:
            row = by_ct[clock.content_type_id].get(clock.object_id)
            if row is not None and row.deadline is None:
                row.deadline = deadline_for(clock.due_date, clock.label, clock.citation, today)
    rows.sort(key=lambda r: r.case.created_at, reverse=True)
    return rows


def my_subjects(*, user) -> QuerySet[Subject]:
    return Subject.objects.filter(policy.subject_scope_q(user)).order_by("name")


def my_legal_rep_subject_ids(*, user) -> set[int]:
    return set(
        policy.active_authorisations(user)
        .filter(
            scope=SubjectAuthorisation.Scope.ALL,
            basis__in=[SubjectAuthorisation.Basis.LEGAL_REPRESENTATIVE, SubjectAuthorisation.Basis.SELF],
        )
        .values_list("subject_id", flat=True)
    )


def my_authorisations(*, user):
    return SubjectAuthorisation.objects.filter(user=user).select_related("subject").order_by("subject__name")


def messages_for(*, user, unread_only: bool = False) -> QuerySet[Message]:
    qs = Message.objects.filter(user=user).order_by("-created_at", "-id")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(*, user) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def message_get(*, user, pk: int) -> Message | None:
    return Message.objects.filter(user=user, pk=pk).first()
