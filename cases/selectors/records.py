"""Every read of subjects and records, scoped by cases.policy (DESIGN.md, "Permissions").

A selector that takes a ``user`` returns only what that user may see; a ``*_get_for_user`` raises Http404
for anything else, so a guessed id looks exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from cases import policy
from cases.identifiers import normalize_id_number, normalize_uscc
from cases.models import CreditRecord, RecordChange, Subject, SubjectAuthorisation, SubjectKind
from cases.models.records import PUBLIC_STATES, DisplayState

# Public name search needs this many characters, so the public site cannot be used to list every subject.
PUBLIC_QUERY_MIN_LENGTH = 2
PUBLIC_RESULTS_LIMIT = 50


def _record_count(records: QuerySet) -> Subquery:
    counted = records.filter(subject=OuterRef("pk")).order_by().values("subject").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), Value(0))


def _subject_search_q(query: str) -> Q:
    """Name (contains), or an exact 统一社会信用代码 / 身份证号 (matching is what the full number is kept for)."""
    query = (query or "").strip()
    if not query:
        return Q()
    return Q(name__icontains=query) | Q(uscc=normalize_uscc(query)) | Q(id_number=normalize_id_number(query))


# --- subjects -------------------------------------------------------------------------------------------


def subject_list_for_user(*, user, query: str = "") -> QuerySet[Subject]:
    """Subjects in the user's scope, each with ``record_count`` (records the user may see) and
    ``public_count`` (of those, the ones displayed publicly)."""
    visible_records = CreditRecord.objects.filter(policy.record_scope_q(user))
    return (
        Subject.objects.filter(policy.subject_scope_q(user))
        .filter(_subject_search_q(query))
        .select_related("organisation")
        .annotate(
            record_count=_record_count(visible_records),
            public_count=_record_count(visible_records.filter(display_state__in=PUBLIC_STATES)),
        )
        .order_by("name", "pk")
    )


def subject_get_for_user(*, user, pk: int) -> Subject:
    subject = Subject.objects.filter(policy.subject_scope_q(user), pk=pk).select_related("organisation").first()
    if subject is None:
        raise Http404
    return subject


def authorisations_for_subject(*, user, subject: Subject) -> QuerySet[SubjectAuthorisation]:
    """Who may act for ``subject``: shown to read-all staff; an applicant sees only its own authorisation."""
    qs = SubjectAuthorisation.objects.filter(subject=subject).select_related("user").order_by("valid_from", "pk")
    if policy.can_see_authorisations(user, subject):
        return qs
    if policy.is_applicant(user):
        return qs.filter(user=user)
    return qs.none()


# --- records --------------------------------------------------------------------------------------------


def record_list_for_user(
    *, user, subject: Subject | None = None, query: str = "", display_state: str = ""
) -> QuerySet[CreditRecord]:
    qs = CreditRecord.objects.filter(policy.record_scope_q(user)).select_related("subject", "provider")
    if subject is not None:
        qs = qs.filter(subject=subject)
    if display_state:
        qs = qs.filter(display_state=display_state)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(title__icontains=query)
            | Q(decision_number__icontains=query)
            | Q(subject__name__icontains=query)
            | Q(subject__uscc=normalize_uscc(query))
        )
    return qs.order_by("-decision_date", "-pk")


def record_get_for_user(*, user, pk: int) -> CreditRecord:
    record = (
        CreditRecord.objects.filter(policy.record_scope_q(user), pk=pk)
        .select_related("subject", "provider")
        .prefetch_related(Prefetch("changes", queryset=RecordChange.objects.select_related("actor")))
        .first()
    )
    if record is None:
        raise Http404
    return record


def record_state_counts_for_user(*, user) -> dict[str, int]:
    """How many records in the user's scope are in each display state (the desk summary)."""
    rows = (
        CreditRecord.objects.filter(policy.record_scope_q(user))
        .order_by()
        .values("display_state")
        .annotate(n=Count("pk"))
    )
    return {row["display_state"]: row["n"] for row in rows}


# --- the public credit website --------------------------------------------------------------------------


def _public_subjects() -> QuerySet[Subject]:
    """Subjects the public site may name.

    Organisations are public by their 统一社会信用代码 whether or not anything is displayed about them. A
    person is named only while a record about them is on display (河南省社会信用条例 Art 46: no personal
    information beyond what the public interest requires).
    """
    has_public_record = CreditRecord.objects.filter(subject=OuterRef("pk"), display_state__in=PUBLIC_STATES)
    return Subject.objects.filter(~Q(kind=SubjectKind.INDIVIDUAL) | Q(Exists(has_public_record)))


def public_person_match_q(query: str, *, prefix: str = "") -> Q:
    """Natural persons on the public site: found only by their full 18-digit 身份证号, never by name — the
    person who knows the whole number is the person or someone it gave the number to, while a name search
    would list strangers who share a name (个人信息保护法 Art 6: no more personal data than the purpose
    needs). The public search and the public commitment register both use this rule."""
    number = normalize_id_number(query)
    if len(number) != 18:
        return Q(pk__in=[])
    return Q(**{f"{prefix}kind": SubjectKind.INDIVIDUAL, f"{prefix}id_number": number})


def public_subject_search(*, query: str) -> QuerySet[Subject]:
    """Organisations by name or full 统一社会信用代码; natural persons only by full 身份证号
    (public_person_match_q)."""
    query = (query or "").strip()
    if not query:
        return Subject.objects.none()
    code = normalize_uscc(query)
    match = Q(uscc=code) | public_person_match_q(query)
    if len(query) >= PUBLIC_QUERY_MIN_LENGTH:
        match |= Q(name__icontains=query) & ~Q(kind=SubjectKind.INDIVIDUAL)
    public_records = CreditRecord.objects.filter(display_state__in=PUBLIC_STATES)
    return (
        _public_subjects()
        .filter(match)
        .annotate(public_count=_record_count(public_records))
        .order_by("name", "pk")[:PUBLIC_RESULTS_LIMIT]
    )


def public_subject_get(*, pk: int) -> Subject:
    subject = _public_subjects().filter(pk=pk).first()
    if subject is None:
        raise Http404
    return subject


def public_record_totals(*, subject: Subject) -> dict:
    """How many records the public page has in all, and how many of them are under objection."""
    return CreditRecord.objects.filter(subject=subject, display_state__in=PUBLIC_STATES).aggregate(
        total=Count("pk"),
        under_objection=Count("pk", filter=Q(display_state=DisplayState.UNDER_OBJECTION)),
    )


def public_records_for_subject(*, subject: Subject) -> QuerySet[CreditRecord]:
    """What the credit website shows: records on display or under objection (marked as such). Repaired,
    revoked and expired records are never shown (36号令 Art 3; Henan Arts 19, 42)."""
    return (
        CreditRecord.objects.filter(subject=subject, display_state__in=PUBLIC_STATES)
        .select_related("provider")
        .order_by("-decision_date", "-pk")
    )


# --- the subject's own 查询使用登记 ----------------------------------------------------------------------------
PERSONAL_DATA_VIEW = "personal_data.view"


def may_see_own_lookups(user, subject: Subject) -> bool:
    """The subject itself sees who used its personal data: whoever acts for it (个人信息保护法 Art 44, 45;
    河南省社会信用条例 Art 40), and the platform that keeps the register."""
    return policy.can_apply_for(user, subject) or policy.is_platform(user)


def personal_data_lookups_for_subject(*, user, subject: Subject) -> list[dict]:
    """The 查询使用登记 entries about ``subject``: when, which organisation in which role, what, why."""
    if not may_see_own_lookups(user, subject):
        raise Http404
    from cases.models import AuditEvent, Organisation, Role

    events = list(
        AuditEvent.objects.filter(
            action=PERSONAL_DATA_VIEW, object_type=Subject._meta.label_lower, object_id=str(subject.pk)
        ).order_by("-seq")[:500]
    )
    org_ids = {e.data.get("organisation") for e in events if e.data.get("organisation")}
    names = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    roles = dict(Role.choices)
    return [
        {
            "at": e.at,
            "organisation": names.get(e.data.get("organisation"), ""),
            "role": roles.get(e.data.get("role"), ""),
            "field": e.data.get("field", "id_number"),
            "reason": e.data.get("reason", ""),
        }
        for e in events
    ]
