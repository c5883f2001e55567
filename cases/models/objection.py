"""异议处理 (objections to public credit information): PROCEDURES.md §2, 河南省社会信用条例 Art 41, 42, 28.

One model serves the objection and its 复核 (review, Art 28): a review is a case of ``stage="review"``
linked to the objection it follows (``review_of``), with its own tracking number, clock and decision.

The legal state lives in ``state`` (protected FSM field, changed only by cases.services.objection); the
routing of work lives in workflows.flows.objection (viewflow).
"""

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cases.models.base import CaseBase
from cases.models.fields import acting_user
from cases.models.fsm import StateMachineMixin


class ObjectionStage(models.TextChoices):
    OBJECTION = "objection", _("异议")
    REVIEW = "review", _("复核")


class ObjectionMatter(models.TextChoices):
    # 国办发〔2025〕22号: an objection may concern the displayed content, the display period or a repair result.
    CONTENT = "content", _("公示内容有误或遗漏")
    DISPLAY_PERIOD = "display_period", _("公示期限有误")
    REPAIR_RESULT = "repair_result", _("信用修复结果")


class ObjectionState(models.TextChoices):
    SUBMITTED = "submitted", _("待平台分办")
    CHECKING = "checking", _("信息提供单位核查中")
    CLOSED = "closed", _("已办结")
    # The applicant withdrew the objection before the outcome: no decision, the mark comes off.
    WITHDRAWN = "withdrawn", _("已撤回")


class ObjectionRoute(models.TextChoices):
    PLATFORM = "platform", _("平台自行处理")
    PROVIDER = "provider", _("转信息提供单位核查")


class ObjectionOutcome(models.TextChoices):
    CORRECTED = "corrected", _("更正")
    REVOKED = "revoked", _("撤销")
    MAINTAINED = "maintained", _("维持")


OPEN_STATES = (ObjectionState.SUBMITTED, ObjectionState.CHECKING)

# The record fields an applicant may dispute (a subset of cases.services.records.EDITABLE_FIELDS: the
# provider organisation is not the subject's to dispute — a record from the wrong provider is revoked).
OBJECTABLE_FIELDS = (
    "title",
    "decision_number",
    "content",
    "legal_basis",
    "kind",
    "severity",
    "sector",
    "decision_date",
    "publication_date",
    "display_min_until",
    "display_max_until",
    "obligations_performed",
)


class ObjectionCase(StateMachineMixin, CaseBase):
    stage = models.CharField(_("阶段"), max_length=10, choices=ObjectionStage.choices, default=ObjectionStage.OBJECTION)
    review_of = models.OneToOneField(
        "self", verbose_name=_("复核的异议"), null=True, blank=True, on_delete=models.PROTECT, related_name="review"
    )
    record = models.ForeignKey(
        "cases.CreditRecord", verbose_name=_("异议的信用记录"), on_delete=models.PROTECT, related_name="objections"
    )
    # The information provider (信息提供单位) at the time of filing: the department a 核查通知 goes to.
    provider = models.ForeignKey(
        "cases.Organisation", verbose_name=_("信息提供单位"), on_delete=models.PROTECT, related_name="+"
    )
    matter = models.CharField(
        _("异议事项"), max_length=16, choices=ObjectionMatter.choices, default=ObjectionMatter.CONTENT
    )
    repair_application = models.ForeignKey(
        "cases.RepairApplication",
        verbose_name=_("异议的信用修复"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # [{"field": "decision_number", "current": "...", "proposed": "..."}, ...]
    disputed = models.JSONField(_("异议内容"), default=list, blank=True)
    reason = models.TextField(_("异议理由"))
    contact_name = models.CharField(_("联系人"), max_length=60)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    state = FSMField(
        _("办理状态"), max_length=12, choices=ObjectionState.choices, default=ObjectionState.SUBMITTED, protected=True
    )
    # Whether this case put the 异议标注 on the record (only a displayed record can carry it), so that
    # only this case removes it.
    marked = models.BooleanField(_("已作异议标注"), default=False)
    route = models.CharField(_("分办方式"), max_length=10, choices=ObjectionRoute.choices, blank=True)
    check_note = models.TextField(_("核查要求"), blank=True)
    check_sent_at = models.DateTimeField(_("核查通知时间"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=10, choices=ObjectionOutcome.choices, blank=True)
    outcome_reason = models.TextField(_("处理意见"), blank=True)
    decided_by = acting_user(_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    attachments = GenericRelation("cases.Attachment")
    activities = GenericRelation("cases.CaseActivity")

    class Meta:
        verbose_name = _("异议申请")
        verbose_name_plural = _("异议申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "state"]),
            models.Index(fields=["subject", "state"]),
        ]
        constraints = [
            # One open objection per record: two would race each other to the same record and mark.
            models.UniqueConstraint(
                fields=["record"],
                name="one_open_objection_per_record",
                condition=models.Q(state__in=["submitted", "checking"]),
            ),
            models.CheckConstraint(
                condition=models.Q(stage="objection", review_of__isnull=True)
                | models.Q(stage="review", review_of__isnull=False),
                name="objection_review_linked",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number or str(_("异议申请"))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_review(self) -> bool:
        return self.stage == ObjectionStage.REVIEW

    # --- legal transitions; fired only by cases.services.objection -------------------------------------
    @transition(field=state, source=ObjectionState.SUBMITTED, target=ObjectionState.CHECKING)
    def send_check(self):
        """Art 41: the platform sends a 核查通知 to the information provider."""

    @transition(field=state, source=list(OPEN_STATES), target=ObjectionState.CLOSED)
    def close(self):
        """更正 / 撤销 / 维持 decided and the applicant told."""

    @transition(field=state, source=list(OPEN_STATES), target=ObjectionState.WITHDRAWN)
    def withdraw(self):
        """The applicant withdraws before the outcome (the objection is the applicant's to pursue)."""
