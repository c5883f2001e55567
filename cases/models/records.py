from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cases.models.fsm import StateMachineMixin


class RecordKind(models.TextChoices):
    ADMINISTRATIVE_PENALTY = "admin_penalty", _("行政处罚信息")
    # 双公示 publishes licensing decisions too (seed 003 item 4); they are not dishonesty information, so
    # they carry no severity, no display window and cannot be "repaired".
    ADMINISTRATIVE_LICENSE = "admin_license", _("行政许可信息")
    SERIOUS_DISHONESTY = "serious_list", _("严重失信主体名单")
    ABNORMAL_OPERATION = "abnormal_list", _("经营异常名录")
    OTHER_DISHONESTY = "other_dishonesty", _("其他失信信息")
    GOVERNMENT_DISHONESTY = "gov_dishonesty", _("政务失信记录")


class Severity(models.TextChoices):
    MINOR = "minor", _("轻微")
    ORDINARY = "ordinary", _("一般")
    SERIOUS = "serious", _("严重")


class Sector(models.TextChoices):
    """Sectors with a longer minimum display period under the 58号令 rule set (PROCEDURES.md §1)."""

    FOOD = "food", _("食品")
    DRUGS = "drugs", _("药品")
    SPECIAL_EQUIPMENT = "special_equipment", _("特种设备")
    WORK_SAFETY = "work_safety", _("安全生产")
    FIRE_SAFETY = "fire_safety", _("消防")


class DisplayState(models.TextChoices):
    DISPLAYED = "displayed", _("公示中")
    UNDER_OBJECTION = "objection", _("异议标注")
    REPAIRED = "repaired", _("已修复")
    REVOKED = "revoked", _("已撤销")
    EXPIRED = "expired", _("到期停止公示")


# The legal clock of a decision's 双公示 report to the city credit platform (cases.services.disclosure).
DISCLOSURE_PURPOSE = "record.disclosure"

# States in which the record is shown on the public credit website and shared with other platforms.
PUBLIC_STATES = (DisplayState.DISPLAYED, DisplayState.UNDER_OBJECTION)


class CreditRecord(StateMachineMixin, models.Model):
    """One item of public credit information about a subject.

    ``display_state`` is the legal display state; only services move it (through the transitions below),
    and every move is written to the record's change history and the audit trail.
    """

    subject = models.ForeignKey(
        "cases.Subject", verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="records"
    )
    kind = models.CharField(_("信息类别"), max_length=20, choices=RecordKind.choices)
    severity = models.CharField(_("失信程度"), max_length=10, choices=Severity.choices, blank=True)
    title = models.CharField(_("事项名称"), max_length=200)
    decision_number = models.CharField(_("决定文书号"), max_length=80, blank=True)
    content = models.TextField(_("主要内容"), blank=True)
    legal_basis = models.CharField(_("依据"), max_length=300, blank=True)
    provider = models.ForeignKey(
        "cases.Organisation",
        verbose_name=_("认定/提供部门"),
        on_delete=models.PROTECT,
        related_name="provided_records",
    )
    sector = models.CharField(
        _("所属领域"),
        max_length=20,
        choices=Sector.choices,
        blank=True,
        help_text=_("食品、药品、特种设备、安全生产、消防领域的失信信息适用更长的最短公示期（58号令规则）。"),
    )
    decision_date = models.DateField(_("决定日期"))
    publication_date = models.DateField(_("公示日期"))
    # Display window, counted from the decision date under the rule set in force on that date
    # (PROCEDURES.md §1 [sec]) and capped at 5 years (Henan Art 19); see cases.services.records.
    display_min_until = models.DateField(_("最短公示期届满日"), null=True, blank=True)
    display_max_until = models.DateField(_("最长公示期届满日"), null=True, blank=True)
    repairable = models.BooleanField(_("可修复"), default=True)
    obligations_performed = models.BooleanField(_("已履行法定义务"), default=False)
    display_state = FSMField(
        _("公示状态"),
        max_length=12,
        choices=DisplayState.choices,
        default=DisplayState.DISPLAYED,
        protected=True,
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")
        ordering = ["-decision_date", "-id"]
        constraints = [
            # Only a licence has no severity: dishonesty information is graded (PROCEDURES.md §1).
            models.CheckConstraint(
                condition=models.Q(kind="admin_license") | ~models.Q(severity=""),
                name="record_severity_unless_licence",
                violation_error_message=_("失信信息必须填写失信程度。"),
            ),
            # Publication (双公示) follows the decision; the display window runs forward from it.
            models.CheckConstraint(
                condition=models.Q(publication_date__gte=models.F("decision_date")),
                name="record_published_after_decision",
                violation_error_message=_("公示日期不能早于决定日期。"),
            ),
            models.CheckConstraint(
                condition=models.Q(display_min_until__isnull=True)
                | models.Q(display_max_until__isnull=True)
                | models.Q(display_min_until__lte=models.F("display_max_until")),
                name="record_display_window_ordered",
                violation_error_message=_("最短公示期届满日不能晚于最长公示期届满日。"),
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "display_state"]),
            models.Index(fields=["provider", "display_state"]),
            # A department's record list, newest decision first: its first page read from the index, not by
            # sorting all of the department's records (issue 15 item 5).
            models.Index(fields=["provider", "-decision_date", "-id"], name="record_provider_date_idx"),
            models.Index(
                fields=["display_max_until"],
                name="record_expiry_idx",
                condition=models.Q(display_state__in=["displayed", "objection"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def is_public(self) -> bool:
        return self.display_state in PUBLIC_STATES

    @property
    def under_objection(self) -> bool:
        return self.display_state == DisplayState.UNDER_OBJECTION

    # --- transitions: called only from cases.services.records ---------------------------------------
    @transition(field=display_state, source=DisplayState.DISPLAYED, target=DisplayState.UNDER_OBJECTION)
    def mark_objection(self):
        """Henan Art 41: from receipt of an objection the record carries the 异议标注 mark."""

    @transition(field=display_state, source=DisplayState.UNDER_OBJECTION, target=DisplayState.DISPLAYED)
    def clear_objection(self):
        """The objection case ended with the record kept or corrected."""

    @transition(field=display_state, source=DisplayState.DISPLAYED, target=DisplayState.REPAIRED)
    def repair(self):
        """信用修复管理办法 (36号令) Art 3: a repaired record stops being displayed and shared."""

    @transition(field=display_state, source=DisplayState.REPAIRED, target=DisplayState.DISPLAYED)
    def restore_display(self):
        """A repair obtained by false materials is revoked and display restored."""

    @transition(field=display_state, source=list(PUBLIC_STATES), target=DisplayState.REVOKED)
    def revoke(self):
        """Henan Art 42: information revoked by its authority is removed within 1 working day."""

    @transition(field=display_state, source=DisplayState.DISPLAYED, target=DisplayState.EXPIRED)
    def expire(self):
        """The maximum display period ended (Henan Art 19; 36号令): display stops by itself."""


class RecordChange(models.Model):
    """Field-level history of a credit record: what changed, from what, to what, why, by whom."""

    record = models.ForeignKey(
        CreditRecord, verbose_name=_("信用记录"), on_delete=models.PROTECT, related_name="changes"
    )
    field = models.CharField(_("字段"), max_length=40)
    old_value = models.TextField(_("原值"), blank=True)
    new_value = models.TextField(_("新值"), blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    case_reference = models.CharField(_("关联办件"), max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    changed_at = models.DateTimeField(_("变更时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用记录变更")
        verbose_name_plural = _("信用记录变更")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.record_id}.{self.field}: {self.old_value} → {self.new_value}"
