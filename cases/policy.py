"""Who may see what: the one place that answers it (DESIGN.md, "Permissions").

Each rule exists twice, in the same words: as a ``Q`` that selectors apply to a queryset (``*_scope_q``)
and as a predicate on one object (``can_*``). tests/test_permissions.py walks the role × object matrix
through both and over HTTP, so the two cannot drift apart.

Scoping, by role:

- applicant: the subjects it holds an active SubjectAuthorisation for (valid today, not revoked), and all of
  their records (河南省社会信用条例 Art 40: a subject may look up its own credit information);
- platform staff (信用中心) and the administrator: everything;
- supervisor (督办): read-all, like the platform;
- department handler/leader: the records its organisation provided, and the subjects of those records
  ("谁认定、谁修复": a department works on its own information, not on other departments');
- government body: the subject that *is* its organisation (政务失信), and that subject's records.

Anything outside a user's scope is answered with 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.models import CreditRecord, Organisation, Role, Subject, SubjectAuthorisation
from cases.models.organisations import DEPARTMENT_ROLES, PLATFORM_ROLES, ROLE_ORGANISATION_KIND, STAFF_ROLES

# Roles that see every subject and record.
READ_ALL_ROLES = PLATFORM_ROLES | {Role.SUPERVISOR, Role.ADMINISTRATOR}

NOTHING = Q(pk__in=[])


# --- role helpers ---------------------------------------------------------------------------------------


def _role(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.role


def is_applicant(user) -> bool:
    return _role(user) == Role.APPLICANT


def is_platform(user) -> bool:
    return _role(user) in PLATFORM_ROLES


def is_department(user) -> bool:
    return _role(user) in DEPARTMENT_ROLES


def is_gov_body(user) -> bool:
    return _role(user) == Role.GOV_BODY


def is_supervisor(user) -> bool:
    return _role(user) == Role.SUPERVISOR


def is_administrator(user) -> bool:
    return _role(user) == Role.ADMINISTRATOR


def is_staff_member(user) -> bool:
    """Works for an organisation (the desk), as opposed to applying for a subject (the portal)."""
    return _role(user) in STAFF_ROLES


def reads_everything(user) -> bool:
    return _role(user) in READ_ALL_ROLES


def acting_organisation_id(user) -> int | None:
    """The organisation a staff user acts for, if it is active and of the kind the role requires.

    User.clean enforces role ↔ organisation kind on every form; this repeats the check so that a row
    written around the forms (a shell, a bad import) or a deactivated organisation grants nothing.
    """
    role = _role(user)
    org: Organisation | None = getattr(user, "organisation", None) if role else None
    if org is None or not org.is_active:
        return None
    expected = ROLE_ORGANISATION_KIND.get(role)
    if expected and org.kind != expected:
        return None
    return org.pk


def _today() -> dt.date:
    return timezone.localdate()


# The procedure a case model belongs to, for an authorisation's scope (issue 12: a 经办人 may be authorised
# for one procedure only). A model not listed needs an authorisation for all matters.
CASE_PROCEDURE = {
    "cases.repairapplication": "repair",
    "cases.objectioncase": "objection",
    "cases.commitment": "commitment",
    "cases.commitmentverification": "commitment",
}


def case_procedure(case) -> str | None:
    return CASE_PROCEDURE.get(case._meta.label_lower)


def active_authorisations(user, today: dt.date | None = None, procedure: str | None = None):
    """SubjectAuthorisations of ``user`` in force today: approved, started, not ended, not revoked.

    With ``procedure``, only those whose scope covers it (its own procedure, or all matters).
    """
    today = today or _today()
    qs = SubjectAuthorisation.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        user=user,
        status=SubjectAuthorisation.Status.ACTIVE,
        revoked_at__isnull=True,
        valid_from__lte=today,
    )
    if procedure is not None:
        qs = qs.filter(scope__in=[SubjectAuthorisation.Scope.ALL, procedure])
    return qs


def is_legal_representative(user, subject) -> bool:
    """The subject's legal representative (or a citizen for himself) may grant and revoke 经办人."""
    if _role(user) != Role.APPLICANT:
        return False
    return (
        active_authorisations(user)
        .filter(
            subject_id=subject.pk,
            scope=SubjectAuthorisation.Scope.ALL,
            basis__in=[SubjectAuthorisation.Basis.LEGAL_REPRESENTATIVE, SubjectAuthorisation.Basis.SELF],
        )
        .exists()
    )


def can_review_authorisations(user) -> bool:
    """授权委托书 not signed by the legal representative are checked by the credit centre."""
    return is_platform(user)


# --- querysets ------------------------------------------------------------------------------------------


def _scope(user) -> tuple[str, int | None]:
    """Which of the scoping rules applies to ``user``: ("none" | "all" | "applicant" | "department" |
    "gov_body", organisation id)."""
    role = _role(user)
    if role is None:
        return "none", None
    if role == Role.APPLICANT:
        return "applicant", None
    org_id = acting_organisation_id(user)
    if role == Role.ADMINISTRATOR:
        return "all", org_id
    if org_id is None:
        return "none", None
    if role in READ_ALL_ROLES:
        return "all", org_id
    if role in DEPARTMENT_ROLES:
        return "department", org_id
    if role == Role.GOV_BODY:
        return "gov_body", org_id
    return "none", None


def subject_scope_q(user) -> Q:
    """Filter for Subject querysets: the subjects ``user`` may see."""
    scope, org_id = _scope(user)
    if scope == "all":
        return Q()
    if scope == "applicant":
        return Q(Exists(active_authorisations(user).filter(subject=OuterRef("pk"))))
    if scope == "department":
        return Q(Exists(CreditRecord.objects.filter(subject=OuterRef("pk"), provider_id=org_id)))
    if scope == "gov_body":
        return Q(organisation_id=org_id)
    return NOTHING


def record_scope_q(user) -> Q:
    """Filter for CreditRecord querysets: the records ``user`` may see (whatever their display state)."""
    scope, org_id = _scope(user)
    if scope == "all":
        return Q()
    if scope == "applicant":
        return Q(Exists(active_authorisations(user).filter(subject=OuterRef("subject_id"))))
    if scope == "department":
        return Q(provider_id=org_id)
    if scope == "gov_body":
        return Q(subject__organisation_id=org_id)
    return NOTHING


# --- single objects -------------------------------------------------------------------------------------


def _is_authorised_for(user, subject_id: int, procedure: str | None = None) -> bool:
    return active_authorisations(user, procedure=procedure).filter(subject_id=subject_id).exists()


def _department_provided_for(org_id: int, subject_id: int) -> bool:
    return CreditRecord.objects.filter(subject_id=subject_id, provider_id=org_id).exists()


def can_view_subject(user, subject: Subject) -> bool:
    scope, org_id = _scope(user)
    if scope == "all":
        return True
    if scope == "applicant":
        return _is_authorised_for(user, subject.pk)
    if scope == "department":
        return _department_provided_for(org_id, subject.pk)
    if scope == "gov_body":
        return subject.organisation_id == org_id
    return False


def can_view_record(user, record: CreditRecord) -> bool:
    scope, org_id = _scope(user)
    if scope == "all":
        return True
    if scope == "applicant":
        return _is_authorised_for(user, record.subject_id)
    if scope == "department":
        return record.provider_id == org_id
    if scope == "gov_body":
        return record.subject.organisation_id == org_id
    return False


def can_unmask(user, subject: Subject) -> bool:
    """May ``user`` see ``subject``'s full ID number (after asking, and with the look-up logged)?

    河南省社会信用条例 Arts 24(2), 25(1) and 46: personal information is looked up only within a defined
    authority and for a duty. Entitled: the subject itself (its authorised applicant, Art 40), the credit
    centre that holds the record, and a department for subjects it provided records about (it needs the
    number to check its own decision). Supervisors, administrators and government bodies see records,
    not identity numbers: nothing in their work needs them.
    """
    if not subject.id_number:
        return False
    scope, org_id = _scope(user)
    if scope == "applicant":
        return _is_authorised_for(user, subject.pk)
    if scope == "department":
        return _department_provided_for(org_id, subject.pk)
    return scope == "all" and is_platform(user)


def can_see_authorisations(user, subject: Subject) -> bool:
    """Who acts for a subject is the credit centre's and the supervisors' business, not the departments'."""
    return reads_everything(user)


# --- cases (every procedure) ------------------------------------------------------------------------------


def can_apply_for(user, subject: Subject, procedure: str | None = None) -> bool:
    """Applying, supplementing, withdrawing, chasing up: the subject itself, through a user it authorised
    for ``procedure`` (an authorisation's scope, issue 12). A caller that names no procedure needs an
    authorisation for all matters."""
    if _scope(user)[0] != "applicant":
        return False
    return _is_authorised_for(user, subject.pk, procedure or SubjectAuthorisation.Scope.ALL)


def case_scope_q(user, procedure: str | None = None) -> Q:
    """Cases (any procedure, sharing CaseBase) visible to ``user``: the applicant's subjects' cases (within
    the authorisation's scope when ``procedure`` is named), the handling organisation's cases, everything for
    read-all roles."""
    scope, org_id = _scope(user)
    if scope == "all":
        return Q()
    if scope == "applicant":
        return Q(subject_id__in=active_authorisations(user, procedure=procedure).values("subject_id"))
    if scope in ("department", "gov_body"):
        return Q(handling_organisation_id=org_id)
    return NOTHING


def can_view_case(user, case) -> bool:
    scope, org_id = _scope(user)
    if scope == "all":
        return True
    if scope == "applicant":
        return _is_authorised_for(user, case.subject_id, case_procedure(case))
    if scope in ("department", "gov_body"):
        return case.handling_organisation_id == org_id
    return False


def can_handle_case(user, case) -> bool:
    """Acting on a case: staff of the organisation it was routed to ("谁认定、谁修复")."""
    scope, org_id = _scope(user)
    return scope == "department" and case.handling_organisation_id == org_id


# --- the officers' inbox ------------------------------------------------------------------------------------

# Roles whose members take viewflow tasks (cases.task_permissions): they start the day at the inbox.
TASK_ROLES = PLATFORM_ROLES | DEPARTMENT_ROLES | {Role.GOV_BODY}


def takes_tasks(user) -> bool:
    return _role(user) in TASK_ROLES and acting_organisation_id(user) is not None


def can_assign_tasks(user) -> bool:
    """分派 / 改派 / 批量分派: a department's leader, for the tasks of its own department."""
    return _role(user) == Role.DEPT_LEADER and acting_organisation_id(user) is not None
