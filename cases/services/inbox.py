"""The officers' inbox, every write: keeping ``InboxItem`` in step with viewflow's tasks and the clocks, and
the assignment of work — claim, release, assign and reassign, bulk assignment, delegation while absent.

Assignment is viewflow's own (``Task.owner`` through the node's activation: ``assign`` on a new task,
``reassign`` on an assigned one, ``unassign`` to give it back), run under the process lock the flows use
(workflows.engine.PROCESS_LOCK), so two officers claiming the same task at once get one winner and a clear
conflict for the other. Every action is audited in its transaction and logged.

Who may do what (cases.policy): anyone who holds the role-and-organisation permission a task was routed
with may claim it; its owner (or the owner's delegate) may release it; a department's leader assigns and
reassigns its department's tasks, one by one or in bulk, to colleagues who hold the task's permission.
Cases belong to the organisation (优化营商环境条例 Art 31 spirit: a change of officials changes no
obligation), so an absent officer's work goes to the colleague they named (``Delegation``).
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack
from functools import cache as memoise

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import policy
from cases.models import Delegation, InboxItem, Organisation, User
from cases.portable_sql import is_postgresql
from cases.selectors.inbox import counts_version_key
from cases.services.audit import audit_log
from cases.task_permissions import task_permissions_of
from workflows import engine
from workflows.models import Clock
from workflows.procedures import PROCEDURES
from workflows.selectors import OPEN_TASK_STATUSES

logger = logging.getLogger("casework.inbox")

# Clocks that measure the delivery to the city platform, not a step of the case: never a task's deadline.
SYNC_PURPOSE_Q = Q(purpose="repair.sync") | Q(purpose__startswith="outbox:")


class InboxError(ValidationError):
    """An assignment that cannot be made, with the reason the officer reads."""


# --- keeping the table in step -------------------------------------------------------------------------------


@memoise
def _procedure_of_flow() -> dict:
    return {import_string(p.flow_path): code for code, p in PROCEDURES.items() if p.flow_path}


def _organisation_ct_id() -> int:
    # Django's own content-type cache, not one of ours: it is cleared when the table is rebuilt (a flushed
    # test database gives the content types new ids).
    return ContentType.objects.get_for_model(Organisation).pk


def _case_of(artifact):
    """The case a task's process works on: the artifact itself, or for 撤销行政决定 its verification check."""
    if artifact is not None and not hasattr(artifact, "tracking_number") and hasattr(artifact, "verification"):
        return artifact.verification
    return artifact


def _is_listed(task: Task) -> bool:
    """Open human tasks routed to an organisation's role. The applicant's own steps (补正) are not staff work."""
    return (
        task.status in OPEN_TASK_STATUSES
        and task.flow_task_type == "HUMAN"
        and bool(task.owner_permission)
        and task.owner_permission_content_type_id == _organisation_ct_id()
        and bool(task.owner_permission_obj_pk)
    )


def _current_clock(case_type, case_id, organisation_id) -> Q:
    """The running legal clock a step runs against, as a subquery: the one of the task's own organisation if
    it has one, else the case's; the earliest due first. Paused clocks run against nobody."""
    return (
        Clock.objects.filter(
            content_type_id=case_type,
            object_id=case_id,
            kind=Clock.Kind.LEGAL,
            stopped_at__isnull=True,
            is_paused=False,
        )
        .exclude(SYNC_PURPOSE_Q)
        .annotate(
            theirs=Case(
                When(organisation_id=organisation_id, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("theirs", "due_at", "pk")
    )


def _counts_changed(organisation_id) -> None:
    """The organisation's cached inbox counts are out of date: now (this transaction sees its own change) and
    again once it commits (a page that cached the counts in between read them without the change)."""
    key = counts_version_key(organisation_id)

    def bump():
        try:
            cache.incr(key)
        except ValueError:  # no version yet
            cache.set(key, 1, None)

    bump()
    transaction.on_commit(bump)


def inbox_sync_task(*, task: Task, created: bool = False) -> None:
    """Bring ``task``'s inbox row in step with the task (called on every save of a viewflow Task).

    ``created``: the task row was just inserted, so it has no inbox row yet. A task that was just created, or
    that is no human task (a switch, the start, the end) or is routed to no permission (the applicant's own
    step), cannot have a row to delete: no statement then."""
    if not _is_listed(task):
        if created or task.flow_task_type != "HUMAN" or not task.owner_permission:
            return
        deleted = InboxItem.objects.filter(pk=task.pk).delete()[0]
        if deleted and task.owner_permission_obj_pk:
            _counts_changed(task.owner_permission_obj_pk)
        return
    # The common case — an owner changed on a listed task — is one UPDATE.
    if not created and InboxItem.objects.filter(pk=task.pk).update(owner_id=task.owner_id):
        _counts_changed(task.owner_permission_obj_pk)
        return
    process = task.process
    case = _case_of(process.artifact)
    procedure = _procedure_of_flow().get(process.flow_class)
    if case is None or procedure is None:
        return
    case_type = ContentType.objects.get_for_model(case)
    org_id = int(task.owner_permission_obj_pk)
    clock = _current_clock(case_type.pk, case.pk, org_id).values("due_date", "due_at", "provisional").first()
    subject = case.subject
    InboxItem.objects.create(
        task=task,
        procedure=procedure,
        node=task.flow_task.name,
        case_type=case_type,
        case_id=case.pk,
        tracking_number=case.tracking_number or "",
        subject_name=subject.name,
        subject_code=subject.uscc or "",
        organisation_id=org_id,
        permission=task.owner_permission,
        owner_id=task.owner_id,
        created=task.created,
        due_date=clock["due_date"] if clock else None,
        due_at=clock["due_at"] if clock else None,
        provisional=clock["provisional"] if clock else False,
    )
    _counts_changed(org_id)


def inbox_sync_due(*, case_filter: Q) -> int:
    """Re-read the due moment of the inbox rows matching ``case_filter`` from their clocks (called when a
    clock starts, pauses, resumes, is extended, stops or is recomputed). On PostgreSQL one UPDATE; SQLite
    (the embedded demo) cannot correlate the clock subquery with the row being updated, so it goes row by
    row there (a case has one or two open tasks)."""
    if not is_postgresql():
        n = 0
        for item in InboxItem.objects.filter(case_filter).only("pk", "case_type_id", "case_id", "organisation_id"):
            clock = _current_clock(item.case_type_id, item.case_id, item.organisation_id).values(
                "due_date", "due_at", "provisional"
            ).first() or {"due_date": None, "due_at": None, "provisional": False}
            n += InboxItem.objects.filter(pk=item.pk).update(**clock)
        return n
    clock = _current_clock(OuterRef("case_type"), OuterRef("case_id"), OuterRef("organisation_id"))
    return InboxItem.objects.filter(case_filter).update(
        due_date=Subquery(clock.values("due_date")[:1]),
        due_at=Subquery(clock.values("due_at")[:1]),
        provisional=Coalesce(Subquery(clock.values("provisional")[:1]), Value(False)),
    )


def inbox_sync_clock(*, clock: Clock) -> int:
    return inbox_sync_due(case_filter=Q(case_type_id=clock.content_type_id, case_id=clock.object_id))


def inbox_sync_clocks(*, clock_ids) -> int:
    """After a bulk recompute of clocks (a calendar change), which sends no post_save."""
    ids = list(clock_ids)
    if not ids:
        return 0
    if len(ids) > 1000:  # a whole year imported: one pass over the table is cheaper than a long id list
        return inbox_sync_due(case_filter=Q())
    changed = Clock.objects.filter(pk__in=ids, content_type_id=OuterRef("case_type"), object_id=OuterRef("case_id"))
    return inbox_sync_due(case_filter=Q(Exists(changed)))


def inbox_rebuild() -> int:
    """Rebuild the whole table from viewflow's open tasks (after restoring a backup, or on first deployment
    with open cases). Idempotent."""
    with transaction.atomic():
        for org_id in InboxItem.objects.values_list("organisation_id", flat=True).distinct():
            _counts_changed(org_id)
        InboxItem.objects.all().delete()
        tasks = (
            Task.objects.filter(status__in=OPEN_TASK_STATUSES, flow_task_type="HUMAN")
            .exclude(owner_permission__isnull=True)
            .exclude(owner_permission="")
            .select_related("process")
        )
        for task in tasks.iterator(chunk_size=500):
            inbox_sync_task(task=task)
        return InboxItem.objects.count()


# --- delegation ------------------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def active_delegate_of(user, *, on: dt.date | None = None) -> User | None:
    """The colleague ``user`` named to act while absent on ``on`` (today), if any."""
    on = on or _today()
    delegation = (
        Delegation.objects.filter(delegator=user, starts_on__lte=on, ends_on__gte=on, cancelled_at__isnull=True)
        .select_related("delegate")
        .order_by("-created_at")
        .first()
    )
    return delegation.delegate if delegation else None


def delegation_create(
    *, actor, delegate: User, starts_on: dt.date, ends_on: dt.date, reason: str = "", delegator: User | None = None
) -> Delegation:
    """``delegator`` (the actor, or a colleague when the actor is their leader) names ``delegate`` to act
    from ``starts_on`` to ``ends_on``. The delegate must be an active colleague of the same organisation who
    holds every task permission the delegator holds (a leader's sign-off goes to another leader)."""
    delegator = delegator or actor
    org_id = policy.acting_organisation_id(delegator)
    if delegator.pk != actor.pk and not (
        policy.can_assign_tasks(actor) and policy.acting_organisation_id(actor) == org_id
    ):
        raise PermissionDenied(_("只有本人或本部门负责人可以登记离岗委托。"))
    if org_id is None or not policy.takes_tasks(delegator):
        raise PermissionDenied(_("您不办理待办事项，无需登记离岗委托。"))
    errors = {}
    if delegate.pk == delegator.pk:
        errors["delegate"] = _("不能委托给本人。")
    elif not delegate.is_active or policy.acting_organisation_id(delegate) != org_id:
        errors["delegate"] = _("受托人必须是本机构在岗的工作人员。")
    elif not task_permissions_of(delegator) <= task_permissions_of(delegate):
        errors["delegate"] = _("受托人的角色不能办理委托人的全部事项（例如负责人签批只能委托给负责人）。")
    if ends_on < starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期。")
    elif ends_on < _today():
        errors["ends_on"] = _("结束日期已过。")
    if errors:
        raise InboxError(errors)
    with transaction.atomic():
        # A double click or a resubmitted form makes one delegation (STYLE.md 15).
        existing = Delegation.objects.filter(
            delegator=delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on, cancelled_at__isnull=True
        ).first()
        if existing:
            return existing
        overlapping = Delegation.objects.select_for_update().filter(
            delegator=delegator, cancelled_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
        )
        if overlapping.exists():
            raise InboxError({"starts_on": _("该期间已有离岗委托，请先撤销原委托。")})
        delegation = Delegation.objects.create(
            delegator=delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()
        )
        audit_log(
            actor=actor,
            action="inbox.delegation_create",
            obj=delegation,
            data={"delegator": delegator.pk, "delegate": delegate.pk, "from": starts_on, "until": ends_on},
        )
    logger.info("Delegation %s: %s → %s, %s–%s", delegation.pk, delegator, delegate, starts_on, ends_on)
    return delegation


def delegation_cancel(*, actor, delegation: Delegation) -> Delegation:
    """The delegator (or their leader) ends a delegation early; tasks already routed stay with the delegate."""
    if delegation.delegator_id != actor.pk and not (
        policy.can_assign_tasks(actor)
        and policy.acting_organisation_id(actor) == policy.acting_organisation_id(delegation.delegator)
    ):
        raise PermissionDenied(_("只有本人或本部门负责人可以撤销离岗委托。"))
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.cancelled_at is None:
            locked.cancelled_at = timezone.now()
            locked.save(update_fields=["cancelled_at"])
            audit_log(actor=actor, action="inbox.delegation_cancel", obj=locked, data={})
    return locked


# --- claim, release, assign -------------------------------------------------------------------------------------


def _process_lock(task_id: int):
    """The lock of the task's process (taken before the task row, the order complete_task uses)."""
    task = Task.objects.filter(pk=task_id).only("pk", "process_id", "flow_task").first()
    if task is None:
        raise engine.TaskConflict()
    return task.flow_task.flow_class.lock(task.process_id)


def _reload_open(task_id: int) -> Task:
    task = Task.objects.select_for_update(of=("self",)).select_related("process").get(pk=task_id)
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED) or not _is_listed(task):
        raise engine.TaskConflict()
    return task


def _acts_for(actor, owner_id: int | None) -> bool:
    """The actor is the owner, or the owner's delegate today."""
    if owner_id is None:
        return False
    if owner_id == actor.pk:
        return True
    return Delegation.objects.filter(
        delegator_id=owner_id,
        delegate=actor,
        starts_on__lte=_today(),
        ends_on__gte=_today(),
        cancelled_at__isnull=True,
    ).exists()


def _audit(actor, action: str, task: Task, **data) -> None:
    item = InboxItem.objects.filter(pk=task.pk).values("tracking_number", "procedure", "node").first() or {}
    audit_log(
        actor=actor,
        action=action,
        object_type="viewflow.task",
        object_id=task.pk,
        data={"tracking_number": item.get("tracking_number", ""), "step": item.get("node", ""), **data},
    )
    logger.info("%s task %s (%s) by %s %s", action, task.pk, item.get("tracking_number", ""), actor, data or "")


def task_claim(*, actor, task_id: int) -> Task:
    """认领: take an unassigned task one may take."""
    with transaction.atomic(), _process_lock(task_id):
        task = _reload_open(task_id)
        if not engine.may_take(task.flow_task, actor, task):
            raise PermissionDenied(_("您无权办理此事项。"))
        if task.owner_id is not None:
            if task.owner_id == actor.pk:
                return task  # a double click
            raise engine.TaskConflict(_("该事项已由他人认领，请刷新页面。"))
        task.flow_task.activation_class(task).assign(actor)
        _audit(actor, "inbox.claim", task)
    return task


def task_release(*, actor, task_id: int) -> Task:
    """退回待认领: the owner (or their delegate, or their leader) gives the task back to the organisation."""
    with transaction.atomic(), _process_lock(task_id):
        task = _reload_open(task_id)
        if task.owner_id is None:
            return task  # already released
        leader = policy.can_assign_tasks(actor) and str(policy.acting_organisation_id(actor)) == str(
            task.owner_permission_obj_pk
        )
        if not (_acts_for(actor, task.owner_id) or leader):
            raise PermissionDenied(_("只有承办人或本部门负责人可以退回此事项。"))
        previous = task.owner_id
        task.flow_task.activation_class(task).unassign()
        InboxItem.objects.filter(pk=task.pk).update(routed_for=None)
        _audit(actor, "inbox.release", task, previous_owner=previous)
    return task


def _assign_locked(*, actor, task: Task, assignee: User) -> User:
    """Assign or reassign ``task`` (locked) to ``assignee`` — or to the colleague they named while absent.
    Returns who got it."""
    if not (
        policy.can_assign_tasks(actor)
        and str(policy.acting_organisation_id(actor)) == str(task.owner_permission_obj_pk)
    ):
        raise PermissionDenied(_("只有本部门负责人可以分派或改派待办事项。"))
    node = task.flow_task
    if not assignee.is_active or not engine.may_take(node, assignee, task):
        raise InboxError(
            _("%(name)s 不能办理“%(step)s”环节。") % {"name": assignee, "step": node.task_title or node.name}
        )
    target = assignee
    delegate = active_delegate_of(assignee)
    if delegate is not None and delegate.is_active and engine.may_take(node, delegate, task):
        target = delegate
    previous = task.owner_id
    if previous == target.pk:
        return target
    activation = node.activation_class(task)
    if task.status == STATUS.NEW:
        activation.assign(target)
    else:
        activation.reassign(target)
    InboxItem.objects.filter(pk=task.pk).update(routed_for=assignee if target.pk != assignee.pk else None)
    _audit(
        actor,
        "inbox.reassign" if previous else "inbox.assign",
        task,
        previous_owner=previous,
        owner=target.pk,
        routed_for=assignee.pk if target.pk != assignee.pk else None,
    )
    return target


def task_assign(*, actor, task_id: int, assignee: User) -> User:
    """分派 / 改派: the leader gives a task of the department to a colleague (whoever held it before)."""
    with transaction.atomic(), _process_lock(task_id):
        task = _reload_open(task_id)
        return _assign_locked(actor=actor, task=task, assignee=assignee)


def task_assign_bulk(*, actor, task_ids, assignee: User) -> int:
    """批量分派: all of them or none (one task that cannot go to ``assignee`` stops the batch with its reason).
    Processes are locked in id order so two leaders' batches wait for each other instead of deadlocking."""
    ids = sorted({int(i) for i in task_ids})
    if not ids:
        raise InboxError(_("请至少选择一项待办事项。"))
    tasks = list(Task.objects.filter(pk__in=ids).select_related("process").order_by("process_id", "pk"))
    if len(tasks) != len(ids):
        raise engine.TaskConflict()
    with transaction.atomic(), ExitStack() as locks:
        for process_id in sorted({t.process_id for t in tasks}):
            flow_class = next(t for t in tasks if t.process_id == process_id).flow_task.flow_class
            locks.enter_context(flow_class.lock(process_id))
        for task in tasks:
            _assign_locked(actor=actor, task=_reload_open(task.pk), assignee=assignee)
    return len(tasks)


# --- receivers (connected in cases.apps.CasesConfig.ready) ------------------------------------------------------


def on_task_saved(sender, instance, created=False, raw=False, **kwargs):
    """viewflow saves a Task on every change of status or owner."""
    if not raw:
        inbox_sync_task(task=instance, created=created)


def on_clock_saved(sender, instance, raw=False, **kwargs):
    """The clocks' services save a Clock on every change of its due moment. Inside a transaction the inbox rows
    of its case are brought in step once, just before COMMIT, after every clock and task change the
    transaction makes (a step that stops one clock and starts another, or routes to a new task, used to
    update them after each): ``inbox_sync_due_batch``."""
    if raw:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and hasattr(connection, "queue_before_commit"):
        connection.queue_before_commit(DUE_HANDLER, (instance.content_type_id, instance.object_id))
    else:
        inbox_sync_clock(clock=instance)


DUE_HANDLER = "inbox_due"


def inbox_sync_due_batch(connection, cases) -> None:
    """Pre-commit handler: the inbox rows of every case whose clocks the transaction changed, one UPDATE."""
    keys = sorted(set(cases))
    case_filter = Q()
    for case_type_id, case_id in keys:
        case_filter |= Q(case_type_id=case_type_id, case_id=case_id)
    inbox_sync_due(case_filter=case_filter)
