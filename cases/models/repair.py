"""信用修复 (credit repair): PROCEDURES.md §1.

The legal state lives in ``state`` (protected FSM field, changed only by cases.services.repair); the
routing of work lives in workflows.flows.repair (viewflow). The transitions below only say which states may
follow which, so no code path can skip a step. The law itself lives elsewhere: the conditions and time
limits of each step in cases.services.repair (with the rule set's parameters from workflows.rules), who may
act in cases.policy, and the clocks in workflows.services.clocks.
"""

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from cases.models.base import CaseBase
from cases.models.fields import acting_user
from cases.models.fsm import StateMachineMixin


class RepairKind(models.TextChoices):
    # 信用修复管理办法 (36号令) Art 4: three kinds, derived from the record.
    PENALTY = "penalty", _("终止公示行政处罚信息")
    SERIOUS_LIST = "serious_list", _("移出严重失信主体名单")
    OTHER = "other", _("修复其他失信信息")


RECORD_KIND_TO_REPAIR_KIND = {
    "admin_penalty": RepairKind.PENALTY,
    "serious_list": RepairKind.SERIOUS_LIST,
}


class RepairState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    SUPPLEMENTING = "supplementing", _("待补正")
    # 不予受理 / 准予修复 are both an action and a state in Chinese; here they are the state (pgettext).
    NOT_ACCEPTED = "not_accepted", pgettext_lazy("state", "不予受理")
    ACCEPTED = "accepted", _("审查中")
    PENDING_SIGNOFF = "signoff", _("待负责人签批")
    APPROVED = "approved", pgettext_lazy("state", "准予修复")
    REJECTED = "rejected", _("不予修复")
    WITHDRAWN = "withdrawn", _("已撤回")
    DEEMED_WITHDRAWN = "deemed_withdrawn", _("视为撤回")
    REVOKED = "revoked", _("修复已撤销")


OPEN_STATES = (RepairState.SUBMITTED, RepairState.SUPPLEMENTING, RepairState.ACCEPTED, RepairState.PENDING_SIGNOFF)
FINAL_STATES = (
    RepairState.NOT_ACCEPTED,
    RepairState.APPROVED,
    RepairState.REJECTED,
    RepairState.WITHDRAWN,
    RepairState.DEEMED_WITHDRAWN,
    RepairState.REVOKED,
)


class Proposal(models.TextChoices):
    APPROVE = "approve", pgettext_lazy("action", "准予修复")
    REJECT = "reject", _("不予修复")
    EXTEND = "extend", _("延期")


class RepairApplication(StateMachineMixin, CaseBase):
    record = models.ForeignKey(
        "cases.CreditRecord",
        verbose_name=_("申请修复的信用记录"),
        on_delete=models.PROTECT,
        related_name="repair_applications",
    )
    kind = models.CharField(_("修复类别"), max_length=14, choices=RepairKind.choices)
    state = FSMField(
        _("办理状态"), max_length=16, choices=RepairState.choices, default=RepairState.DRAFT, protected=True
    )
    # What the applicant says.
    contact_name = models.CharField(_("联系人"), max_length=60)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    statement = models.TextField(_("整改及履行情况说明"))
    by_agent = models.BooleanField(_("委托代理人申请"), default=False)
    commitment = models.OneToOneField(
        "cases.Commitment",
        verbose_name=_("信用承诺书"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repair_application",
    )
    # What the department says.
    refusal_reason = models.TextField(_("不予受理理由"), blank=True)
    supplement_request = models.TextField(_("需补正的材料"), blank=True)
    # The codes of the materials-list items (rule-set data) the 补正 request picked.
    supplement_items = models.JSONField(_("需补正的材料项"), default=list, blank=True)
    supplement_due = models.DateField(_("补正期限"), null=True, blank=True)
    proposal = models.CharField(_("经办人意见"), max_length=8, choices=Proposal.choices, blank=True)
    proposal_reason = models.TextField(_("意见理由"), blank=True)
    proposal_days = models.PositiveSmallIntegerField(_("拟延期工作日"), null=True, blank=True)
    proposed_by = acting_user(_("经办人"))
    decision_reason = models.TextField(_("决定理由"), blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    signed_off_by = acting_user(_("签批负责人"))
    effective_at = models.DateTimeField(_("修复生效时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    revocation_reason = models.TextField(_("撤销理由"), blank=True)

    attachments = GenericRelation("cases.Attachment")
    activities = GenericRelation("cases.CaseActivity")

    class Meta:
        verbose_name = _("信用修复申请")
        verbose_name_plural = _("信用修复申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["handling_organisation", "state"]),
            models.Index(fields=["subject", "state"]),
        ]
        constraints = [
            # One open application per record: a second would race the first to the same decision.
            models.UniqueConstraint(
                fields=["record"],
                name="one_open_repair_per_record",
                condition=models.Q(state__in=["submitted", "supplementing", "accepted", "signoff"]),
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number or _("信用修复申请（草稿）")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- legal transitions; fired only by cases.services.repair -------------------------------------
    @transition(field=state, source=RepairState.DRAFT, target=RepairState.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=RepairState.SUBMITTED, target=RepairState.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=RepairState.SUBMITTED, target=RepairState.NOT_ACCEPTED)
    def refuse(self):
        pass

    @transition(field=state, source=[RepairState.SUBMITTED, RepairState.ACCEPTED], target=RepairState.SUPPLEMENTING)
    def request_supplement(self):
        pass

    @transition(field=state, source=RepairState.SUPPLEMENTING, target=RepairState.SUBMITTED)
    def supplement(self):
        pass

    @transition(field=state, source=RepairState.ACCEPTED, target=RepairState.PENDING_SIGNOFF)
    def propose(self):
        pass

    @transition(field=state, source=RepairState.PENDING_SIGNOFF, target=RepairState.ACCEPTED)
    def return_to_handler(self):
        pass

    @transition(field=state, source=RepairState.PENDING_SIGNOFF, target=RepairState.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=RepairState.PENDING_SIGNOFF, target=RepairState.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=list(OPEN_STATES), target=RepairState.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=state, source=RepairState.SUPPLEMENTING, target=RepairState.DEEMED_WITHDRAWN)
    def deem_withdrawn(self):
        pass

    @transition(field=state, source=RepairState.APPROVED, target=RepairState.REVOKED)
    def revoke(self):
        pass


class RepairBar(models.Model):
    """A subject that obtained a repair by false materials may not apply again for the rule's period
    (PROCEDURES.md §1 eligibility 5, [cfg] 3 years)."""

    subject = models.ForeignKey(
        "cases.Subject", verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="repair_bars"
    )
    source = models.ForeignKey(
        RepairApplication, verbose_name=_("被撤销的修复"), on_delete=models.PROTECT, related_name="bars"
    )
    barred_until = models.DateField(_("限制申请至"))
    reason = models.TextField(_("理由"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("修复申请限制")
        verbose_name_plural = _("修复申请限制")

    def __str__(self) -> str:
        return f"{self.subject} → {self.barred_until}"
