"""Credit commitments (信用承诺): PROCEDURES.md §3. The repair procedure creates 信用修复型 ones; the
commitment procedure (matters, templates, bulk registration, verification, consequences) builds on them."""

import hashlib

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cases.models.base import CaseBase
from cases.models.fields import acting_user
from cases.models.fsm import StateMachineMixin


class CommitmentType(models.TextChoices):
    APPROVAL_SUBSTITUTE = "approval", _("审批替代型")
    CERTIFICATE = "certificate", _("证明事项告知承诺")
    TOLERANCE = "tolerance", _("容缺受理型")
    REPAIR = "repair", _("信用修复型")
    SELF_DISCIPLINE = "industry", _("行业自律型")
    VOLUNTARY = "voluntary", _("主动公示型")


# 河南省社会信用条例 Art 32(1): a subject under sanction "不适用告知承诺等简化程序". These are the simplified
# procedures a commitment stands in for; eligibility is checked for them only.
SIMPLIFIED_TYPES = (CommitmentType.APPROVAL_SUBSTITUTE, CommitmentType.CERTIFICATE, CommitmentType.TOLERANCE)


# 容缺受理: what follows when the documents to follow are not in by their date, as each matter defines it
# (PROCEDURES.md §3 names these consequences; the department picks the ones its matter carries). Code →
# (label, source).
FOLLOW_LATE_CONSEQUENCES = {
    "terminate": (_("终止办理"), _("国办发〔2020〕42号（告知承诺制）")),
    "rectify": (_("责令限期补正"), _("国办发〔2020〕42号（告知承诺制）")),
    "revoke_decision": (_("撤销已作出的行政决定"), _("《中华人民共和国行政许可法》第六十九条")),
    "credit_record": (_("违诺情况记入信用记录"), _("《河南省社会信用条例》第五十八条")),
}


class CommitmentMatter(models.Model):
    """A matter a department accepts commitments for, with its template and verification plan [cfg]."""

    class Verification(models.TextChoices):
        ALL = "all", _("逐项核查")
        SAMPLE = "sample", _("按比例抽查")
        NONE = "none", _("不设核查（社会监督）")

    department = models.ForeignKey(
        "cases.Organisation", verbose_name=_("受诺部门"), on_delete=models.PROTECT, related_name="commitment_matters"
    )
    code = models.SlugField(_("事项编码"), max_length=40)
    title = models.CharField(_("事项名称"), max_length=200)
    type = models.CharField(_("承诺类型"), max_length=12, choices=CommitmentType.choices)
    # Placeholders: {subject_name} {identifier} {matter} {department} {signer} {date}.
    template = models.TextField(
        _("承诺书模板"),
        help_text=_(
            "可用占位符：{subject_name} 主体名称，{identifier} 统一社会信用代码/证件号，{matter} 事项名称，"
            "{department} 受诺部门，{signer} 签署人，{date} 签署日期。"
        ),
    )
    verify_what = models.TextField(_("核查内容"), blank=True)
    verify_how = models.CharField(_("核查方式"), max_length=200, blank=True)
    verification = models.CharField(_("核查安排"), max_length=8, choices=Verification.choices, default=Verification.ALL)
    verify_within = models.PositiveIntegerField(
        _("核查时限"), default=20, help_text=_("自作出行政决定（或签署承诺）之日起。")
    )
    verify_unit = models.CharField(
        _("时限单位"), max_length=2, choices=[("wd", _("工作日")), ("cd", _("自然日"))], default="wd"
    )
    sample_ratio = models.DecimalField(
        _("抽查比例"),
        max_digits=5,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    # The seed makes the draw reproducible: anyone holding it can recompute which commitments were drawn.
    sample_seed = models.CharField(_("抽查种子"), max_length=32, blank=True)
    follow_documents = models.JSONField(_("容缺后补材料"), default=list, blank=True)
    follow_within_wd = models.PositiveIntegerField(_("后补材料时限（工作日）"), default=0)
    follow_late_consequences = models.JSONField(
        _("逾期未补材料的后果"),
        default=list,
        blank=True,
        help_text=_(
            "可选：terminate 终止办理、rectify 责令限期补正、revoke_decision 撤销行政决定、credit_record 记入信用记录。"
        ),
    )
    breach_severity = models.CharField(
        _("违诺失信程度"),
        max_length=10,
        default="ordinary",
        choices=[("minor", _("轻微")), ("ordinary", _("一般")), ("serious", _("严重"))],
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("承诺事项")
        verbose_name_plural = _("承诺事项")
        ordering = ["department", "code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="commitment_matter_code_per_department"),
            models.CheckConstraint(
                condition=~Q(verification="sample") | Q(sample_ratio__gt=0), name="commitment_matter_sample_has_ratio"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_type_display()}）"

    def clean(self):
        super().clean()
        if self.follow_late_consequences in (None, ""):
            self.follow_late_consequences = []
        if not isinstance(self.follow_late_consequences, list):
            self.follow_late_consequences = [self.follow_late_consequences]
        unknown = [c for c in self.follow_late_consequences if c not in FOLLOW_LATE_CONSEQUENCES]
        if unknown:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {"follow_late_consequences": _("未知的后果代码：%(codes)s") % {"codes": "、".join(map(str, unknown))}}
            )

    @property
    def follow_late_consequence_list(self) -> list[tuple[str, str]]:
        """(label, source) of each consequence this matter defines, in the order listed."""
        return [
            (str(FOLLOW_LATE_CONSEQUENCES[c][0]), str(FOLLOW_LATE_CONSEQUENCES[c][1]))
            for c in self.follow_late_consequences or []
            if c in FOLLOW_LATE_CONSEQUENCES
        ]


class Commitment(StateMachineMixin, models.Model):
    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("在诺")
        KEPT = "kept", _("已践诺")
        BROKEN = "broken", _("违诺")
        FALSE = "false", _("虚假承诺")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上签署")
        REGISTERED = "registered", _("部门登记")
        IMPORTED = "imported", _("批量导入")
        API = "api", _("接口报送")

    class Capacity(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("法定代表人")
        AGENT = "agent", _("受托代理人")
        SELF = "self", _("本人")

    subject = models.ForeignKey(
        "cases.Subject", verbose_name=_("承诺主体"), on_delete=models.PROTECT, related_name="commitments"
    )
    type = models.CharField(_("承诺类型"), max_length=12, choices=CommitmentType.choices)
    matter = models.CharField(_("承诺事项"), max_length=200)
    department = models.ForeignKey(
        "cases.Organisation", verbose_name=_("受诺部门"), on_delete=models.PROTECT, related_name="received_commitments"
    )
    # The signed text is immutable: its hash is kept and checked (Henan Art 32: a public commitment).
    text = models.TextField(_("承诺书正文"))
    text_sha256 = models.CharField(_("正文SHA-256"), max_length=64)
    signer_name = models.CharField(_("签署人"), max_length=60)
    signer_capacity = models.CharField(_("签署身份"), max_length=10, choices=Capacity.choices)
    signed_by = acting_user(_("签署账号"))
    signed_at = models.DateTimeField(_("签署时间"))
    # The fulfilment state: changed only by the verification outcome (cases.services.commitment), through the
    # transitions below; the set-based sweep and the bulk import never change it.
    status = FSMField(_("履约状态"), max_length=10, choices=Status.choices, default=Status.IN_FORCE, protected=True)
    source_reference = models.CharField(_("来源办件"), max_length=40, blank=True)
    # --- the commitment procedure (PROCEDURES.md §3); blank on commitments made inside a repair ---
    commitment_matter = models.ForeignKey(
        CommitmentMatter,
        verbose_name=_("承诺事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    decision_date = models.DateField(_("行政决定日期"), null=True, blank=True)
    decision_number = models.CharField(_("决定文书号"), max_length=80, blank=True)
    registered_by = acting_user(_("登记人"))
    import_batch = models.ForeignKey(
        "cases.CommitmentImport",
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    # The verification sweep screens each commitment once (set-based), drawing it for sampling if needed.
    screened_at = models.DateTimeField(_("核查安排时间"), null=True, blank=True)
    sample_draw = models.FloatField(_("抽签值"), null=True, blank=True)
    # 容缺受理型: documents to follow and their deadline (from the matter).
    follow_due_date = models.DateField(_("后补材料截止日"), null=True, blank=True)
    follow_received_at = models.DateTimeField(_("后补材料提交时间"), null=True, blank=True)
    # When the daily sweep opened the check for documents not handed in on time: from then on the commitment
    # is no longer the sweep's to read (cases.services.commitment.follow_up).
    follow_late_opened_at = models.DateTimeField(_("逾期核查开启时间"), null=True, blank=True, editable=False)
    status_changed_at = models.DateTimeField(_("履约状态变更时间"), null=True, blank=True)
    # A false commitment blocks 告知承诺 until the record it produced is repaired (Henan Art 32(1)).
    breach_record = models.ForeignKey(
        "cases.CreditRecord",
        verbose_name=_("违诺失信记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="breached_commitments",
    )
    # 信用修复型 commitment broken after the repair: the department must look at the repair again.
    repair_review_flagged_at = models.DateTimeField(_("修复复核提示时间"), null=True, blank=True)
    repair_review_closed_at = models.DateTimeField(_("修复复核完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("信用承诺")
        verbose_name_plural = _("信用承诺")
        ordering = ["-signed_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "type"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["-signed_at", "-id"], name="commitment_register_idx"),
            # The verification sweep: unscreened commitments of a matter, by decision date.
            models.Index(
                fields=["commitment_matter", "decision_date"],
                name="commitment_unscreened_idx",
                condition=Q(screened_at__isnull=True, status="in_force"),
            ),
            models.Index(
                fields=["follow_due_date"],
                name="commitment_follow_due_idx",
                condition=Q(follow_received_at__isnull=True, follow_due_date__isnull=False),
            ),
            # The lateness sweep: documents still awaited whose lateness check is not open yet, by due date.
            models.Index(
                fields=["follow_due_date"],
                name="commitment_follow_late_idx",
                condition=Q(
                    follow_received_at__isnull=True,
                    follow_late_opened_at__isnull=True,
                    follow_due_date__isnull=False,
                    status="in_force",
                ),
            ),
        ]
        constraints = [
            # Importing the same file twice creates nothing new (PROCEDURES.md §3, bulk registration): an imported
            # commitment is one subject's, for one matter, signed on one day, from one source case.
            models.UniqueConstraint(
                fields=["subject", "commitment_matter", "signed_at", "source_reference"],
                condition=Q(import_batch__isnull=False),
                name="commitment_imported_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}：{self.matter}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            original = type(self).objects.filter(pk=self.pk).values_list("text", "text_sha256").first()
            if original and (original[0] != self.text or original[1] != self.text_sha256):
                raise PermissionError("a signed commitment's text is immutable")
        super().save(*args, **kwargs)

    @transition(field=status, source=Status.IN_FORCE, target=Status.KEPT)
    def fulfil(self):
        """践诺: the verification confirmed the commitment was kept."""

    @transition(field=status, source=Status.IN_FORCE, target=Status.BROKEN)
    def mark_broken(self):
        """违诺 (Henan Art 58: the breach enters the credit record)."""

    @transition(field=status, source=Status.IN_FORCE, target=Status.FALSE)
    def mark_false(self):
        """虚假承诺: what was committed to was untrue when signed."""

    @staticmethod
    def hash_text(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def public_status(self) -> str:
        """The register shows 在诺 / 已践诺 / 违诺; a false commitment is a broken one there."""
        if self.status == self.Status.FALSE:
            return str(self.Status.BROKEN.label)
        return self.get_status_display()


class CommitmentImport(models.Model):
    """One successful bulk registration (file or API call): provenance for the rows it created."""

    class Source(models.TextChoices):
        FILE = "file", _("文件导入")
        API = "api", _("接口报送")

    department = models.ForeignKey(
        "cases.Organisation", verbose_name=_("登记部门"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=4, choices=Source.choices)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    sha256 = models.CharField(_("文件SHA-256"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("行数"))
    created_by = acting_user(_("操作人"))
    api_client = models.ForeignKey(
        "cases.ApiClient",
        verbose_name=_("接口客户端"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("承诺导入批次")
        verbose_name_plural = _("承诺导入批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.department} {self.created_at:%Y-%m-%d %H:%M} ({self.rows})"


class VerificationState(models.TextChoices):
    OPEN = "open", _("待核查")
    # A breach is proposed and the subject heard before anything is decided (行政处罚法 Art 44, 45, 62).
    HEARING = "hearing", _("拟认定违诺，陈述申辩中")
    KEPT = "kept", _("践诺")
    BROKEN = "broken", _("违诺")
    FALSE = "false", _("虚假承诺")
    CANCELLED = "cancelled", _("已撤销")


class CommitmentVerification(StateMachineMixin, CaseBase):
    """核查: one check of one commitment by the responsible department, with its own clock."""

    class Reason(models.TextChoices):
        SCHEDULED = "scheduled", _("按事项逐项核查")
        SAMPLED = "sampled", _("抽查选中")
        MANUAL = "manual", _("部门发起")
        # 容缺受理: the documents to follow were not in by their date; the department decides what follows.
        LATE_DOCS = "late_docs", _("容缺后补材料逾期")

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("信用承诺"), on_delete=models.PROTECT, related_name="verifications"
    )
    reason = models.CharField(_("核查原因"), max_length=10, choices=Reason.choices)
    state = FSMField(
        _("核查状态"), max_length=10, choices=VerificationState.choices, default=VerificationState.OPEN, protected=True
    )
    finding = models.TextField(_("核查意见"), blank=True)
    serious_consequences = models.BooleanField(_("造成严重后果"), default=False)
    decided_by = acting_user(_("核查人"))
    decided_at = models.DateTimeField(_("核查完成时间"), null=True, blank=True)
    # --- the hearing before a breach is decided (违背信用承诺事先告知 → 陈述申辩 → 负责人决定) ---
    # Database defaults too: the verification sweep inserts checks set-based in SQL, naming only its columns.
    proposed_outcome = models.CharField(
        _("拟认定结果"),
        max_length=10,
        blank=True,
        db_default="",
        choices=[
            (VerificationState.BROKEN, VerificationState.BROKEN.label),
            (VerificationState.FALSE, VerificationState.FALSE.label),
        ],
    )
    proposed_by = acting_user(_("拟认定人"))
    hearing_until = models.DateField(_("陈述申辩截止日"), null=True, blank=True)
    statement = models.TextField(_("陈述申辩意见"), blank=True, db_default="")
    statement_at = models.DateTimeField(_("陈述申辩时间"), null=True, blank=True)
    statement_by = acting_user(_("陈述申辩人"))
    decision_reasons = models.TextField(_("决定理由"), blank=True, db_default="")
    attachments = GenericRelation("cases.Attachment", content_type_field="content_type", object_id_field="object_id")

    class Meta:
        verbose_name = _("承诺核查")
        verbose_name_plural = _("承诺核查")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open check per commitment (a check in its hearing is still open): the sweep and a manual start
            # cannot both open one.
            models.UniqueConstraint(
                fields=["commitment"],
                condition=Q(state__in=["open", "hearing"]),
                name="one_open_verification_per_commitment",
            ),
        ]
        indexes = [models.Index(fields=["handling_organisation", "state"])]

    def __str__(self) -> str:
        return f"{self.tracking_number or self.pk} {self.commitment}"

    @transition(field=state, source=[VerificationState.OPEN, VerificationState.HEARING], target=VerificationState.KEPT)
    def record_kept(self):
        """践诺: the facts committed to are confirmed (or the hearing showed they were)."""

    @transition(field=state, source=VerificationState.OPEN, target=VerificationState.HEARING)
    def propose_breach(self):
        """违诺 or 虚假承诺 proposed: the subject is told and heard before the leader decides."""

    @transition(field=state, source=VerificationState.HEARING, target=VerificationState.BROKEN)
    def record_broken(self):
        """违诺: the commitment was not kept (Henan Art 58: it enters the credit record)."""

    @transition(field=state, source=VerificationState.HEARING, target=VerificationState.FALSE)
    def record_false(self):
        """虚假承诺: what was committed to was untrue when signed."""

    @transition(
        field=state, source=[VerificationState.OPEN, VerificationState.HEARING], target=VerificationState.CANCELLED
    )
    def cancel(self):
        """The commitment ended otherwise (e.g. the application was withdrawn)."""


class DecisionRevocation(StateMachineMixin, models.Model):
    """撤销行政决定 started after a broken or false commitment: a tracked task of the department."""

    class State(models.TextChoices):
        OPEN = "open", _("办理中")
        REVOKED = "revoked", _("已撤销行政决定")
        KEPT = "kept", _("决定不撤销")

    verification = models.OneToOneField(
        CommitmentVerification, verbose_name=_("核查"), on_delete=models.PROTECT, related_name="revocation"
    )
    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("办理机构"), on_delete=models.PROTECT, related_name="+"
    )
    state = FSMField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN, protected=True)
    reason = models.TextField(_("理由"))
    outcome_note = models.TextField(_("办理结果"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("发起时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("撤销行政决定")
        verbose_name_plural = _("撤销行政决定")

    def __str__(self) -> str:
        return f"{self.verification} · {self.get_state_display()}"

    @property
    def handling_organisation(self):
        """The department that must decide (the one that granted the decision): the flow routes to it."""
        return self.organisation

    @transition(field=state, source=State.OPEN, target=State.REVOKED)
    def revoke(self):
        """The leader revokes the administrative decision (行政许可法 Art 69; Henan Art 68)."""

    @transition(field=state, source=State.OPEN, target=State.KEPT)
    def keep(self):
        """The leader decides the decision stands."""
