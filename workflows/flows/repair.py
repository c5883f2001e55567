"""Routing of a credit-repair case (PROCEDURES.md §1): who must act next, in whose inbox.

The legal state is RepairApplication.state; this flow only routes work. Every human node is completed by
workflows.engine.complete_task around a cases.services.repair service, and the switches read the legal
state the service just set, so routing follows the law and never the other way round.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.models.repair import RepairState
from cases.task_permissions import DEPT_HANDLER, DEPT_LEADER
from workflows.flows.common import CaseProcess, staff_task, state_is, task


class RepairFlow(CaseProcess, flow.Flow):
    process_title = _("信用修复")
    process_description = _("谁认定、谁修复：由作出认定的部门受理、审查、决定。")

    start = flow.StartHandle(this.start_process).Next(this.acceptance)

    # 受理 / 不予受理 / 补正 within the acceptance limit (22号: 3 WD of receipt).
    acceptance = staff_task(_("受理审查"), DEPT_HANDLER).Next(this.after_acceptance)
    after_acceptance = (
        flow.Switch()
        .Case(this.review, state_is(RepairState.ACCEPTED))
        .Case(this.supplement, state_is(RepairState.SUPPLEMENTING))
        .Default(this.end)
    )
    # The applicant's own window to supplement materials; the authority's clock is paused meanwhile.
    supplement = task(_("申请人补正材料")).Next(this.acceptance)
    review = staff_task(_("审查并提出意见"), DEPT_HANDLER).Next(this.signoff)
    # Decisions (准予/不予) and the extension are signed by the department's leader.
    signoff = staff_task(_("负责人签批"), DEPT_LEADER).Next(this.after_signoff)
    after_signoff = flow.Switch().Case(this.review, state_is(RepairState.ACCEPTED)).Default(this.end)
    end = flow.End()
