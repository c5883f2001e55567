"""The four procedures, registered once so cross-cutting views (supervisor dashboard, officer reminders,
escalation sweeps) can treat every case alike.

Each procedure module registers its case model here (see cases/models/__init__.py imports); a dashboard
iterates ``PROCEDURES`` instead of naming models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Procedure:
    code: str
    label: str | Promise
    model_label: str  # "app_label.ModelName" of the case model (CaseBase, with a ``state`` FSM field)
    open_states: tuple[str, ...]
    staff_url_name: str  # detail page for staff, reversed with pk=
    applicant_url_name: str = ""  # detail page for the applicant, if the procedure has one
    clock_purposes: tuple[str, ...] = field(default_factory=tuple)  # the legal clocks that count for escalation
    # The viewflow Flow that routes the procedure's work (workflows/flows/<code>.py), by dotted path: services
    # run its tasks through workflows.engine, and the routing layer sits above them (tests/test_layers.py).
    flow_path: str = ""
    # The steps an applicant sees as a progress bar (personal centre, 办件查询): (label, the states in it).
    # A state in no step (a draft) shows no bar.
    steps: tuple[tuple[str | Promise, tuple[str, ...]], ...] = ()
    # Short explanation of the legal time limit, for 办件查询 (no personal data).
    limit_explanation: str | Promise = ""

    @property
    def model(self):
        return apps.get_model(self.model_label)


PROCEDURES: dict[str, Procedure] = {}


def procedure_flow(code: str):
    """The Flow class routing procedure ``code`` (looked up at run time, so services need not import it)."""
    return import_string(PROCEDURES[code].flow_path)


def progress(procedure: Procedure, state: str) -> tuple[int, int, str]:
    """(current step number from 1, number of steps, current step label); (0, n, "") for a state in no step."""
    total = len(procedure.steps)
    for index, (label, states) in enumerate(procedure.steps):
        if state in states:
            return index + 1, total, str(label)
    return 0, total, ""


def register(procedure: Procedure) -> Procedure:
    PROCEDURES[procedure.code] = procedure
    return procedure


register(
    Procedure(
        code="repair",
        label=_("信用修复"),
        model_label="cases.RepairApplication",
        open_states=("submitted", "supplementing", "accepted", "signoff"),
        staff_url_name="repair_desk_case",
        applicant_url_name="repair_status",
        clock_purposes=("repair.acceptance", "repair.decision"),
        flow_path="workflows.flows.repair.RepairFlow",
        steps=(
            (_("提交申请"), ()),
            (_("受理"), ("submitted", "supplementing")),
            (_("审查决定"), ("accepted", "signoff")),
            (_("办结"), ("not_accepted", "approved", "rejected", "withdrawn", "deemed_withdrawn", "revoked")),
        ),
        limit_explanation=_(
            "认定部门在法定时限内决定是否受理并作出准予或不予修复的决定；时限按工作日计算，"
            "等待申请人补正材料的时间不计入办理时限。"
        ),
    )
)

# 信用承诺: the case-like item is the verification check (核查) a department owes on a commitment.
register(
    Procedure(
        code="commitment",
        label=_("信用承诺核查"),
        model_label="cases.CommitmentVerification",
        open_states=("open", "hearing"),
        staff_url_name="commitment_verification",
        clock_purposes=("commitment.verify",),
        # Routes the leader's decision on 撤销行政决定 (the check itself is scheduled set-based by the sweep).
        flow_path="workflows.flows.commitment.CommitmentFlow",
        steps=(
            (_("核查"), ("open",)),
            (_("陈述申辩"), ("hearing",)),
            (_("办结"), ("kept", "broken", "false", "cancelled")),
        ),
        limit_explanation=_("受诺部门在核查期限内核查承诺履行情况；拟认定违诺的，先听取承诺主体的陈述、申辩。"),
    )
)


register(
    Procedure(
        code="objection",
        label=_("异议处理"),
        model_label="cases.ObjectionCase",
        open_states=("submitted", "checking"),
        staff_url_name="objection_desk_case",
        applicant_url_name="objection_status",
        clock_purposes=("objection.platform", "objection.provider", "objection.case", "objection.review"),
        flow_path="workflows.flows.objection.ObjectionFlow",
        steps=(
            (_("提出异议"), ()),
            (_("平台分办"), ("submitted",)),
            (_("核查处理"), ("checking",)),
            (_("办结"), ("closed", "withdrawn")),
        ),
        limit_explanation=_(
            "异议按《河南省社会信用条例》第41条规定的时限处理，时限按工作日计算；"
            "检验、检测、检疫、鉴定和专家评审的时间不计入。"
        ),
    )
)


register(
    Procedure(
        code="rectification",
        label=_("政务失信整改"),
        model_label="cases.RectificationCase",
        open_states=("submitted", "verifying", "awaiting_plan", "rectifying", "completion"),
        staff_url_name="rectification_case",
        # The rectification deadline carries the full ladder (PROCEDURES.md §4); the verifier's limit
        # (Order 802 Art 25 for SME payments), the plan limit, the progress reports and the credit office's
        # forwarding limit are escalated the same way.
        clock_purposes=(
            "rectification.deadline",
            "rectification.plan",
            "rectification.verification",
            "rectification.forward",
            "rectification.progress",
        ),
        flow_path="workflows.flows.rectification.RectificationFlow",
        steps=(
            (_("线索提交"), ("submitted",)),
            (_("核实认定"), ("verifying",)),
            (_("整改"), ("awaiting_plan", "rectifying")),
            (_("核验销号"), ("completion",)),
            (_("办结"), ("not_substantiated", "closed", "refused")),
        ),
        limit_explanation=_("政务失信线索经核实认定后，责任单位须在规定期限内提交整改方案并完成整改，逾期将逐级督办。"),
    )
)
