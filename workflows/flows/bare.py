"""A bare viewflow flow with the credit repair's three human steps (受理 → 审查 → 签批), used the plain way:
viewflow's own SelectForUpdateLock, assign then execute as its task views do, no case, no legal writes.

Not a procedure (it is in no registry and routes nobody's work): the baseline bench/bench_repair.py runs in the
same benchmark to give ``bare_viewflow_ratio`` (issue 15: a repair at the cost of a bare viewflow flow).
"""

from viewflow import this
from viewflow.workflow import flow, lock

from workflows.flows.common import to_case_page


class BareFlow(flow.Flow):
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.acceptance)
    acceptance = flow.View(to_case_page).Next(this.review)
    review = flow.View(to_case_page).Next(this.signoff)
    signoff = flow.View(to_case_page).Next(this.end)
    end = flow.End()

    def start_process(self, activation):
        return activation.process
