"""Pieces every procedure's flow shares: the legal state read by the switches, the organisation a task is
routed to, and the page viewflow would open for a task."""

from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from viewflow.workflow.models import Process


def to_case_page(request, **kwargs):
    """viewflow's own task pages are not used: every step has its page in the procedure's desk."""
    return redirect("desk")


def handling_organisation(process: Process):
    return process.artifact.handling_organisation


def state_is(state):
    """Read the legal state fresh from the database: the service has just changed it in this transaction,
    and the process may hold an instance of the case loaded before the change."""

    def condition(activation):
        process = activation.process
        # get_for_id is served from ContentType's cache (the FK attribute would query every time).
        model = ContentType.objects.get_for_id(process.artifact_content_type_id).model_class()
        return model.objects.filter(pk=process.artifact_object_id, state=state).exists()

    return condition
