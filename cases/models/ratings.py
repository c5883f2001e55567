"""好差评: the applicant's rating of a closed case, and the follow-up a 差评 opens (issue 12 item 6).

国办发〔2019〕51号 (政务服务“好差评”制度) [sec]: five grades from 非常满意 to 非常不满意; every 差评 is looked into,
corrected where justified and answered (回访). Ratings belong to the case's handling organisation, so the
supervisor sees satisfaction by organisation and procedure.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user


class Grade(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


# 差评: the two lowest grades open a follow-up.
NEGATIVE_GRADES = (Grade.DISSATISFIED, Grade.VERY_DISSATISFIED)


class CaseRating(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    procedure = models.CharField(_("办理事项"), max_length=20)
    tracking_number = models.CharField(_("办件编号"), max_length=32)
    subject = models.ForeignKey("cases.Subject", verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("办理机构"), on_delete=models.PROTECT, related_name="ratings"
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.CharField(_("评价等级"), max_length=20, choices=Grade.choices)
    comment = models.TextField(_("评价意见"), blank=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办件评价")
        verbose_name_plural = _("办件评价")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Once per case: a double click or a second visit never makes a second rating.
            models.UniqueConstraint(fields=["content_type", "object_id"], name="one_rating_per_case"),
        ]
        indexes = [models.Index(fields=["organisation", "procedure"])]

    def __str__(self) -> str:
        return f"{self.tracking_number} {self.get_grade_display()}"

    @property
    def is_negative(self) -> bool:
        return self.grade in NEGATIVE_GRADES


class RatingFollowUp(models.Model):
    """A 差评 to look into and answer, owed by the leader of the organisation that handled the case; its time
    limit is a working-day clock (workflows.models.Clock, purpose ``rating.follow_up``)."""

    class State(models.TextChoices):
        OPEN = "open", _("待核实整改")
        CLOSED = "closed", _("已整改回访")

    rating = models.OneToOneField(
        CaseRating, verbose_name=_("办件评价"), on_delete=models.PROTECT, related_name="follow_up"
    )
    organisation = models.ForeignKey(
        "cases.Organisation", verbose_name=_("责任机构"), on_delete=models.PROTECT, related_name="rating_follow_ups"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    response = models.TextField(_("核实整改及回访情况"), blank=True)
    closed_by = acting_user(_("办结人"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["state", "created_at", "id"]
        indexes = [models.Index(fields=["organisation", "state"])]

    def __str__(self) -> str:
        return f"{self.rating} → {self.get_state_display()}"
