"""Running viewflow tasks from our own thin views and services.

A human step is always: lock the process (SELECT ... FOR UPDATE on the process row, ``lock_impl``), re-read
the task, check it is still open, run the service that makes the legal change, complete the task so the
flow routes the next one. Everything happens in one transaction, so the open task and the case's legal
state can never disagree (tested in tests/test_repair_flow.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from workflows.selectors import OPEN_TASK_STATUSES

T = TypeVar("T")


# The lock every flow of ours uses (``lock_impl``): SELECT ... FOR UPDATE on the process row, *waiting* for
# the holder. viewflow's default (nowait=True with retries) catches the lock error inside a savepoint it then
# tries to release, which fails ("current transaction is aborted") whenever the lock is taken inside an
# outer transaction, as complete_task does — so the second of two officers got a 500 instead of a
# TaskConflict. Waiting is right here: the holder's step is short, and afterwards the waiter re-reads the
# task and sees it done.
class ProcessRowLock:
    """``lock_impl``: SELECT ... FOR UPDATE on the process row, waiting for the holder, in the caller's
    transaction without a savepoint of its own (nothing inside catches a failure: it rolls back the whole
    step), which saves two statements per step over viewflow's SelectForUpdateLock (issue 15)."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        with transaction.atomic(savepoint=False):
            if _starting.get() is None:
                flow_class.process_class._default_manager.filter(pk=process_pk).select_for_update().exists()
            # else: start_process is inserting this process row in the caller's transaction; no other transaction
            # can see it before COMMIT, so there is nothing to wait for (one statement saved per start).
            yield


PROCESS_LOCK = ProcessRowLock()

# Set while start_process runs viewflow's start node: the process row it locks is the one it has just inserted.
_starting: ContextVar[object | None] = ContextVar("workflows_engine_starting", default=None)


class TaskConflict(Exception):
    """The step was already done (by someone else, or in another tab)."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("该事项已由他人处理或状态已变化，请刷新页面后查看最新状态。"))


def process_for(case: models.Model) -> Process | None:
    ct = ContentType.objects.get_for_model(case)
    return Process.objects.filter(artifact_content_type=ct, artifact_object_id=case.pk).order_by("-created").first()


def open_tasks(case: models.Model):
    process = process_for(case)
    if process is None:
        return Task.objects.none()
    return process.task_set.filter(status__in=OPEN_TASK_STATUSES, flow_task_type="HUMAN")


def open_task(case: models.Model) -> Task | None:
    return open_tasks(case).order_by("-created").first()


def open_node_name(case: models.Model) -> str | None:
    task = open_task(case)
    return task.flow_task.name if task else None


def start_process(flow_class, *, case: models.Model, start=None) -> Process:
    """Start ``flow_class`` for ``case`` (inside the caller's transaction), at its ``start`` node or ``start``.

    viewflow's nested ``atomic()`` blocks open no savepoints here: nothing catches a failure inside them, which
    rolls back the caller's whole step (config/db/savepoints.py)."""
    token = _starting.set(case)
    try:
        with transaction.get_connection().savepoints_elided():
            return (start or flow_class.start).run(case=case)
    finally:
        _starting.reset(token)


def may_take(node, user, task: Task) -> bool:
    """Whether ``user`` holds the role-and-organisation permission the task was routed with."""
    if not task.owner_permission:
        return task.owner_id is None or task.owner_id == user.pk
    if task.owner_permission_content_type_id and task.owner_permission_obj_pk:
        # The object the task was routed to is stored on the task (viewflow's owner_permission_obj): asked by
        # its identity only (cases/task_permissions.py compares the organisation's pk), so nothing is read —
        # not the case, not its organisation (issue 15).
        model = ContentType.objects.get_for_id(task.owner_permission_content_type_id).model_class()
        obj = model(pk=model._meta.pk.to_python(task.owner_permission_obj_pk))
    else:
        obj = node._owner_permission_obj(task.process.coerced) if callable(node._owner_permission_obj) else None
    return user.has_perm(task.owner_permission, obj=obj)


def complete_task(*, case: models.Model, node, user, action: Callable[[], T], check_permission: bool = True) -> T:
    """Run ``action`` (a service call) as the execution of ``case``'s open ``node`` task, then route on.

    ``node`` is the flow node (e.g. ``RepairFlow.acceptance``). Raises TaskConflict when that step is no
    longer open, PermissionDenied when ``user`` may not take it.
    """
    with transaction.atomic():
        # Find and lock the process row in one statement: the lock flow_class.lock (ProcessRowLock) takes,
        # so viewflow's own locking inside the step finds it held.
        ct = ContentType.objects.get_for_model(case)
        process = (
            Process.objects.select_for_update()
            .filter(artifact_content_type=ct, artifact_object_id=case.pk)
            .order_by("-created")
            .first()
        )
        if process is None:
            raise TaskConflict()
        task = (
            Task.objects.select_for_update()
            .filter(process=process, flow_task=node, status__in=OPEN_TASK_STATUSES)
            .first()
        )
        if task is None:
            raise TaskConflict()
        # The process just read and locked, never read again; its case is the caller's (the permission object
        # is its organisation), replaced by the service's locked, changed case once the action has run.
        task.process = process
        Process._meta.get_field("artifact").set_cached_value(process, case)
        if check_permission and not may_take(node, user, task):
            raise PermissionDenied(_("您无权办理此事项。"))
        activation = node.activation_class(task)
        if task.status == STATUS.NEW or task.owner_id != user.pk:
            # viewflow's assign/reassign, without their save: the task row is written once, by execute()
            # below, in this same transaction (owner, status and finish together), so nobody ever sees the
            # in-between state and the step costs two statements less (the task UPDATE and its inbox row's).
            # The case belongs to the organisation, not to the officer who claimed it (优化营商环境条例 Art 31
            # spirit: staff change, the work goes on): a colleague with the same role may finish it.
            task.owner = user
            task.status = STATUS.ASSIGNED
        activation.start(None)
        result = action()
        remember_case(task.process, case, result)
        # Routing opens no savepoints (config/db/savepoints.py): a failure in it rolls back the whole step.
        with transaction.get_connection().savepoints_elided():
            activation.execute()
        return result


def remember_case(process: Process, case: models.Model, result) -> None:
    """Let the flow's switches read the legal state from the case the service just changed and returned
    (locked, current) instead of reading it again; anything else leaves them to read it from the database."""
    field = Process._meta.get_field("artifact")
    if isinstance(result, type(case)) and result.pk == case.pk:
        result._remembered_for_switch = True
        field.set_cached_value(process, result)
    elif field.is_cached(process):
        field.delete_cached_value(process)


@contextmanager
def process_locked(case: models.Model) -> Iterator[None]:
    """A transaction holding ``case``'s process lock. Services that change the legal state outside a task
    (withdrawal, the deemed-withdrawal sweep) take it *before* locking the case row, the order
    complete_task uses, so a step and a withdrawal running at once wait for each other instead of
    deadlocking."""
    process = process_for(case)
    with transaction.atomic():
        if process is None:
            yield
        else:
            with process.flow_class.lock(process.pk):
                yield


def cancel_process(*, case: models.Model) -> None:
    """End the routing of ``case`` (withdrawn, deemed withdrawn): open tasks are cancelled."""
    process = process_for(case)
    if process is None or process.status != PROCESS.NEW:
        return
    flow_class = process.flow_class
    flow_class.instance.cancel(process)
