"""Every read of 政务失信 rectification cases, scoped by cases.policy (PROCEDURES.md §4).

A guessed id outside the person's scope answers 404, exactly like a missing one.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from cases import policy
from cases.models import Attachment, CaseActivity, Organisation, Subject
from cases.models.rectification import COMPLAINT_SOURCES, LeadSource, RectificationCase, RectificationReport
from workflows.models import Clock
from workflows.selectors import open_clocks_of_case as open_clocks_of  # noqa: F401 (the rectification form's choices)

CASE_TYPE = "rectificationcase"


def rectification_scope_q(user) -> Q:
    """Read-all roles see everything; a government body its own cases once substantiated (and leads
    forwarded to it for verification); a department the leads forwarded to it; a complainant its own."""
    if policy.reads_everything(user):
        return Q()
    if policy.is_applicant(user):
        return Q(applicant=user) | Q(complainant_subject__in=policy.active_authorisations(user).values("subject_id"))
    org = policy.acting_organisation_id(user)
    if org is None:
        return Q(pk__in=[])
    if policy.is_gov_body(user):
        return Q(handling_organisation_id=org, record__isnull=False) | Q(verifier_id=org)
    if policy.is_department(user):
        return Q(verifier_id=org)
    return Q(pk__in=[])


def rectification_get_for_user(*, user, pk) -> RectificationCase:
    case = (
        RectificationCase.objects.filter(rectification_scope_q(user))
        .select_related("subject", "handling_organisation", "credit_office", "verifier", "record", "applicant")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def rectification_list_for_user(
    *, user, query: str = "", state: str = "", organisation: Organisation | None = None, overdue: bool = False
) -> QuerySet[RectificationCase]:
    """The case list, newest first, filtered by 办件编号/事项 text, state, body and an open overdue clock."""
    cases = RectificationCase.objects.filter(rectification_scope_q(user)).select_related("handling_organisation")
    query = (query or "").strip()
    if query:
        cases = cases.filter(Q(tracking_number__iexact=query) | Q(summary__icontains=query))
    if state:
        cases = cases.filter(state=state)
    if organisation is not None:
        cases = cases.filter(handling_organisation=organisation)
    if overdue:
        late = Clock.objects.filter(
            content_type__model=CASE_TYPE, stopped_at__isnull=True, due_at__lt=timezone.now()
        ).values("object_id")
        cases = cases.filter(pk__in=late)
    return cases.order_by("-received_at", "-pk")


def government_bodies() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT_BODY, is_active=True).order_by("name")


def verifier_choices(case: RectificationCase) -> QuerySet[Organisation]:
    """Who may verify a lead: any active department or government body but the one complained about."""
    return (
        Organisation.objects.filter(
            is_active=True, kind__in=[Organisation.Kind.DEPARTMENT, Organisation.Kind.GOVERNMENT_BODY]
        )
        .exclude(pk=case.handling_organisation_id)
        .order_by("name")
    )


def complainant_subjects(user) -> QuerySet[Subject]:
    """The subjects an applicant may complain for (its active authorisations); staff enter a name instead."""
    if not policy.is_applicant(user):
        return Subject.objects.none()
    return Subject.objects.filter(pk__in=policy.active_authorisations(user).values("subject_id")).order_by("name")


def intake_sources(user) -> list[tuple[str, str]]:
    """Applicants complain (拖欠账款, 违约, 承诺不兑现); platform staff also enter court records and inspections."""
    if policy.is_platform(user):
        return list(LeadSource.choices)
    return [(code, label) for code, label in LeadSource.choices if code in COMPLAINT_SOURCES]


def credit_office_for_intake(user) -> Organisation | None:
    """The credit office that receives a lead: the officer's own, or the city's credit centre online."""
    if policy.is_platform(user):
        return Organisation.objects.filter(pk=policy.acting_organisation_id(user)).first()
    return Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).order_by("pk").first()


def clocks_of(case: RectificationCase) -> list[Clock]:
    return list(Clock.objects.filter(content_type__model=CASE_TYPE, object_id=case.pk).order_by("started_at"))


def reports_of(case: RectificationCase) -> QuerySet[RectificationReport]:
    return case.reports.select_related("submitted_by").prefetch_related("attachments")


def report_attachments_of(case: RectificationCase) -> QuerySet[Attachment]:
    """The evidence filed with the case's reports (plan, progress, completion)."""
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(RectificationReport),
        object_id__in=case.reports.values("pk"),
    )


def timeline_of(case: RectificationCase) -> QuerySet[CaseActivity]:
    return CaseActivity.objects.filter(content_type__model=CASE_TYPE, object_id=case.pk).select_related("actor")
