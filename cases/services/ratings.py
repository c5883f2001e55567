"""好差评, every write (issue 12 item 6): an applicant rates a closed case once; a 差评 opens a follow-up for the
handling organisation's leader with a working-day clock; the leader answers it and the clock stops.

国办发〔2019〕51号 [sec]: the rating is the applicant's, once per matter handled; every 差评 is verified, corrected
where justified and answered. The follow-up limit is rule-set parameter ``rating.follow_up_wd`` ([cfg]).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import CaseRating, Role
from cases.models.ratings import NEGATIVE_GRADES, Grade, RatingFollowUp
from cases.services.audit import audit_log
from workflows import rules
from workflows.models import Clock
from workflows.procedures import PROCEDURES
from workflows.services.clocks import clock_start, clock_stop

FOLLOW_UP = "rating.follow_up"
COMMENT_MAX = 500


class RatingError(ValidationError):
    """A rating refused for a reason the person can act on (bilingual, shown on the form)."""


def case_is_closed(procedure_code: str, case) -> bool:
    """Submitted and no longer open: decided, refused, withdrawn or deemed withdrawn alike."""
    procedure = PROCEDURES[procedure_code]
    return bool(case.tracking_number) and case.state != "draft" and case.state not in procedure.open_states


def case_rate(*, actor, procedure: str, case, grade: str, comment: str = "") -> CaseRating:
    """Rate ``case`` once. Repeating the same rating returns it unchanged (a double click, a retried POST);
    a different one is refused: the first rating stands."""
    if procedure not in PROCEDURES or not PROCEDURES[procedure].applicant_url_name:
        raise RatingError(_("该事项不适用办件评价。"), code="not_ratable")
    if not policy.can_apply_for(actor, case.subject, procedure):
        raise PermissionDenied(_("只有申请人（或其授权的经办人）可以评价该办件。"))
    if grade not in Grade.values:
        raise RatingError(_("请选择评价等级（非常满意至非常不满意）。"), code="bad_grade")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise RatingError(
            _("评价意见不能超过%(n)d个字（现有%(m)d个字）。") % {"n": COMMENT_MAX, "m": len(comment)},
            code="comment_too_long",
        )
    if grade in NEGATIVE_GRADES and not comment:
        raise RatingError(_("选择“不满意”或“非常不满意”时，请写明原因，以便核实整改。"), code="no_reason")
    if not case_is_closed(procedure, case):
        raise RatingError(_("办件办结后才能评价。"), code="not_closed")
    ct = ContentType.objects.get_for_model(case)
    existing = CaseRating.objects.filter(content_type=ct, object_id=case.pk).first()
    if existing is not None:
        return _same_or_refuse(existing, grade, comment)
    try:
        with transaction.atomic():
            rating = CaseRating.objects.create(
                content_type=ct,
                object_id=case.pk,
                procedure=procedure,
                tracking_number=case.tracking_number,
                subject=case.subject,
                organisation=case.handling_organisation,
                rated_by=actor,
                grade=grade,
                comment=comment,
            )
            audit_log(
                actor=actor,
                action="rating.created",
                obj=rating,
                data={"procedure": procedure, "tracking_number": case.tracking_number, "grade": grade},
            )
            if rating.is_negative:
                _open_follow_up(rating, actor)
    except IntegrityError:
        # Two submissions raced: the other one's rating stands.
        existing = CaseRating.objects.get(content_type=ct, object_id=case.pk)
        return _same_or_refuse(existing, grade, comment)
    return rating


def _same_or_refuse(existing: CaseRating, grade: str, comment: str) -> CaseRating:
    if existing.grade == grade and existing.comment == comment:
        return existing
    raise RatingError(
        _("该办件已于%(at)s评价为“%(grade)s”，每件只能评价一次。")
        % {
            "at": timezone.localtime(existing.created_at).strftime("%Y-%m-%d %H:%M"),
            "grade": existing.get_grade_display(),
        },
        code="already_rated",
    )


def _open_follow_up(rating: CaseRating, actor) -> RatingFollowUp:
    follow_up = RatingFollowUp.objects.create(rating=rating, organisation=rating.organisation)
    rule_set = rules.ruleset_in_force(timezone.now())
    detail = rules.rule_param_detail(rule_set, rules.RATING_FOLLOW_UP_WD)
    clock_start(
        case=follow_up,
        purpose=FOLLOW_UP,
        label=_("差评核实整改期限"),
        budget=int(detail.value),
        unit=detail.unit or Clock.Unit.WORKING_DAYS,
        # An internal target, not a statutory limit: it escalates within the department only.
        kind=Clock.Kind.INTERNAL,
        received_at=timezone.now(),
        organisation=rating.organisation,
        citation=detail.citation,
        actor=actor,
    )
    audit_log(
        actor=actor,
        action="rating.follow_up_opened",
        obj=follow_up,
        data={"rating": rating.pk, "organisation": rating.organisation_id, "budget_wd": int(detail.value)},
    )
    return follow_up


def follow_up_clock(follow_up: RatingFollowUp) -> Clock | None:
    return (
        Clock.objects.filter(
            content_type=ContentType.objects.get_for_model(RatingFollowUp), object_id=follow_up.pk, purpose=FOLLOW_UP
        )
        .order_by("-id")
        .first()
    )


def rating_follow_up_close(*, actor, follow_up: RatingFollowUp, response: str) -> RatingFollowUp:
    """The leader of the organisation records what was verified, corrected and told to the applicant."""
    if not (actor.role == Role.DEPT_LEADER and policy.acting_organisation_id(actor) == follow_up.organisation_id):
        raise PermissionDenied(_("差评整改须由办理机构的负责人办结。"))
    if not response.strip():
        raise RatingError(_("请写明核实整改及回访情况。"), code="no_response")
    with transaction.atomic():
        locked = RatingFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if locked.state != RatingFollowUp.State.OPEN:
            raise RatingError(_("该差评整改已办结。"), code="already_closed")
        locked.state = RatingFollowUp.State.CLOSED
        locked.response = response.strip()
        locked.closed_by = actor
        locked.closed_at = timezone.now()
        locked.save(update_fields=["state", "response", "closed_by", "closed_at"])
        clock = follow_up_clock(locked)
        if clock is not None and clock.stopped_at is None:
            clock_stop(clock=clock, actor=actor, reason=_("已整改回访"))
        audit_log(actor=actor, action="rating.follow_up_closed", obj=locked, data={"rating": locked.rating_id})
    return locked
