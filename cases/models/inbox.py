"""The officers' inbox: one row per open viewflow task a department, the credit centre or a government body
must take, and the delegations of absent officers.

``InboxItem`` repeats, for each open human task, what the inbox lists, filters and orders by — the
procedure, the step, the organisation and permission the task is routed with, its owner, the case's
办件编号 and subject, and the due moment of the legal clock the step runs against — so the first page of
100,000 open tasks is one index scan instead of a join across viewflow's tasks, the four case tables and
the clocks. cases.services.inbox keeps it in step: every save of a viewflow Task and every change of a
clock updates the rows it concerns in the same transaction, and a task that is done or cancelled leaves
the table.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task


class InboxItem(models.Model):
    task = models.OneToOneField(
        Task, verbose_name=_("待办任务"), primary_key=True, on_delete=models.CASCADE, related_name="inbox_item"
    )
    procedure = models.CharField(_("事项类型"), max_length=20)
    node = models.CharField(_("办理环节"), max_length=40)
    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_id = models.BigIntegerField(_("办件"))
    tracking_number = models.CharField(_("办件编号"), max_length=32, blank=True)
    subject_name = models.CharField(_("信用主体"), max_length=200, blank=True)
    # Enterprises' and organisations' codes only: an individual's identity number is never copied here.
    subject_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("办理机构"), on_delete=models.CASCADE, related_name="+"
    )
    permission = models.CharField(_("办理权限"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the task was routed to a delegate because its intended officer is absent: both see it.
    routed_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("原承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("到达时间"))
    due_date = models.DateField(_("法定截止日"), null=True, blank=True)
    due_at = models.DateTimeField(_("法定截止时间"), null=True, blank=True)
    provisional = models.BooleanField(_("暂定"), default=False)

    class Meta:
        verbose_name = _("待办事项")
        verbose_name_plural = _("待办事项")
        indexes = [
            # The first page: an organisation's tasks by legal deadline (PostgreSQL puts NULLs last in an ascending index;
            # SQLite, the demo database, accepts no NULLS LAST in an index).
            models.Index(F("organisation"), F("due_at").asc(), "task", name="inbox_org_due_idx"),
            # "Mine" and the person's own numbers.
            models.Index(fields=["owner", "due_at"], name="inbox_owner_due_idx", condition=Q(owner__isnull=False)),
            models.Index(fields=["routed_for"], name="inbox_routed_for_idx", condition=Q(routed_for__isnull=False)),
            models.Index(fields=["case_type", "case_id"], name="inbox_case_idx"),
            models.Index(fields=["tracking_number"], name="inbox_tracking_idx"),
            models.Index(fields=["subject_code"], name="inbox_subject_code_idx"),
            # Counts per procedure and step of one organisation, read from the index alone (an index-only scan
            # on PostgreSQL; elsewhere the index on organisation serves).
            models.Index(
                fields=["organisation", "procedure", "node"],
                include=["permission", "owner", "routed_for", "due_at"],
                name="inbox_org_step_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} · {self.procedure}.{self.node}"


class Delegation(models.Model):
    """While ``delegator`` is absent (from ``starts_on`` to ``ends_on``, inclusive), tasks routed to them go to
    ``delegate`` and the delegate sees and may act on the tasks they hold; the delegator still sees them."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("委托人"), on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("受托人"), on_delete=models.CASCADE, related_name="delegations_taken"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("离岗委托")
        verbose_name_plural = _("离岗委托")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="delegation_delegate_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="delegation_ends_after_start"),
            models.CheckConstraint(condition=~Q(delegate=F("delegator")), name="delegation_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.starts_on}–{self.ends_on})"
