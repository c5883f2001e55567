"""Reads for the officers' inbox (issue 13): every open task a person's organisation and role may take, in one
list ordered by legal deadline, with the counts per procedure and step and the person's own numbers.

Scoped here, once: a task is in a user's inbox when it was routed with a role-and-organisation permission
the user holds (cases.task_permissions) for the organisation the user acts for. Everything reads
``InboxItem`` (cases.services.inbox keeps it in step with viewflow's tasks and the clocks), so the first
page is an index scan on (organisation, due_at) however many tasks are open, and the page makes the same
handful of queries for 10 tasks or 100,000.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import policy
from cases.models import Delegation, InboxItem, User
from cases.task_permissions import ROLES_FOR, task_permissions_of
from workflows.calendar import LEGAL_TZ, get_calendar
from workflows.procedures import PROCEDURES

WHO_ALL, WHO_MINE, WHO_UNASSIGNED = "all", "mine", "unassigned"

# 18 characters of the GB 32100 alphabet: a 统一社会信用代码 (possibly lower-cased by the person typing).
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$", re.IGNORECASE)
HAS_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class InboxFilters:
    procedure: str = ""
    step: str = ""
    overdue: bool = False
    who: str = WHO_ALL
    q: str = ""


def step_title(procedure: str, node: str) -> str:
    """The step as people call it: the flow node's title (``.Annotation(title=...)``)."""
    p = PROCEDURES.get(procedure)
    if p is None or not p.flow_path:
        return node
    flow_node = getattr(import_string(p.flow_path), node, None)
    title = getattr(flow_node, "task_title", "") if flow_node is not None else ""
    return str(title or node)


def procedure_label(procedure: str) -> str:
    p = PROCEDURES.get(procedure)
    return str(p.label) if p else procedure


def inbox_scope_q(user) -> Q:
    """The inbox rows ``user`` may take: their organisation's, routed with a permission they hold."""
    if not policy.takes_tasks(user):
        return policy.NOTHING
    perms = task_permissions_of(user)
    return Q(organisation_id=policy.acting_organisation_id(user), permission__in=sorted(perms))


def desk_queue_order(*, user, procedure: str) -> QuerySet:
    """The ids of a procedure desk's cases in the queue's order, from the inbox rows of the user's organisation
    and task permissions: the index inbox_org_due_idx gives them by legal deadline, where ordering the cases by
    their clocks' subquery reads every open case of the organisation (issue 15 item 5)."""
    return (
        InboxItem.objects.filter(inbox_scope_q(user), procedure=procedure)
        .order_by(F("due_at").asc(nulls_last=True), "created", "task_id")
        .values_list("case_id", flat=True)
    )


_scope_q = inbox_scope_q


def delegators_of(user, *, on: dt.date | None = None) -> list[int]:
    """Colleagues who named ``user`` to act for them today."""
    on = on or timezone.localdate()
    return list(
        Delegation.objects.filter(delegate=user, starts_on__lte=on, ends_on__gte=on, cancelled_at__isnull=True)
        .order_by()
        .values_list("delegator_id", flat=True)
        .distinct()
    )


def _mine_q(user, delegators: list[int]) -> Q:
    """Mine: held by me, routed to my delegate while I am away, or held by a colleague I stand in for."""
    q = Q(owner_id=user.pk) | Q(routed_for_id=user.pk)
    if delegators:
        q |= Q(owner_id__in=delegators)
    return q


def _search_q(text: str) -> Q:
    text = text.strip()
    if not text:
        return Q()
    if USCC_RE.match(text):
        return Q(subject_code=text.upper())
    if HAS_CJK.search(text):
        return Q(subject_name__icontains=text)
    # A 办件编号, as printed on every notice and receipt: matched whole, so the index answers it.
    return Q(tracking_number=text.upper())


def inbox_items_for_user(
    *, user, filters: InboxFilters = InboxFilters(), delegators: list[int] | None = None, now: dt.datetime | None = None
):
    """The user's inbox, filtered, the nearest legal deadline first (tasks without a running clock last)."""
    now = now or timezone.now()
    qs = InboxItem.objects.filter(_scope_q(user))
    if filters.procedure:
        qs = qs.filter(procedure=filters.procedure)
    if filters.step:
        qs = qs.filter(node=filters.step)
    if filters.overdue:
        qs = qs.filter(due_at__lt=now)
    if filters.who == WHO_MINE:
        qs = qs.filter(_mine_q(user, delegators_of(user) if delegators is None else delegators))
    elif filters.who == WHO_UNASSIGNED:
        qs = qs.filter(owner__isnull=True)
    if filters.q:
        qs = qs.filter(_search_q(filters.q))
    return qs.select_related("owner", "routed_for").order_by(F("due_at").asc(nulls_last=True), "task_id")


@dataclass
class StepCount:
    procedure: str
    node: str
    label: str
    total: int
    overdue: int
    unassigned: int
    mine: int


@dataclass
class InboxCounts:
    total: int = 0
    overdue: int = 0
    unassigned: int = 0
    mine: int = 0
    steps: list[StepCount] = field(default_factory=list)
    procedures: list[tuple[str, str, int]] = field(default_factory=list)


# The grouped counts of an organisation are cached for COUNTS_TTL seconds under a version that every change of
# the organisation's inbox rows bumps (cases.services.inbox): totals and unassigned are exact after any claim,
# assignment or completed step; the overdue figure is at most a minute old.
COUNTS_TTL = 30


def counts_version_key(organisation_id: int) -> str:
    return f"inbox:counts-version:{organisation_id}"


def _grouped_counts(user, perms: tuple[str, ...], now: dt.datetime) -> list[dict]:
    org_id = policy.acting_organisation_id(user)
    version = cache.get(counts_version_key(org_id), 0)
    # The minute is part of the key: the overdue figure is never older than a minute.
    key = f"inbox:counts:{org_id}:{','.join(perms)}:{version}:{now:%Y%m%d%H%M}"
    rows = cache.get(key)
    if rows is None:
        rows = list(
            InboxItem.objects.filter(_scope_q(user))
            .values("procedure", "node")
            .annotate(
                total=Count("organisation"),
                overdue=Count("organisation", filter=Q(due_at__lt=now)),
                unassigned=Count("organisation", filter=Q(owner__isnull=True)),
            )
            .order_by("procedure", "node")
        )
        cache.set(key, rows, COUNTS_TTL)
    return rows


def inbox_counts_for_user(*, user, delegators: list[int] | None = None, now: dt.datetime | None = None) -> InboxCounts:
    """Counts per procedure and step of the whole inbox (unfiltered): the organisation's, shared by its staff
    (cached, see COUNTS_TTL), and the user's own, read live through the owner indexes."""
    if not policy.takes_tasks(user):
        return InboxCounts()
    now = now or timezone.now()
    if delegators is None:
        delegators = delegators_of(user)
    rows = _grouped_counts(user, tuple(sorted(task_permissions_of(user))), now)
    mine = {
        (r["procedure"], r["node"]): r["n"]
        for r in InboxItem.objects.filter(_scope_q(user))
        .filter(_mine_q(user, delegators))
        .values("procedure", "node")
        .annotate(n=Count("organisation"))
        .order_by()
    }
    counts = InboxCounts()
    per_procedure: dict[str, int] = {}
    for row in rows:
        n_mine = mine.get((row["procedure"], row["node"]), 0)
        counts.total += row["total"]
        counts.overdue += row["overdue"]
        counts.unassigned += row["unassigned"]
        counts.mine += n_mine
        per_procedure[row["procedure"]] = per_procedure.get(row["procedure"], 0) + row["total"]
        counts.steps.append(
            StepCount(
                procedure=row["procedure"],
                node=row["node"],
                label=f"{procedure_label(row['procedure'])} · {step_title(row['procedure'], row['node'])}",
                total=row["total"],
                overdue=row["overdue"],
                unassigned=row["unassigned"],
                mine=n_mine,
            )
        )
    counts.procedures = [(code, procedure_label(code), n) for code, n in per_procedure.items()]
    return counts


def inbox_total_from_counts(counts: InboxCounts, filters: InboxFilters) -> int | None:
    """The number of rows of a filtered list when the counts already say it exactly (no search, no overdue
    filter), so the pager needs no second pass over the organisation's tasks."""
    if filters.q or (filters.overdue and filters.who != WHO_ALL):
        return None
    column = (
        "overdue" if filters.overdue else {WHO_MINE: "mine", WHO_UNASSIGNED: "unassigned"}.get(filters.who, "total")
    )
    return sum(
        getattr(s, column)
        for s in counts.steps
        if (not filters.procedure or s.procedure == filters.procedure) and (not filters.step or s.node == filters.step)
    )


@dataclass
class Countdown:
    due_date: dt.date | None
    provisional: bool
    overdue: bool
    due_today: bool
    remaining: int | None  # working days after today
    overdue_working_days: int | None


def with_countdown(items, *, user, delegators: list[int], now: dt.datetime | None = None) -> list[InboxItem]:
    """Give each row of a page its countdown (working days left or overdue), the step's name, the link to the
    case page and what the user may do with it — from the calendar in memory, no query per row."""
    cal = get_calendar()
    now = now or timezone.now()
    today = timezone.localtime(now, LEGAL_TZ).date()
    leader = policy.can_assign_tasks(user)
    perms = task_permissions_of(user)
    items = list(items)
    for item in items:
        overdue = item.due_at is not None and now > item.due_at
        item.countdown = Countdown(
            due_date=item.due_date,
            provisional=item.provisional,
            overdue=overdue,
            due_today=not overdue and item.due_date == today,
            remaining=None
            if overdue or item.due_date is None
            else max(0, cal.working_days_between(today, item.due_date)),
            overdue_working_days=max(0, cal.working_days_between(item.due_date, today)) if overdue else None,
        )
        item.step_label = step_title(item.procedure, item.node)
        item.procedure_label = procedure_label(item.procedure)
        procedure = PROCEDURES.get(item.procedure)
        item.url = reverse(procedure.staff_url_name, kwargs={"pk": item.case_id}) if procedure else ""
        item.is_mine = item.owner_id == user.pk or item.owner_id in delegators or item.routed_for_id == user.pk
        item.may_claim = item.owner_id is None and item.permission in perms
        item.may_release = item.owner_id is not None and (item.is_mine or leader)
        item.may_assign = leader
    return items


def assignable_colleagues(*, user) -> QuerySet[User]:
    """Whom a leader may give its department's tasks to: the active handlers and leaders of the department
    (the service checks each task's own permission)."""
    if not policy.can_assign_tasks(user):
        return User.objects.none()
    roles = set().union(*ROLES_FOR.values()) & set(policy.DEPARTMENT_ROLES)
    return User.objects.filter(
        organisation_id=policy.acting_organisation_id(user), is_active=True, role__in=sorted(roles)
    ).order_by("role", "display_name", "username")


def delegation_colleagues(*, user) -> QuerySet[User]:
    """Whom a person may name while absent: active colleagues of the same organisation (the service checks
    that the colleague's role covers the person's tasks)."""
    if not policy.takes_tasks(user):
        return User.objects.none()
    return (
        User.objects.filter(organisation_id=policy.acting_organisation_id(user), is_active=True)
        .exclude(pk=user.pk)
        .order_by("display_name", "username")
    )


def delegations_for_user(*, user) -> QuerySet[Delegation]:
    """Delegations the user gave or received that have not ended (for the delegation page)."""
    today = timezone.localdate()
    return (
        Delegation.objects.filter(Q(delegator=user) | Q(delegate=user), ends_on__gte=today, cancelled_at__isnull=True)
        .select_related("delegator", "delegate")
        .order_by("starts_on", "pk")
    )


def delegation_get_for_user(*, user, pk: int) -> Delegation:
    from django.http import Http404

    delegation = Delegation.objects.filter(pk=pk).select_related("delegator").first()
    if delegation is None or not (
        delegation.delegator_id == user.pk
        or delegation.delegate_id == user.pk
        or (
            policy.can_assign_tasks(user)
            and policy.acting_organisation_id(user) == delegation.delegator.organisation_id
        )
    ):
        raise Http404
    return delegation


@dataclass(frozen=True)
class PersonalNumbers:
    todo: int
    due_soon: int
    overdue: int
    done_this_month: int


def personal_numbers(*, user, now: dt.datetime | None = None) -> PersonalNumbers | None:
    """The 工作台's own numbers: to do (mine and the unassigned I may claim), due within 2 working days,
    overdue, and the tasks I completed this month."""
    if not policy.takes_tasks(user):
        return None
    now = now or timezone.now()
    today = timezone.localtime(now, LEGAL_TZ).date()
    soon = get_calendar().add_working_days(today, 2)
    open_ = Q(owner__isnull=True) | _mine_q(user, delegators_of(user))
    agg = (
        InboxItem.objects.filter(_scope_q(user))
        .filter(open_)
        .aggregate(
            todo=Count("*"),
            due_soon=Count("organisation", filter=Q(due_at__gte=now, due_date__lte=soon)),
            overdue=Count("organisation", filter=Q(due_at__lt=now)),
        )
    )
    month_start = timezone.make_aware(dt.datetime(today.year, today.month, 1), LEGAL_TZ)
    done = Task.objects.filter(owner=user, status=STATUS.DONE, finished__gte=month_start).count()
    return PersonalNumbers(todo=agg["todo"], due_soon=agg["due_soon"], overdue=agg["overdue"], done_this_month=done)
