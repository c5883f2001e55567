"""Unmasked personal data: shown only on request, to those entitled, and every look-up registered.

河南省社会信用条例 Art 39 (操作过程留痕可查) and Art 24(2) (查询权限和查询程序): each view of a full identity
number is a 个人信息查询使用登记 entry — an AuditEvent ``personal_data.view`` naming who looked, at what,
in which role and why. The number itself is never written to the log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cases import policy
from cases.models import Subject
from cases.services.audit import audit_log

PERSONAL_DATA_VIEW = "personal_data.view"


def subject_id_number_reveal(*, actor, subject: Subject, reason: str = "") -> str:
    """Return ``subject``'s full ID number to ``actor`` and register the look-up.

    Raises PermissionDenied when ``actor`` is not entitled (cases.policy.can_unmask); callers that must not
    reveal whether the subject exists check scope first and answer 404 themselves.
    """
    if not policy.can_unmask(actor, subject):
        raise PermissionDenied
    with transaction.atomic():
        audit_log(
            actor=actor,
            action=PERSONAL_DATA_VIEW,
            obj=subject,
            data={
                "field": "id_number",
                "role": actor.role,
                "organisation": actor.organisation_id,
                "reason": reason.strip()[:200],
            },
        )
    return subject.id_number
