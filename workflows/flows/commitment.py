"""Routing of a credit commitment's follow-up (PROCEDURES.md §3): who must act next, in whose inbox.

Two decisions belong to the department's leader, so each is a task routed to the leaders of the department
that checked the commitment:
- a proposed breach (违诺 / 虚假承诺), after the subject was heard (行政处罚法 Art 44, 45): ``start_breach`` →
  ``breach_decide``, on the CommitmentVerification;
- 撤销行政决定 after an established breach (行政许可法 Art 69; 河南省社会信用条例 Art 68): ``start`` → ``decide``,
  on the DecisionRevocation.
The legal states are those models' ``state``; this flow only routes work, completed by
workflows.engine.complete_task around cases.services.commitment.lifecycle.verification_decide and
revocation_close.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.task_permissions import DEPT_LEADER
from workflows.flows.common import CaseProcess, staff_task


class CommitmentFlow(CaseProcess, flow.Flow):
    process_title = _("信用承诺违诺处理")
    process_description = _(
        "拟认定违诺经承诺人陈述申辩后由部门负责人认定；违诺认定后由部门负责人决定是否撤销行政决定。"
    )

    start = flow.StartHandle(this.start_process).Next(this.decide)
    start_breach = flow.StartHandle(this.start_process).Next(this.breach_decide)
    breach_decide = staff_task(_("陈述申辩后负责人认定"), DEPT_LEADER).Next(this.end)
    decide = staff_task(_("负责人决定是否撤销"), DEPT_LEADER).Next(this.end)
    end = flow.End()
