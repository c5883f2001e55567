"""Reads of notices, scoped by who may see them.

A notice is seen by:
- its addressee user;
- members (staff) of its addressee organisation: a department, the credit centre, a government body;
- users holding an active authorisation (valid today, not revoked) for its addressee subject — the
  enterprise's legal representative, staff or agent (河南省社会信用条例 Art 40: a subject may know what is
  recorded and decided about it); for a government body as subject, that body's own staff;
- staff of the issuing organisation;
- for an objection, staff of the department that provided the disputed information (the 核查通知 and the
  督办通知书 concern it);
- platform staff (信用中心) and supervisors (督办), who read everything.

Applicants see a notice only once it is issued; staff also see the pending and failed ones (to chase them).
Anything else answers 404 in the views, so notice ids cannot be probed. This is the one policy: every route
that serves a notice (its page, its PDF, a case page's notice list and link) reads through it.
"""

from __future__ import annotations

import unicodedata

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.models import ObjectionCase, Role
from cases.models.organisations import PLATFORM_ROLES, STAFF_ROLES
from cases.policy import acting_organisation_id, active_authorisations
from notices.models import Notice

# Not the administrator: notices carry personal and business data, and configuring the system is not a
# reason to read them (河南省社会信用条例 Art 46: information is used only within a defined duty).
READ_ALL_ROLES = PLATFORM_ROLES | {Role.SUPERVISOR}
ISSUED = (Notice.Status.ISSUED, Notice.Status.SUPERSEDED)


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _addressee_q(user) -> Q:
    q = Q(addressee_user=user) | Q(Exists(active_authorisations(user).filter(subject=OuterRef("addressee_subject_id"))))
    if user.role in STAFF_ROLES:
        org_id = acting_organisation_id(user)
        if org_id is not None:
            q |= Q(addressee_organisation_id=org_id)
            if user.role == Role.GOV_BODY:
                q |= Q(addressee_subject__organisation_id=org_id)
    return q


def notice_scope_q(user) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    addressee = _addressee_q(user) & Q(status__in=ISSUED)
    if user.role in STAFF_ROLES:
        org_id = acting_organisation_id(user)
        if user.role in READ_ALL_ROLES and org_id is not None:
            return Q()
        if org_id is not None and user.role != Role.ADMINISTRATOR:
            provided = Q(
                content_type=ContentType.objects.get_for_model(ObjectionCase),
                object_id__in=ObjectionCase.objects.filter(provider_id=org_id).values("pk"),
            )
            return addressee | Q(issuer_id=org_id) | provided
    return addressee


# The boxes of the notice inbox: what was delivered to me or my organisation, what my organisation issued.
BOX_RECEIVED = "received"
BOX_ISSUED = "issued"
BOX_ALL = "all"


def notice_list_for_user(*, user, unread_only: bool = False, box: str = BOX_ALL) -> QuerySet[Notice]:
    qs = (
        Notice.objects.filter(notice_scope_q(user))
        .select_related(
            "issuer", "addressee_subject", "addressee_user", "addressee_organisation", "read_by", "superseded_by"
        )
        .order_by("-issued_at", "-requested_at", "-id")
    )
    if box == BOX_RECEIVED:
        qs = qs.filter(_addressee_q(user), status__in=ISSUED) if _active(user) else qs.none()
    elif box == BOX_ISSUED:
        org_id = acting_organisation_id(user) if _active(user) and user.role in STAFF_ROLES else None
        qs = qs.filter(issuer_id=org_id) if org_id is not None else qs.none()
    if unread_only:
        qs = qs.filter(read_at__isnull=True, status__in=ISSUED)
    return qs


def unread_count_for_organisation(*, user) -> int:
    """Notices delivered to the user's organisation that nobody there has signed for yet."""
    org_id = acting_organisation_id(user) if _active(user) and user.role in STAFF_ROLES else None
    if org_id is None:
        return 0
    return Notice.objects.filter(addressee_organisation_id=org_id, status__in=ISSUED, read_at__isnull=True).count()


def notice_get_for_user(*, user, notice_id: int) -> Notice | None:
    return notice_list_for_user(user=user).filter(pk=notice_id).first()


def is_addressee(*, notice: Notice, user) -> bool:
    """Is ``user`` the addressee or acting for the addressee subject? (Opening it then counts as 送达.)"""
    if not _active(user):
        return False
    return Notice.objects.filter(_addressee_q(user), pk=notice.pk).exists()


# Brackets people type for the year in 〔2026〕: half-width [], full-width ［］ (folded to [] by NFKC), 【】 and
# 〖〗; the issued number always uses 〔〕 (GB/T 9704 — 党政机关公文格式, 7.2.4: 年份用六角括号"〔〕"括入).
_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "〖": "〔", "〗": "〕"})


def normalise_number(number: str | None) -> str:
    """A notice number as issued, from what someone typed: any bracket form, full- or half-width digits,
    stray spaces."""
    text = unicodedata.normalize("NFKC", number or "")
    return "".join(text.split()).translate(_BRACKETS)


def notice_for_verification(*, number: str, code: str) -> Notice | None:
    """The public check: both the number and the code must match an issued notice. No login; whatever is
    wrong (unknown number, wrong code, not yet issued) the answer is the same None, so the page reveals
    nothing about which numbers exist."""
    number = normalise_number(number)
    code = unicodedata.normalize("NFKC", code or "").strip().upper().replace(" ", "").replace("-", "")
    if not number or not code:
        return None
    return (
        Notice.objects.filter(number=number, verification_code=code, status__in=ISSUED)
        .select_related("issuer", "superseded_by")
        .first()
    )
