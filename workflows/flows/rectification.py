"""Routing of a 政务失信 rectification case (PROCEDURES.md §4): who must act next, in whose inbox.

The legal state is RectificationCase.state; this flow only routes work. The credit office forwards the lead,
the verifying (superior or competent) department records its finding, the government body — any of its
liaisons, never one named official (优化营商环境条例 Art 31) — hands in its plan, progress reports and
completion, and the credit office checks the completion. Every human node is completed by
workflows.engine.complete_task around a cases.services.rectification service; the switches read the legal
state the service has just set. 拒不整改 ends the routing from any rectification step (cancel_process).
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.models.rectification import RectificationCase, RectificationState
from cases.task_permissions import GOV_BODY, PLATFORM, VERIFIER
from workflows.flows.common import CaseProcess, staff_task, state_is


def _credit_office(process):
    return process.artifact.credit_office


def _verifier(process):
    """Read fresh: the verifier is chosen by the forwarding step, after the process's copy of the case was
    loaded (in the same transaction)."""
    return RectificationCase.objects.select_related("verifier").get(pk=process.artifact_object_id).verifier


class RectificationFlow(CaseProcess, flow.Flow):
    process_title = _("政务失信整改")
    process_description = _("信用牵头部门转交核实认定；认定后由失信政府机构限期整改，信用牵头部门核验销号。")

    start = flow.StartHandle(this.start_process).Next(this.forward)

    # "第一时间" ([cfg] 1 WD; SME payment complaints 10 WD, Order 802 Art 25).
    forward = staff_task(_("转交核实认定"), PLATFORM, _credit_office).Next(this.verification)
    # 核实认定 by the superior or competent department (its staff; the credit office may enter its written
    # result — see rectification_verify).
    verification = staff_task(_("核实认定"), VERIFIER, _verifier).Next(this.after_verification)
    after_verification = flow.Switch().Case(this.plan, state_is(RectificationState.AWAITING_PLAN)).Default(this.end)
    plan = staff_task(_("报送整改方案"), GOV_BODY).Next(this.after_plan)
    after_plan = flow.Switch().Case(this.rectify, state_is(RectificationState.RECTIFYING)).Default(this.end)
    # Progress reports complete this step and open it again; the completion moves the case on.
    rectify = staff_task(_("整改并报送进展或完成情况"), GOV_BODY).Next(this.after_rectify)
    after_rectify = (
        flow.Switch()
        .Case(this.rectify, state_is(RectificationState.RECTIFYING))
        .Case(this.check, state_is(RectificationState.COMPLETION_SUBMITTED))
        .Default(this.end)
    )
    # The credit office verifies the completion; not accepted → back to the body.
    check = staff_task(_("核验整改情况"), PLATFORM, _credit_office).Next(this.after_check)
    after_check = flow.Switch().Case(this.rectify, state_is(RectificationState.RECTIFYING)).Default(this.end)
    end = flow.End()
