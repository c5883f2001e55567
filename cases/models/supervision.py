"""The supervisor's dashboard summary (issue 15 item 3): the few rows its figures are read from, instead of
grouping a million cases and clocks at every view.

Each table is a ledger of signed deltas: database triggers (cases/services/supervision_summary.py) append one
row per change of a figure in the transaction that makes the change, and a periodic consolidation folds the
rows into one per key. Appending never updates a shared counter row, so writers of different cases never wait
for each other here; a figure is ``sum(n)`` over its key. No foreign keys: an insert would share-lock the
organisation row on every change, and the rows only carry keys the readers join themselves.

Time-dependent figures (overdue, ageing) are not counters: the open cases are counted per due moment of their
oldest running legal clock, and the reader compares those few moments with *now*.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupervisionOpen(models.Model):
    """Open cases per procedure × handling organisation × oldest running legal due moment (NULL: none runs)."""

    procedure = models.CharField(_("办理事项"), max_length=40)
    organisation_id = models.BigIntegerField(_("机构"), null=True)
    oldest_due = models.DateTimeField(_("最早截止时间"), null=True)
    n = models.BigIntegerField(_("件数"))

    class Meta:
        verbose_name = _("督办汇总（未办结）")
        verbose_name_plural = _("督办汇总（未办结）")

    def __str__(self) -> str:
        return f"{self.procedure} {self.organisation_id} {self.oldest_due}: {self.n:+d}"


class SupervisionTimeUsed(models.Model):
    """Ended clocks of the registered purposes per organisation × purpose × label: count and total time."""

    organisation_id = models.BigIntegerField(_("机构"), null=True)
    purpose = models.CharField(_("时限事项"), max_length=60)
    label = models.CharField(_("名称"), max_length=120)
    n = models.BigIntegerField(_("件数"))
    micros = models.BigIntegerField(_("用时（微秒）"))

    class Meta:
        verbose_name = _("督办汇总（办理用时）")
        verbose_name_plural = _("督办汇总（办理用时）")

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.purpose}: {self.n:+d}"


class SupervisionClearing(models.Model):
    """Substantiated 政务失信 cases per day substantiated × day closed (NULL: not closed), in local days."""

    verified_on = models.DateField(_("认定日"))
    closed_on = models.DateField(_("办结日"), null=True)
    n = models.BigIntegerField(_("件数"))

    class Meta:
        verbose_name = _("督办汇总（清零）")
        verbose_name_plural = _("督办汇总（清零）")

    def __str__(self) -> str:
        return f"{self.verified_on}–{self.closed_on or '…'}: {self.n:+d}"


class SupervisionLateness(models.Model):
    """Ended legal clocks of the registered purposes with an organisation, per organisation × case type ×
    start day × end day (local), with how many ended within their limit: the public lateness statistics and
    the dashboard's 办理时效 (cases.selectors.statistics)."""

    organisation_id = models.BigIntegerField(_("机构"))
    content_type_id = models.IntegerField(_("办件类型"))
    start_date = models.DateField(_("起算日"))
    end_day = models.DateField(_("结束日"))
    n = models.BigIntegerField(_("件数"))
    on_time = models.BigIntegerField(_("按时件数"))

    class Meta:
        verbose_name = _("督办汇总（办理时效）")
        verbose_name_plural = _("督办汇总（办理时效）")

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.start_date}–{self.end_day}: {self.n:+d}"


class SupervisionDisclosure(models.Model):
    """双公示 clocks with an organisation, per organisation × outcome (reported on time, late, other ended, or
    still open at its due moment): 双公示报送及时性 (cases.selectors.disclosure)."""

    organisation_id = models.BigIntegerField(_("机构"))
    outcome = models.CharField(_("报送情况"), max_length=10)  # on_time, late, ended, open
    due_at = models.DateTimeField(_("截止时间"), null=True)  # open ones only
    n = models.BigIntegerField(_("件数"))

    class Meta:
        verbose_name = _("督办汇总（双公示）")
        verbose_name_plural = _("督办汇总（双公示）")

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.outcome} {self.due_at}: {self.n:+d}"
