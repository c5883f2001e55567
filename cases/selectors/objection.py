"""Reads for objections (PROCEDURES.md §2), scoped by cases.policy.

Who sees an objection: the applicant's subject (its authorised users), the platform (credit centre) and
supervisors (read-all), and the provider department of the disputed record — it must verify it
(Art 41) — but no other department. Anything else is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from cases import policy
from cases.models import CaseActivity, Organisation
from cases.models.attachments import Attachment
from cases.models.objection import OPEN_STATES, ObjectionCase
from cases.task_permissions import task_permissions_of
from workflows.calendar import get_calendar
from workflows.models import Clock
from workflows.selectors import OPEN_TASK_STATUSES, ClockStatus, _pauses_prefetch, clock_status
from workflows.selectors import with_clock_status as shared_with_clock_status

CASE_PURPOSES = ("objection.platform", "objection.provider", "objection.case", "objection.review")

STEP_NAMES = {
    "triage": _("平台分办"),
    "provider_check": _("信息提供单位核查"),
    "review": _("复核"),
}


def step_name(node_name: str | None) -> str:
    return str(STEP_NAMES.get(node_name, node_name or ""))


def _ct() -> ContentType:
    return ContentType.objects.get_for_model(ObjectionCase)


def objection_scope_q(user) -> Q:
    q = policy.case_scope_q(user, "objection")
    if policy.is_department(user):
        org_id = policy.acting_organisation_id(user)
        if org_id is not None:
            q |= Q(provider_id=org_id)
    return q


def can_view_objection(user, case: ObjectionCase) -> bool:
    if policy.can_view_case(user, case):
        return True
    return policy.is_department(user) and policy.acting_organisation_id(user) == case.provider_id


def _open_tasks(object_id=None) -> QuerySet[Task]:
    return Task.objects.filter(
        process__artifact_content_type=_ct(),
        process__artifact_object_id=OuterRef("pk") if object_id is None else object_id,
        status__in=OPEN_TASK_STATUSES,
        flow_task_type="HUMAN",
    ).order_by("-created")


def _annotate(qs: QuerySet[ObjectionCase], tasks: QuerySet[Task]) -> QuerySet[ObjectionCase]:
    clocks = Clock.objects.filter(
        content_type=_ct(), object_id=OuterRef("pk"), stopped_at__isnull=True, purpose__in=CASE_PURPOSES
    )
    running = clocks.filter(is_paused=False).order_by("due_at", "pk")
    paused = clocks.filter(is_paused=True).order_by("due_at", "pk")
    return qs.select_related(
        "subject", "record", "provider", "handling_organisation", "applicant", "review_of"
    ).annotate(
        task_node=Subquery(tasks.values("flow_task")[:1]),
        current_due_at=Subquery(running.values("due_at")[:1]),
        current_clock_id=Coalesce(Subquery(running.values("pk")[:1]), Subquery(paused.values("pk")[:1])),
    )


def objection_list_for_user(*, user, state: str = "") -> QuerySet[ObjectionCase]:
    qs = ObjectionCase.objects.filter(objection_scope_q(user))
    if state:
        qs = qs.filter(state=state)
    return _annotate(qs, _open_tasks()).order_by("-created_at", "-pk")


def objection_get_for_user(*, user, pk: int) -> ObjectionCase:
    case = (
        ObjectionCase.objects.filter(objection_scope_q(user), pk=pk)
        .select_related(
            "subject",
            "record",
            "record__provider",
            "record__subject",
            "provider",
            "handling_organisation",
            "applicant",
            "rule_set",
            "decided_by",
            "review_of",
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


def _takeable_q(user) -> Q:
    org_id = policy.acting_organisation_id(user)
    perms = task_permissions_of(user)
    if not perms or org_id is None:
        return Q(pk__in=[])
    return Q(
        owner_permission__in=perms,
        owner_permission_content_type=ContentType.objects.get_for_model(Organisation),
        owner_permission_obj_pk=str(org_id),
    )


def desk_queue_for_user(*, user) -> QuerySet[ObjectionCase]:
    """待办: objections with a step this officer's organisation must take, nearest legal deadline first."""
    tasks = _open_tasks().filter(_takeable_q(user))
    return (
        _annotate(ObjectionCase.objects.filter(objection_scope_q(user)), tasks)
        .filter(task_node__isnull=False)
        .order_by(F("current_due_at").asc(nulls_last=True), "received_at", "pk")
    )


def desk_queue_order(*, user) -> QuerySet:
    """The ids of the desk queue's cases in its order (cases.selectors.inbox.desk_queue_order); the page's
    cases are then read with desk_queue_for_user, which checks each is still takeable."""
    from cases.selectors.inbox import desk_queue_order as inbox_desk_queue_order

    return inbox_desk_queue_order(user=user, procedure="objection")


def with_clock_status(cases, *, now: dt.datetime | None = None) -> list:
    return shared_with_clock_status(cases, step_name=step_name, now=now)


@dataclass(frozen=True)
class CaseClocks:
    current: ClockStatus | None
    all: list[ClockStatus]


def clocks_for_objection(*, user, case: ObjectionCase, now: dt.datetime | None = None) -> CaseClocks:
    qs = Clock.objects.filter(content_type=_ct(), object_id=case.pk)
    if not policy.is_staff_member(user):
        qs = qs.filter(purpose__in=CASE_PURPOSES)
    qs = qs.select_related("organisation").prefetch_related(_pauses_prefetch()).order_by("started_at", "pk")
    cal = get_calendar()
    now = now or timezone.now()
    statuses = [clock_status(c, now=now, calendar=cal) for c in qs]
    open_ = [s for s in statuses if s.clock.stopped_at is None and s.clock.purpose in CASE_PURPOSES]
    running = sorted((s for s in open_ if not s.clock.is_paused), key=lambda s: s.due_at)
    return CaseClocks(current=running[0] if running else (open_[0] if open_ else None), all=statuses)


def timeline_for_case(*, case: ObjectionCase) -> QuerySet[CaseActivity]:
    return (
        CaseActivity.objects.filter(content_type=_ct(), object_id=case.pk).select_related("actor").order_by("at", "pk")
    )


def notices_for_case(*, user, case: ObjectionCase):
    """The case's notices the user may see: notices.selectors decides, as on every route that serves a notice
    (the provider department sees the 核查通知 and 督办通知书; the administrator sees none)."""
    from notices.selectors import notice_list_for_user

    return notice_list_for_user(user=user).filter(content_type=_ct(), object_id=case.pk).order_by("requested_at", "pk")


def attachments_for_case(*, user, case: ObjectionCase) -> QuerySet[Attachment]:
    """Evidence: the applicant, the platform and the provider department (not supervisors, not other
    departments — 河南省社会信用条例 Art 46)."""
    allowed = (
        policy.can_apply_for(user, case.subject, "objection")
        or policy.is_platform(user)
        or (policy.is_department(user) and policy.acting_organisation_id(user) == case.provider_id)
    )
    if not allowed:
        return Attachment.objects.none()
    return (
        Attachment.objects.filter(content_type=_ct(), object_id=case.pk)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def open_objection_for_record(*, user, record) -> ObjectionCase | None:
    return (
        ObjectionCase.objects.filter(objection_scope_q(user), record=record, state__in=OPEN_STATES)
        .order_by("-created_at")
        .first()
    )


def overdue_objections(*, user, now: dt.datetime | None = None, limit: int = 50) -> list[ObjectionCase]:
    """Open objections with a limit run out, for the supervisor (and the platform): each with ``late``, the
    ClockStatus of the overdue limit (the provider's check first), most overdue first."""
    now = now or timezone.now()
    # The most overdue first, at most ``limit`` of them: the overdue clocks in due order (the partial index
    # clock_open_due_idx), a chunk at a time, until enough of their cases are open and the user's — not every
    # overdue objection read and drawn on the desk (thousands at 100,000 open cases; issue 15 item 5).
    late_clocks = Clock.objects.filter(
        content_type=_ct(), purpose__in=CASE_PURPOSES, stopped_at__isnull=True, is_paused=False, due_at__lt=now
    ).order_by("due_at", "pk")
    in_scope = ObjectionCase.objects.filter(objection_scope_q(user), state__in=OPEN_STATES).select_related(
        "subject", "record", "provider"
    )
    found: dict[int, ObjectionCase] = {}
    start = 0
    while len(found) < limit:
        chunk = list(dict.fromkeys(late_clocks.values_list("object_id", flat=True)[start : start + 4 * limit]))
        if not chunk:
            break
        start += 4 * limit
        fetched = {case.pk: case for case in in_scope.filter(pk__in=chunk)}
        for pk in chunk:
            if pk in fetched and pk not in found and len(found) < limit:
                found[pk] = fetched[pk]
    cases = list(found.values())
    clocks = (
        Clock.objects.filter(
            content_type=_ct(),
            object_id__in=[c.pk for c in cases],
            purpose__in=CASE_PURPOSES,
            stopped_at__isnull=True,
            is_paused=False,
            due_at__lt=now,
        )
        .select_related("organisation")
        .prefetch_related(_pauses_prefetch())
    )
    cal = get_calendar()
    by_case: dict[int, list] = {}
    for clock in clocks:
        by_case.setdefault(clock.object_id, []).append(clock_status(clock, now=now, calendar=cal))
    for case in cases:
        statuses = sorted(by_case.get(case.pk, []), key=lambda s: (s.clock.purpose != "objection.provider", s.due_at))
        case.late = statuses[0] if statuses else None
    cases = [c for c in cases if c.late is not None]
    cases.sort(key=lambda c: c.late.due_at)
    return cases


def review_of_case(*, case: ObjectionCase) -> ObjectionCase | None:
    """The 复核 that followed ``case`` (same subject, so visible to whoever sees ``case``)."""
    if case.is_review:
        return None
    return ObjectionCase.objects.filter(review_of=case).first()
