from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user


# --- working-day calendar --------------------------------------------------------------------------
class CalendarYear(models.Model):
    """A year whose official arrangement (国务院办公厅 notice) an administrator has entered or imported.

    Years covered by the chinesecalendar package are known without a row; a year with neither is
    computed provisionally (weekends only) and flagged.
    """

    year = models.PositiveSmallIntegerField(_("年度"), primary_key=True)
    source = models.CharField(_("来源文件"), max_length=200, help_text=_("例如：国办发明电〔2026〕X号"))
    imported_at = models.DateTimeField(_("导入时间"), auto_now=True)

    class Meta:
        verbose_name = _("已公布放假安排的年度")
        verbose_name_plural = _("已公布放假安排的年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarOverride(models.Model):
    """An administrator's correction or addition: this date is a holiday, or a (make-up) working day."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否上班"), help_text=_("勾选表示调休上班日；不勾选表示放假。"))
    name = models.CharField(_("节日名称"), max_length=40, blank=True, help_text=_("例如：春节、国庆节"))
    source = models.CharField(_("来源文件"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}"


class CalendarVersion(models.Model):
    """One row; bumped on every calendar change so every process reloads its precomputed table."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveIntegerField(_("版本"), default=0)
    changed_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")

    def __str__(self) -> str:
        return f"v{self.version}"


# --- rule sets ---------------------------------------------------------------------------------------
class RuleSet(models.Model):
    """A versioned set of legal parameters; a case keeps the set in force on its receipt date."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    effective_from = models.DateField(_("施行日期"))
    effective_until = models.DateField(_("截止日期"), null=True, blank=True)
    citation = models.CharField(_("依据"), max_length=300)

    class Meta:
        verbose_name = _("规则版本")
        verbose_name_plural = _("规则版本")
        ordering = ["effective_from"]

    def __str__(self) -> str:
        return self.name

    def param(self, key: str):
        return self.parameters.get(key=key).value


class RuleParameter(models.Model):
    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("规则版本"), on_delete=models.CASCADE, related_name="parameters"
    )
    key = models.CharField(_("参数"), max_length=80)
    value = models.JSONField(_("取值"))
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    description = models.CharField(_("说明"), max_length=200)
    citation = models.CharField(_("依据"), max_length=300)

    class Meta:
        verbose_name = _("规则参数")
        verbose_name_plural = _("规则参数")
        ordering = ["rule_set", "key"]
        constraints = [models.UniqueConstraint(fields=["rule_set", "key"], name="one_value_per_key")]

    def __str__(self) -> str:
        return f"{self.key} = {self.value}{self.unit}"


# --- clocks ------------------------------------------------------------------------------------------
class Clock(models.Model):
    """A time limit on a case or a step: budget, start, pauses, at most one extension.

    ``due_date``/``due_at`` are derived from those and the calendar, stored for indexed overdue queries,
    and recomputed by ``workflows.services.clocks`` whenever any input changes.
    """

    class Kind(models.TextChoices):
        LEGAL = "legal", _("法定时限")
        INTERNAL = "internal", _("承诺时限")

    class Unit(models.TextChoices):
        WORKING_DAYS = "wd", _("工作日")
        CALENDAR_DAYS = "cd", _("自然日")

    class StartRule(models.TextChoices):
        # PROCEDURES.md "Counting time": "自收到之日起" — receipt day is day 0, a non-working day counts
        # as the next working day.
        RECEIPT = "receipt", _("自收件之日起算")
        # A step that runs from a fixed date (e.g. the date of a notice), whatever day it is.
        IMMEDIATE = "immediate", _("自指定日期起算")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    organisation = models.ForeignKey(
        "cases.Organisation",
        verbose_name=_("责任机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clocks",
    )
    purpose = models.CharField(_("时限事项"), max_length=60)
    label = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("时限类型"), max_length=10, choices=Kind.choices, default=Kind.LEGAL)
    unit = models.CharField(_("计时单位"), max_length=2, choices=Unit.choices, default=Unit.WORKING_DAYS)
    budget = models.PositiveIntegerField(_("时限"))
    citation = models.CharField(_("依据"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("起算时间"))
    start_rule = models.CharField(_("起算规则"), max_length=10, choices=StartRule.choices, default=StartRule.RECEIPT)
    start_date = models.DateField(_("起算日"), help_text=_("第0日；非工作日收件顺延至下一工作日。"))
    extension_cap = models.PositiveIntegerField(_("延期上限"), default=0)
    extension_days = models.PositiveIntegerField(_("已延期"), default=0)
    extension_reason = models.CharField(_("延期理由"), max_length=300, blank=True)
    extended_at = models.DateTimeField(_("延期时间"), null=True, blank=True)
    is_paused = models.BooleanField(_("暂停中"), default=False)
    due_date = models.DateField(_("截止日"), null=True, blank=True)
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    provisional = models.BooleanField(
        _("暂定"), default=False, help_text=_("截止日落在尚未公布放假安排的年度，按周末推算，待导入后重算。")
    )
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    stop_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    # When the escalation ladder can next act on this clock (workflows.ladder): kept by the clock services and
    # the escalation sweep, so the sweep reads only the clocks whose moment has come. Null: nothing to fire
    # (stopped, paused, not an escalated limit, or every rung passed).
    next_escalation_at = models.DateTimeField(_("下次督办时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        indexes = [
            # The overdue sweep and dashboards: only running clocks, by due moment.
            models.Index(
                fields=["due_at"], name="clock_open_due_idx", condition=Q(stopped_at__isnull=True, is_paused=False)
            ),
            models.Index(fields=["content_type", "object_id"]),
            models.Index(
                fields=["organisation", "due_at"], name="clock_org_due_idx", condition=Q(stopped_at__isnull=True)
            ),
            # The provisional-calendar alarm runs on every staff page: keep it off the big table.
            models.Index(
                fields=["due_date"],
                name="clock_provisional_open_idx",
                condition=Q(stopped_at__isnull=True, provisional=True),
            ),
            # The escalation sweep: open clocks with a rung still to fire, by the moment it comes.
            models.Index(
                fields=["next_escalation_at"],
                name="clock_next_escalation_idx",
                condition=Q(stopped_at__isnull=True, next_escalation_at__isnull=False),
            ),
            # Sweeps over one kind of limit (视为撤回 on the supplement window): running clocks of a purpose by
            # due moment, so "due and not yet acted on" is read without the other purposes' overdue clocks.
            models.Index(
                fields=["purpose", "due_at"],
                name="clock_open_purpose_due_idx",
                condition=Q(stopped_at__isnull=True, is_paused=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(extension_days__lte=models.F("extension_cap")), name="extension_within_cap"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}（{self.budget}{self.get_unit_display()}）"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None and not self.is_paused


class ClockPause(models.Model):
    class Reason(models.TextChoices):
        # Henan 社会信用条例 Art 41: time for these is not counted.
        TESTING = "testing", _("检验")
        INSPECTION = "inspection", _("检测")
        QUARANTINE = "quarantine", _("检疫")
        APPRAISAL = "appraisal", _("鉴定")
        EXPERT_REVIEW = "expert_review", _("专家评审")
        # PROCEDURES.md [cfg]: waiting for the applicant's supplement (补正) pauses the authority's clock.
        SUPPLEMENT = "supplement", _("等待申请人补正材料")

    clock = models.ForeignKey(Clock, verbose_name=_("时限"), on_delete=models.CASCADE, related_name="pauses")
    reason_code = models.CharField(_("暂停事由"), max_length=20, choices=Reason.choices)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    paused_on = models.DateField(_("暂停日"))
    resumed_on = models.DateField(_("恢复日"), null=True, blank=True)
    paused_by = acting_user(_("暂停人"))
    resumed_by = acting_user(_("恢复人"))

    class Meta:
        verbose_name = _("暂停计时")
        verbose_name_plural = _("暂停计时")
        ordering = ["paused_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock"], condition=Q(resumed_on__isnull=True), name="one_open_pause_per_clock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_code_display()} {self.paused_on}–{self.resumed_on or '…'}"
