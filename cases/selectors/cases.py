"""Cases of every procedure that shares CaseBase, their open tasks and notices, scoped by cases.policy: what the
API's department and platform clients read (the pages read the same through each procedure's selectors)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import Http404
from viewflow.workflow.models import Task

from cases import policy
from cases.models import ObjectionCase, RectificationCase, RepairApplication
from notices.selectors import notice_scope_q
from workflows.selectors import OPEN_TASK_STATUSES

CASE_MODELS = {
    "repair": RepairApplication,
    "objection": ObjectionCase,
    "rectification": RectificationCase,
}


def case_list_for_user(*, user, procedure: str) -> QuerySet:
    model = CASE_MODELS[procedure]
    return (
        model.objects.filter(policy.case_scope_q(user), tracking_number__isnull=False)
        .select_related("subject")
        .order_by("-pk")
    )


def case_get_for_user(*, user, tracking_number: str):
    """The case with this 办件编号 in the user's scope, whatever its procedure; 404 otherwise (no probing)."""
    for procedure, model in CASE_MODELS.items():
        case = (
            model.objects.filter(policy.case_scope_q(user), tracking_number=tracking_number)
            .select_related("subject")
            .first()
        )
        if case is not None:
            case.procedure = procedure
            return case
    raise Http404


def notices_of_case(*, user, case):
    from notices.models import Notice

    ct = ContentType.objects.get_for_model(case)
    return Notice.objects.filter(notice_scope_q(user), content_type=ct, object_id=case.pk).order_by(
        "requested_at", "pk"
    )


def open_tasks_for_user(*, user) -> QuerySet[Task]:
    """Open human tasks of the cases in the user's scope, newest first."""
    qs = Task.objects.none()
    for model in CASE_MODELS.values():
        ct = ContentType.objects.get_for_model(model)
        ids = model.objects.filter(policy.case_scope_q(user)).values("pk")
        qs = qs | Task.objects.filter(
            process__artifact_content_type=ct,
            process__artifact_object_id__in=ids,
            status__in=OPEN_TASK_STATUSES,
            flow_task_type="HUMAN",
        )
    return qs.select_related("process", "process__artifact_content_type").order_by("-pk")
