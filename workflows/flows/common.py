"""Pieces every procedure's flow shares: how a case starts its process, the staff task, the legal state read
by the switches, the organisation a task is routed to, and the page viewflow would open for a task."""

from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from viewflow.workflow import flow
from viewflow.workflow.models import Process

from workflows.engine import PROCESS_LOCK


class CaseProcess:
    """Mixed into every procedure's flow (before ``flow.Flow``): one process per case, the case as its
    artifact, started by ``workflows.engine`` under the process lock."""

    lock_impl = PROCESS_LOCK

    def start_process(self, activation, case):
        activation.process.artifact = case
        return activation.process


def to_case_page(request, **kwargs):
    """viewflow's own task pages are not used: every step has its page in the procedure's desk."""
    return redirect("desk")


def handling_organisation(process: Process):
    return process.artifact.handling_organisation


def task(title):
    """A step someone does on the case's own page (``to_case_page``), shown in inboxes under ``title``."""
    return flow.View(to_case_page).Annotation(title=title)


def staff_task(title, permission, organisation=handling_organisation):
    """A ``task`` for the holders of ``permission`` in the organisation ``organisation(process)`` names."""
    return task(title).Permission(permission, obj=organisation)


def state_is(state):
    """The legal state the service has just set in this transaction: from the case it returned when
    workflows.engine.complete_task left it on the process (engine.remember_case), else fresh from the
    database (the process may hold an instance of the case loaded before the change)."""
    artifact = Process._meta.get_field("artifact")

    def condition(activation):
        process = activation.process
        if artifact.is_cached(process):
            case = artifact.get_cached_value(process)
            if case is not None and getattr(case, "_remembered_for_switch", False):
                return case.state == state
        # get_for_id is served from ContentType's cache (the FK attribute would query every time).
        model = ContentType.objects.get_for_id(process.artifact_content_type_id).model_class()
        return model.objects.filter(pk=process.artifact_object_id, state=state).exists()

    return condition
