"""Reads for credit commitments (PROCEDURES.md §3): the portal, the department's desk, the public register.

Every list is one query (clock due dates annotated by subquery), scoped by cases.policy; the public register
reads only what may be published and masks personal data (Henan Arts 24, 46).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import DateField, DateTimeField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from cases import policy
from cases.models import (
    Commitment,
    CommitmentMatter,
    CommitmentVerification,
    DecisionRevocation,
    Subject,
    VerificationState,
)
from cases.policy import NOTHING
from cases.selectors.records import public_person_match_q
from workflows.models import Clock


def commitment_scope_q(user) -> Q:
    """Commitments ``user`` may see on the portal or desk: its subjects' ones, its department's, or all."""
    scope, org_id = policy._scope(user)
    if scope == "all":
        return Q()
    if scope == "applicant":
        return Q(subject_id__in=policy.active_authorisations(user, procedure="commitment").values("subject_id"))
    if scope == "department":
        return Q(department_id=org_id)
    return NOTHING


def commitments_for(user) -> QuerySet[Commitment]:
    return (
        Commitment.objects.filter(commitment_scope_q(user))
        .select_related("subject", "department", "commitment_matter")
        .order_by("-signed_at", "-id")
    )


def commitment_for(user, pk: int) -> Commitment:
    c = commitments_for(user).filter(pk=pk).first()
    if c is None:
        raise Http404
    return c


def subject_for_registration(user, identifier: str) -> Subject | None:
    """The subject a department registers a commitment for, by the identifier typed on the desk form.

    A 统一社会信用代码 is public: any registered organisation is found. A 身份证号 finds a natural person only
    when the department may already see that person (a record it provided, or a commitment made to it):
    the desk is not a way to turn someone's ID number into a name (个人信息保护法 Art 6, 10). Unknown and
    unseen numbers get the same None, so the answer confirms nothing."""
    if not identifier:
        return None
    organisation = Subject.objects.filter(uscc=identifier).first()
    if organisation is not None:
        return organisation
    org_id = policy.acting_organisation_id(user)
    return (
        Subject.objects.filter(id_number=identifier)
        .filter(policy.subject_scope_q(user) | Q(commitments__department_id=org_id))
        .distinct()
        .first()
    )


def matters_open_for_signing() -> QuerySet[CommitmentMatter]:
    return (
        CommitmentMatter.objects.filter(is_active=True)
        .exclude(type="repair")
        .select_related("department")
        .order_by("department__name", "title")
    )


def _verification_clock(field: str):
    ct = ContentType.objects.get_for_model(CommitmentVerification)
    return Subquery(
        Clock.objects.filter(content_type=ct, object_id=OuterRef("pk"), purpose="commitment.verify")
        .order_by("-pk")
        .values(field)[:1]
    )


def _handled_by_department(user, model, organisation_field: str) -> QuerySet:
    """``model``'s rows a department user's organisation handles (``organisation_field``); every row for the
    staff who read all; none for anyone else."""
    scope, org_id = policy._scope(user)
    if scope == "department":
        return model.objects.filter(**{organisation_field: org_id})
    if scope == "all" and policy.is_staff_member(user):
        return model.objects.all()
    return model.objects.none()


def verifications_for(user, *, state: str | None = VerificationState.OPEN) -> QuerySet[CommitmentVerification]:
    """Checks the user's department handles (read-all roles: every one), due date annotated, earliest first."""
    # Annotated below even when empty: callers filter on due_at (a 政府机构 liaison's desk has no checks, not
    # an error).
    qs = _handled_by_department(user, CommitmentVerification, "handling_organisation_id")
    if state:
        qs = qs.filter(state=state)
    return (
        qs.select_related("commitment", "subject", "handling_organisation", "commitment__commitment_matter")
        .annotate(due_date=_verification_clock("due_date"), due_at=_verification_clock("due_at"))
        .order_by("due_date", "pk")
    )


def verifications_overdue(user, *, now: dt.datetime | None = None) -> QuerySet[CommitmentVerification]:
    now = now or timezone.now()
    return verifications_for(user).filter(due_at__lt=now)


def verification_for(user, pk: int) -> CommitmentVerification:
    v = verifications_for(user, state=None).filter(pk=pk).first()
    if v is None:
        raise Http404
    return v


def follow_documents_late(user, *, today: dt.date | None = None) -> QuerySet[Commitment]:
    """容缺受理: documents to follow whose deadline has passed."""
    today = today or timezone.localdate()
    return (
        commitments_for(user)
        .filter(follow_received_at__isnull=True, follow_due_date__lt=today)
        .order_by("follow_due_date", "pk")
    )


def follow_documents_pending(user) -> QuerySet[Commitment]:
    return (
        commitments_for(user)
        .filter(follow_received_at__isnull=True, follow_due_date__isnull=False)
        .order_by("follow_due_date", "pk")
    )


def repair_reviews_for(user) -> QuerySet[Commitment]:
    return commitments_for(user).filter(repair_review_flagged_at__isnull=False, repair_review_closed_at__isnull=True)


def revocations_for(user, *, open_only: bool = True) -> QuerySet[DecisionRevocation]:
    qs = _handled_by_department(user, DecisionRevocation, "organisation_id")
    if open_only:
        qs = qs.filter(state=DecisionRevocation.State.OPEN)
    ct = ContentType.objects.get_for_model(DecisionRevocation)
    due = Clock.objects.filter(content_type=ct, object_id=OuterRef("pk")).order_by("-pk")
    return (
        qs.select_related("verification__commitment__subject")
        .annotate(
            due_date=Subquery(due.values("due_date")[:1], output_field=DateField()),
            due_at=Subquery(due.values("due_at")[:1], output_field=DateTimeField()),
        )
        .order_by("due_date", "pk")
    )


# --- the public register --------------------------------------------------------------------------------


def public_register(*, q: str = "", type: str = "", status: str = "") -> QuerySet[Commitment]:
    """Searchable public page: subject name, type, matter, date, status. Personal data is masked in the
    template (Subject.public_identifier); signer names and texts of individuals are not shown."""
    qs = Commitment.objects.select_related("subject", "department")
    q = (q or "").strip()
    if q:
        # A person's name is personal data: people are found by their full 身份证号 only, as on the public
        # search (cases.selectors.records.public_person_match_q).
        qs = qs.filter(
            (Q(subject__name__icontains=q) & ~Q(subject__kind="individual"))
            | Q(matter__icontains=q)
            | Q(subject__uscc=q.upper())
            | public_person_match_q(q, prefix="subject__")
        )
    if type:
        qs = qs.filter(type=type)
    if status == "broken":
        qs = qs.filter(status__in=[Commitment.Status.BROKEN, Commitment.Status.FALSE])
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-signed_at", "-id")


def follow_up_status(commitment: Commitment, *, today: dt.date | None = None) -> dict | None:
    """容缺受理 on the commitment's page: the documents to follow, their date and what is left or overdue in
    working days, what was handed in, and what the matter says follows lateness."""
    if commitment.follow_due_date is None:
        return None
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Attachment
    from workflows.calendar import get_calendar

    today = today or timezone.localdate()
    cal = get_calendar()
    due = commitment.follow_due_date
    matter = commitment.commitment_matter
    return {
        "documents": matter.follow_documents if matter else [],
        "due_date": due,
        "received_at": commitment.follow_received_at,
        "remaining": cal.working_days_between(today, due) if today <= due else None,
        "overdue": cal.working_days_between(due, today) if today > due else None,
        "consequences": matter.follow_late_consequence_list if matter else [],
        "files": list(
            Attachment.objects.filter(
                content_type=ContentType.objects.get_for_model(Commitment),
                object_id=commitment.pk,
                purpose=Attachment.Purpose.FOLLOW_UP,
            ).order_by("uploaded_at", "pk")
        ),
    }
