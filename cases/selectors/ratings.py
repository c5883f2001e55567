"""好差评, every read: the case a person may rate, its rating, the follow-ups an organisation owes, and the
supervisor's satisfaction table (one aggregate query)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from cases import policy
from cases.models import CaseRating
from cases.models.ratings import NEGATIVE_GRADES, Grade, RatingFollowUp
from workflows.models import Clock
from workflows.procedures import PROCEDURES

# 满意率 counts 基本满意 and better (国办发〔2019〕51号 practice).
SATISFIED_GRADES = (Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASIC)


def ratable_case_get(*, user, procedure: str, pk: int):
    """The case of ``procedure`` with id ``pk`` if ``user`` may see it; 404 otherwise (ids are not probed)."""
    spec = PROCEDURES.get(procedure)
    if spec is None or not spec.applicant_url_name:
        raise Http404
    case = (
        spec.model.objects.filter(policy.case_scope_q(user))
        .select_related("subject", "handling_organisation")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def rating_for_case(case) -> CaseRating | None:
    return CaseRating.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk).first()


def follow_ups_for_user(*, user):
    """The follow-ups of the user's organisation (department staff), open ones first; others see none."""
    org_id = policy.acting_organisation_id(user) if policy.is_department(user) else None
    if org_id is None:
        return RatingFollowUp.objects.none()
    return (
        RatingFollowUp.objects.filter(organisation_id=org_id)
        .select_related("rating", "rating__subject", "closed_by")
        .order_by("state", "created_at", "id")
    )


def follow_up_get_for_user(*, user, pk: int) -> RatingFollowUp:
    follow_up = follow_ups_for_user(user=user).filter(pk=pk).first()
    if follow_up is None:
        raise Http404
    return follow_up


def follow_up_clocks(follow_ups) -> dict[int, Clock]:
    """The clock of each follow-up, in one query."""
    ids = [f.pk for f in follow_ups]
    clocks = Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(RatingFollowUp), object_id__in=ids
    ).order_by("object_id", "-id")
    out: dict[int, Clock] = {}
    for clock in clocks:
        out.setdefault(clock.object_id, clock)
    return out


@dataclass
class SatisfactionRow:
    organisation: str
    procedure: str
    procedure_label: str
    total: int
    counts: dict
    negative: int
    open_follow_ups: int
    late_follow_ups: int

    @property
    def grade_counts(self) -> list[int]:
        return [self.counts[g] for g in Grade.values]

    @property
    def satisfaction_rate(self) -> str:
        if not self.total:
            return "—"
        satisfied = sum(self.counts[g] for g in SATISFIED_GRADES)
        return f"{100 * satisfied / self.total:.1f}%"


def satisfaction_table(*, now=None) -> list[SatisfactionRow]:
    """Ratings by handling organisation and procedure: one GROUP BY with a FILTER per grade; a follow-up is
    late when its clock ran out while it is still open."""
    now = now or timezone.now()
    late = Exists(
        Clock.objects.filter(
            content_type=ContentType.objects.get_for_model(RatingFollowUp),
            object_id=OuterRef("follow_up__pk"),
            stopped_at__isnull=True,
            due_at__lt=now,
        )
    )
    aggregates = {f"g_{g}": Count("id", filter=Q(grade=g)) for g in Grade.values}
    rows = (
        CaseRating.objects.values("organisation__name", "procedure")
        .annotate(
            total=Count("id"),
            negative=Count("id", filter=Q(grade__in=NEGATIVE_GRADES)),
            open_follow_ups=Count("id", filter=Q(follow_up__state=RatingFollowUp.State.OPEN)),
            late_follow_ups=Count("id", filter=Q(late, follow_up__state=RatingFollowUp.State.OPEN)),
            **aggregates,
        )
        .order_by("organisation__name", "procedure")
    )
    return [
        SatisfactionRow(
            organisation=r["organisation__name"],
            procedure=r["procedure"],
            procedure_label=str(PROCEDURES[r["procedure"]].label) if r["procedure"] in PROCEDURES else r["procedure"],
            total=r["total"],
            counts={g: r[f"g_{g}"] for g in Grade.values},
            negative=r["negative"],
            open_follow_ups=r["open_follow_ups"],
            late_follow_ups=r["late_follow_ups"],
        )
        for r in rows
    ]
