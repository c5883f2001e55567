"""政务失信 (government dishonesty) and its rectification: PROCEDURES.md §4.

One case runs from the lead (a complaint, a court record or an inspection finding) through verification
(核实认定) to the time-limited rectification (限期整改) of the government body. The case belongs to the
*organisation* (``handling_organisation`` = the body that must rectify), never to the official who happens
to answer for it: a change of officials changes nothing (新官要理旧账; 优化营商环境条例 Art 31).

The legal state is the protected FSM field ``state``, changed only by cases.services.rectification.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cases.models.base import CaseBase
from cases.models.fields import acting_user
from cases.models.fsm import StateMachineMixin


class LeadSource(models.TextChoices):
    # Complaints by enterprises (seeds 000 专栏1; 保障中小企业款项支付条例 Art 25; 优化营商环境条例 Art 31).
    ARREARS = "arrears", _("拖欠账款")
    CONTRACT = "contract", _("违约毁约")
    PROMISE = "promise", _("政府承诺不兑现")
    # A government body on the 失信被执行人 list (court record).
    COURT = "court", _("列入失信被执行人")
    # An inspection or audit finding (督查、审计发现).
    INSPECTION = "inspection", _("督查审计发现")


COMPLAINT_SOURCES = (LeadSource.ARREARS, LeadSource.CONTRACT, LeadSource.PROMISE)


class RefusalConsequence(models.TextChoices):
    """What follows a confirmed 拒不整改 (发改财金〔2023〕1103号: 违约失信 with restrictions); each with its source
    below, printed on the 拒不整改认定书 next to the measure."""

    ASSESSMENT = "assessment", _("纳入政务诚信考核，作为综合评价的重要参考")
    ACCOUNTABILITY = "accountability", _("依法依规追究有关单位和人员责任")
    HONOURS = "honours", _("取消年度评优评先资格")
    CRITICISM = "criticism", _("通报批评")


REFUSAL_CONSEQUENCE_CITATIONS = {
    RefusalConsequence.ASSESSMENT: _("《河南省社会信用条例》第五十四条"),
    RefusalConsequence.ACCOUNTABILITY: _("《优化营商环境条例》第六十九条第（七）项"),
    RefusalConsequence.HONOURS: _("《郑州市社会信用体系建设“十四五”规划》专栏1"),
    RefusalConsequence.CRITICISM: _("《郑州市社会信用体系建设“十四五”规划》专栏1（政务失信问题重点协调和惩戒制度）"),
}


class RectificationState(models.TextChoices):
    SUBMITTED = "submitted", _("待转交核实")
    VERIFYING = "verifying", _("核实认定中")
    NOT_SUBSTANTIATED = "not_substantiated", _("不予认定")
    AWAITING_PLAN = "awaiting_plan", _("待提交整改方案")
    RECTIFYING = "rectifying", _("整改中")
    COMPLETION_SUBMITTED = "completion", _("整改完成待核验")
    CLOSED = "closed", _("已整改销号")
    REFUSED = "refused", _("拒不整改")


OPEN_STATES = (
    RectificationState.SUBMITTED,
    RectificationState.VERIFYING,
    RectificationState.AWAITING_PLAN,
    RectificationState.RECTIFYING,
    RectificationState.COMPLETION_SUBMITTED,
)
# The rectification proper: a 政务失信记录 exists and the body must act.
RECTIFICATION_STATES = (
    RectificationState.AWAITING_PLAN,
    RectificationState.RECTIFYING,
    RectificationState.COMPLETION_SUBMITTED,
)
FINAL_STATES = (RectificationState.NOT_SUBSTANTIATED, RectificationState.CLOSED, RectificationState.REFUSED)


class RectificationCase(StateMachineMixin, CaseBase):
    """``subject`` is the body's own Subject (Subject.organisation = the body); ``handling_organisation`` is
    the body; ``applicant`` is the complainant's user when the complaint came in online."""

    state = FSMField(
        _("办理状态"),
        max_length=18,
        choices=RectificationState.choices,
        default=RectificationState.SUBMITTED,
        protected=True,
    )
    source = models.CharField(_("线索来源"), max_length=12, choices=LeadSource.choices)
    sme_payment = models.BooleanField(
        _("中小企业款项投诉"), default=False, help_text=_("适用《保障中小企业款项支付条例》第二十五条的时限。")
    )
    complainant_subject = models.ForeignKey(
        "cases.Subject", verbose_name=_("投诉主体"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    complainant_name = models.CharField(_("投诉人/来源单位"), max_length=200, blank=True)
    summary = models.CharField(_("事项"), max_length=200)
    facts = models.TextField(_("事实和理由"))
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True)
    entered_by = acting_user(_("录入人"))
    credit_office = models.ForeignKey(
        "cases.Organisation", verbose_name=_("信用牵头部门"), on_delete=models.PROTECT, related_name="+"
    )
    verifier = models.ForeignKey(
        "cases.Organisation",
        verbose_name=_("核实认定部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("被投诉机构的上级或主管部门。"),
    )
    forwarded_at = models.DateTimeField(_("转交时间"), null=True, blank=True)
    verification_reason = models.TextField(_("核实认定意见"), blank=True)
    verified_at = models.DateTimeField(_("认定时间"), null=True, blank=True)
    record = models.OneToOneField(
        "cases.CreditRecord",
        verbose_name=_("政务失信记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification_case",
    )
    deadline = models.DateField(_("整改期限"), null=True, blank=True)
    requirements = models.TextField(_("整改要求"), blank=True)
    completion_checked_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("拒不整改认定理由"), blank=True)
    consequences = models.TextField(_("失信后果"), blank=True)
    # The measures chosen from RefusalConsequence; ``consequences`` keeps them as printed, with their sources.
    consequence_codes = models.JSONField(_("惩戒措施"), default=list, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    attachments = GenericRelation("cases.Attachment")
    activities = GenericRelation("cases.CaseActivity")

    class Meta:
        verbose_name = _("政务失信整改案件")
        verbose_name_plural = _("政务失信整改案件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["handling_organisation", "state"], name="rect_org_state_idx"),
            models.Index(fields=["state", "received_at"], name="rect_state_received_idx"),
        ]

    def __str__(self) -> str:
        return self.tracking_number or str(_("政务失信线索"))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def body(self):
        return self.handling_organisation

    # --- legal transitions; fired only by cases.services.rectification ---------------------------------
    @transition(field=state, source=RectificationState.SUBMITTED, target=RectificationState.VERIFYING)
    def forward(self):
        pass

    @transition(field=state, source=RectificationState.VERIFYING, target=RectificationState.NOT_SUBSTANTIATED)
    def reject(self):
        pass

    @transition(field=state, source=RectificationState.VERIFYING, target=RectificationState.AWAITING_PLAN)
    def substantiate(self):
        pass

    @transition(field=state, source=RectificationState.AWAITING_PLAN, target=RectificationState.RECTIFYING)
    def submit_plan(self):
        pass

    @transition(field=state, source=RectificationState.RECTIFYING, target=RectificationState.COMPLETION_SUBMITTED)
    def submit_completion(self):
        pass

    @transition(field=state, source=RectificationState.COMPLETION_SUBMITTED, target=RectificationState.RECTIFYING)
    def return_completion(self):
        pass

    @transition(field=state, source=RectificationState.COMPLETION_SUBMITTED, target=RectificationState.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=list(RECTIFICATION_STATES), target=RectificationState.REFUSED)
    def confirm_refusal(self):
        pass


class RectificationReport(models.Model):
    """What the body hands in: its plan, its progress reports, its completion evidence. Kept per case, with
    the person who submitted it — who that is may change from one report to the next."""

    class Kind(models.TextChoices):
        PLAN = "plan", _("整改方案")
        PROGRESS = "progress", _("整改进展")
        COMPLETION = "completion", _("整改完成情况")

    case = models.ForeignKey(
        RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="reports"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("内容"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("报送时间"), auto_now_add=True)
    # Evidence (证明材料) filed with the report: content-checked uploads, served by permission only.
    attachments = GenericRelation("cases.Attachment", content_type_field="content_type", object_id_field="object_id")

    class Meta:
        verbose_name = _("整改报送")
        verbose_name_plural = _("整改报送")
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.submitted_at:%Y-%m-%d}"


class EscalationStep(models.Model):
    """One rung of the escalation ladder fired on one legal clock (PROCEDURES.md §4): 临期提醒 → 督办 → 约谈
    → 通报 → 追责. Any procedure's clock can carry it (workflows.procedures registers the purposes); the
    unique (clock, step) row is what makes every step fire exactly once, whoever or whatever fires it."""

    class Step(models.TextChoices):
        REMINDER = "reminder", _("临期提醒")
        SUPERVISION = "supervision", _("督办")
        INTERVIEW = "interview", _("约谈")
        PUBLIC_NOTICE = "public_notice", _("通报")
        ACCOUNTABILITY = "accountability", _("追责移送")

    clock = models.ForeignKey(
        "workflows.Clock", verbose_name=_("时限"), on_delete=models.PROTECT, related_name="escalations"
    )
    step = models.CharField(_("督办层级"), max_length=16, choices=Step.choices)
    # Denormalised from the clock so a case page and the dashboard read the ladder without the clock table.
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    organisation = models.ForeignKey(
        "cases.Organisation",
        verbose_name=_("责任机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    fired_at = models.DateTimeField(_("发出时间"))
    manual = models.BooleanField(_("人工发起"), default=False)
    actor = acting_user(_("发起人"))
    note = models.TextField(_("说明"), blank=True)
    notice = models.ForeignKey(
        "notices.Notice", verbose_name=_("文书"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notified = models.BooleanField(_("已通知"), default=False)

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["fired_at", "id"]
        constraints = [models.UniqueConstraint(fields=["clock", "step"], name="one_escalation_step_per_clock")]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="escalation_case_idx"),
            # The notifier picks up rows not yet notified (normally none).
            models.Index(fields=["id"], name="escalation_unnotified_idx", condition=Q(notified=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} #{self.clock_id}"


class OrganisationDigest(models.Model):
    """The daily digest of an organisation's due-soon and overdue work (in-app; e-mailed when configured)."""

    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("机构"), on_delete=models.CASCADE, related_name="digests"
    )
    day = models.DateField(_("日期"))
    overdue = models.PositiveIntegerField(_("已逾期"), default=0)
    due_soon = models.PositiveIntegerField(_("即将到期"), default=0)
    text = models.TextField(_("内容"))
    emailed_to = models.PositiveIntegerField(_("邮件发送人数"), default=0)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("每日待办摘要")
        verbose_name_plural = _("每日待办摘要")
        ordering = ["-day", "organisation"]
        constraints = [models.UniqueConstraint(fields=["organisation", "day"], name="one_digest_per_org_day")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.day}"
