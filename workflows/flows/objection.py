"""Routing of an objection case (PROCEDURES.md §2): who must act next, in whose inbox.

The legal state is ObjectionCase.state; this flow only routes work. Platform staff triage (handle it
themselves or send a 核查通知); the provider department then verifies. A 复核 (review) case starts at the
review step of the credit centre. Every human node is completed by workflows.engine.complete_task around a
cases.services.objection service.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.models.objection import ObjectionStage, ObjectionState
from cases.task_permissions import DEPT_HANDLER, PLATFORM
from workflows.flows.common import CaseProcess, staff_task, state_is


def _provider(process):
    return process.artifact.provider


def _is_review(activation):
    from cases.models import ObjectionCase

    process = activation.process
    return ObjectionCase.objects.filter(pk=process.artifact_object_id, stage=ObjectionStage.REVIEW).exists()


class ObjectionFlow(CaseProcess, flow.Flow):
    process_title = _("异议处理")
    process_description = _("平台分办；需核查的，由信息提供单位在核查通知后三个工作日内处理。")

    start = flow.StartHandle(this.start_process).Next(this.after_start)
    after_start = flow.Switch().Case(this.review, _is_review).Default(this.triage)

    # Art 41: the platform handles its own errors within 3 WD, or sends a 核查通知 to the provider.
    triage = staff_task(_("平台分办"), PLATFORM).Next(this.after_triage)
    after_triage = flow.Switch().Case(this.provider_check, state_is(ObjectionState.CHECKING)).Default(this.end)
    # Art 41: the provider finishes within 3 WD of the notice and syncs the verified record.
    provider_check = staff_task(_("信息提供单位核查"), DEPT_HANDLER, _provider).Next(this.end)
    # Art 28: 复核 by the reviewing authority (here: the credit centre's reviewer, see the service).
    review = staff_task(_("复核"), PLATFORM).Next(this.end)
    end = flow.End()
