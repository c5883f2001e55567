"""Reads for the credit-repair portal and desk (PROCEDURES.md §1), scoped by cases.policy.

Lists come back annotated in one query with what a row shows: the open step (viewflow task), the current
legal clock (the running one due first; a paused one only when nothing runs) and the chase-ups (催办) made
while that step has been open. ``with_clock_status`` then turns the clock ids of one page into remaining /
overdue working days and explanations with a single further query, so no page runs a query per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from cases import policy
from cases.models import CaseActivity, Organisation, RepairApplication, RepairState
from cases.models.attachments import Attachment
from cases.task_permissions import task_permissions_of
from workflows.calendar import get_calendar
from workflows.models import Clock, ClockPause
from workflows.procedures import procedure_flow
from workflows.selectors import OPEN_TASK_STATUSES, ClockStatus, clock_status
from workflows.selectors import with_clock_status as shared_with_clock_status

# Platform-sync clocks (cases.services.outbox, purpose "outbox:<topic>") measure the delivery to the city
# platform, not a step of the case: never the "current" deadline, and not shown to applicants.
SYNC_Q = Q(purpose="repair.sync") | Q(purpose__startswith="outbox:")


def _is_sync(clock: Clock) -> bool:
    return clock.purpose == "repair.sync" or clock.purpose.startswith("outbox:")


# The steps of workflows.flows.repair.RepairFlow, as people call them.
STEP_NAMES = {
    "acceptance": _("受理审查"),
    "supplement": _("申请人补正材料"),
    "review": _("审查并提出意见"),
    "signoff": _("负责人签批"),
}


def step_name(node_name: str | None) -> str:
    if not node_name:
        return ""
    return str(STEP_NAMES.get(node_name, node_name))


def _repair_ct() -> ContentType:
    return ContentType.objects.get_for_model(RepairApplication)


def _open_tasks(ct: ContentType, object_id=None) -> QuerySet[Task]:
    """Open human tasks of repair cases: of the outer query's case, or of ``object_id``."""
    return Task.objects.filter(
        process__artifact_content_type=ct,
        process__artifact_object_id=OuterRef("pk") if object_id is None else object_id,
        status__in=OPEN_TASK_STATUSES,
        flow_task_type="HUMAN",
    ).order_by("-created")


def _annotate(qs: QuerySet[RepairApplication], tasks: QuerySet[Task]) -> QuerySet[RepairApplication]:
    ct = _repair_ct()
    open_clocks = Clock.objects.filter(
        content_type=ct, object_id=OuterRef("pk"), stopped_at__isnull=True, kind=Clock.Kind.LEGAL
    ).exclude(SYNC_Q)
    running = open_clocks.filter(is_paused=False).order_by("due_at", "pk")
    paused = open_clocks.filter(is_paused=True).order_by("due_at", "pk")
    chases = (
        CaseActivity.objects.filter(
            content_type=ct, object_id=OuterRef("pk"), kind=CaseActivity.Kind.CHASED, at__gte=OuterRef("task_created")
        )
        .order_by()
        .values("object_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.select_related("subject", "record", "record__provider", "handling_organisation", "applicant")
        .annotate(
            task_node=Subquery(tasks.values("flow_task")[:1]),
            task_created=Subquery(tasks.values("created")[:1]),
            current_due_at=Subquery(running.values("due_at")[:1]),
            current_clock_id=Coalesce(Subquery(running.values("pk")[:1]), Subquery(paused.values("pk")[:1])),
        )
        .annotate(chase_count=Coalesce(Subquery(chases, output_field=IntegerField()), Value(0)))
    )


def _case_scope(user) -> Q:
    """Cases the user may see; drafts are the applicant's own business until submitted."""
    q = policy.case_scope_q(user, "repair")
    if not policy.is_applicant(user):
        q &= ~Q(state=RepairState.DRAFT)
    return q


def repair_list_for_user(*, user, state: str = "") -> QuerySet[RepairApplication]:
    """The user's repair cases ("我的申请" for applicants), newest first, annotated (see module doc)."""
    qs = RepairApplication.objects.filter(_case_scope(user))
    if state:
        qs = qs.filter(state=state)
    return _annotate(qs, _open_tasks(_repair_ct())).order_by("-created_at", "-pk")


def repair_get_for_user(*, user, pk: int, for_update: bool = False) -> RepairApplication:
    """One case the user may see; anything else is 404, so ids cannot be probed."""
    app = (
        RepairApplication.objects.filter(_case_scope(user), pk=pk)
        .select_related(
            "subject",
            "record",
            "record__provider",
            "record__subject",
            "handling_organisation",
            "applicant",
            "commitment",
            "rule_set",
            "proposed_by",
            "signed_off_by",
        )
        .first()
    )
    if app is None:
        raise Http404
    return app


def _takeable_q(user) -> Q:
    """Open tasks ``user`` may take: those routed with a role-and-organisation permission the user holds
    for its own organisation (cases.task_permissions), and for applicants the supplement step, which the
    flow leaves to the applicant of the case (scoped by the case query)."""
    q = Q(pk__in=[])
    org_id = policy.acting_organisation_id(user)
    perms = task_permissions_of(user)
    if perms and org_id is not None:
        q |= Q(
            owner_permission__in=perms,
            owner_permission_content_type=ContentType.objects.get_for_model(Organisation),
            owner_permission_obj_pk=str(org_id),
        )
    if policy.is_applicant(user):
        q |= Q(Q(owner_permission__isnull=True) | Q(owner_permission=""), flow_task=procedure_flow("repair").supplement)
    return q


def desk_queue_for_user(*, user) -> QuerySet[RepairApplication]:
    """待办: cases with an open step ``user`` may take, the most urgent legal deadline first (paused clocks,
    which run against nobody, last)."""
    tasks = _open_tasks(_repair_ct()).filter(_takeable_q(user))
    return (
        _annotate(RepairApplication.objects.filter(_case_scope(user)), tasks)
        .filter(task_node__isnull=False)
        .order_by(F("current_due_at").asc(nulls_last=True), "received_at", "pk")
    )


def desk_queue_order(*, user) -> QuerySet:
    """The ids of the desk queue's cases in its order (cases.selectors.inbox.desk_queue_order); the page's
    cases are then read with desk_queue_for_user, which checks each is still takeable."""
    from cases.selectors.inbox import desk_queue_order as inbox_desk_queue_order

    return inbox_desk_queue_order(user=user, procedure="repair")


def with_clock_status(cases, *, now: dt.datetime | None = None) -> list:
    return shared_with_clock_status(cases, step_name=step_name, now=now)


def _pauses():
    from django.db.models import Prefetch

    return Prefetch("pauses", queryset=ClockPause.objects.order_by("paused_on", "id"))


# --- one case -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseClocks:
    current: ClockStatus | None
    all: list[ClockStatus]


def clocks_for_repair(*, user, case: RepairApplication, now: dt.datetime | None = None) -> CaseClocks:
    """Every clock of a case the caller may see, with status and explanation; ``current`` is the one the
    open step runs against (as in the lists). Staff also see the platform-sync clock."""
    qs = Clock.objects.filter(content_type=_repair_ct(), object_id=case.pk)
    if not policy.is_staff_member(user):
        qs = qs.exclude(SYNC_Q)
    qs = qs.prefetch_related(_pauses()).order_by("started_at", "pk")
    cal = get_calendar()
    now = now or timezone.now()
    statuses = [clock_status(c, now=now, calendar=cal) for c in qs]
    open_ = [
        s for s in statuses if s.clock.stopped_at is None and s.clock.kind == Clock.Kind.LEGAL and not _is_sync(s.clock)
    ]
    running = sorted((s for s in open_ if not s.clock.is_paused), key=lambda s: (s.due_at is None, s.due_at))
    current = running[0] if running else (open_[0] if open_ else None)
    return CaseClocks(current=current, all=statuses)


def timeline_for_case(*, case: RepairApplication) -> QuerySet[CaseActivity]:
    return (
        CaseActivity.objects.filter(content_type=_repair_ct(), object_id=case.pk)
        .select_related("actor")
        .order_by("at", "pk")
    )


def chases_open_step(*, case: RepairApplication) -> int:
    """催办 made since the open step began (what the department has not yet answered by acting)."""
    task = _open_tasks(_repair_ct(), case.pk).first()
    if task is None:
        return 0
    return CaseActivity.objects.filter(
        content_type=_repair_ct(), object_id=case.pk, kind=CaseActivity.Kind.CHASED, at__gte=task.created
    ).count()


def notices_for_case(*, user, case: RepairApplication):
    """The case's notices the user may see (applicants: issued ones only — notices.selectors decides)."""
    from notices.selectors import notice_list_for_user

    return (
        notice_list_for_user(user=user)
        .filter(content_type=_repair_ct(), object_id=case.pk)
        .order_by("requested_at", "pk")
    )


def may_download_attachments(user, case: RepairApplication) -> bool:
    """Materials are the applicant's and the deciding department's business (and the credit centre's, which
    supervises the platform): the applicant of the subject, the handling organisation's staff, platform
    staff. Not supervisors or other departments (河南省社会信用条例 Art 46: no wider than the duty needs)."""
    return (
        policy.can_apply_for(user, case.subject, "repair")
        or policy.can_handle_case(user, case)
        or policy.is_platform(user)
    )


def attachments_for_case(*, user, case: RepairApplication) -> QuerySet[Attachment]:
    if not may_download_attachments(user, case):
        return Attachment.objects.none()
    return (
        Attachment.objects.filter(content_type=_repair_ct(), object_id=case.pk)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def attachment_get_for_user(*, user, case_pk: int, pk: int) -> Attachment:
    case = repair_get_for_user(user=user, pk=case_pk)
    attachment = attachments_for_case(user=user, case=case).filter(pk=pk).first()
    if attachment is None:
        raise Http404
    return attachment


def draft_for_record(*, user, record) -> RepairApplication | None:
    """The subject's unfinished draft for ``record``, so a second visit continues it instead of starting over."""
    return (
        RepairApplication.objects.filter(_case_scope(user), record=record, state=RepairState.DRAFT)
        .order_by("-created_at")
        .first()
    )


def open_case_for_record(*, user, record) -> RepairApplication | None:
    from cases.models.repair import OPEN_STATES

    return (
        RepairApplication.objects.filter(_case_scope(user), record=record, state__in=OPEN_STATES)
        .order_by("-created_at")
        .first()
    )
