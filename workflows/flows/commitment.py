"""Routing of a credit commitment's follow-up (PROCEDURES.md §3): who must act next, in whose inbox.

After a breach or a false commitment is established, the department may start 撤销行政决定 (行政许可法 Art 69;
河南省社会信用条例 Art 68). Only its leader decides, so the decision is a task routed to the leaders of the
department that granted the decision. The legal state is DecisionRevocation.state; this flow only routes work,
completed by workflows.engine.complete_task around cases.services.commitment.lifecycle.revocation_close.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.task_permissions import DEPT_LEADER
from workflows.engine import PROCESS_LOCK
from workflows.flows.common import handling_organisation, to_case_page


class CommitmentFlow(flow.Flow):
    process_title = _("撤销行政决定")
    process_description = _("违背信用承诺或虚假承诺经认定后，由作出行政决定的部门负责人决定是否撤销。")
    lock_impl = PROCESS_LOCK

    start = flow.StartHandle(this.start_process).Next(this.decide)
    decide = (
        flow.View(to_case_page)
        .Annotation(title=_("负责人决定是否撤销"))
        .Permission(DEPT_LEADER, obj=handling_organisation)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation, case):
        activation.process.artifact = case
        return activation.process
