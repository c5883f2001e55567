"""Unmasked personal data: shown only on request, to those entitled, and every look-up registered.

河南省社会信用条例 Art 39 (操作过程留痕可查) and Art 24(2) (查询权限和查询程序): each view of a full identity
number is a 个人信息查询使用登记 entry — an AuditEvent ``personal_data.view`` naming who looked, at what,
in which role and why. The number itself is never written to the log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cases import policy
from cases.models import Subject
from cases.services.audit import audit_log

PERSONAL_DATA_VIEW = "personal_data.view"


def personal_data_lookup_log(*, actor, subject: Subject, reason, field: str = "id_number", **params) -> None:
    """Register a use of ``subject``'s personal data that is not a reveal on its page (a full ID number typed
    on a desk form and matched, a staff download of its materials): the same 查询使用登记 entry. The reason is
    stored in Chinese, the legal original, whatever language the officer uses."""
    with translation.override("zh-hans"):
        reason = str(reason) % params if params else str(reason)
    audit_log(
        actor=actor,
        action=PERSONAL_DATA_VIEW,
        obj=subject,
        data={
            "field": field,
            "role": getattr(actor, "role", ""),
            "organisation": getattr(actor, "organisation_id", None),
            "reason": str(reason).strip()[:200],
        },
    )


def attachment_download_register(*, actor, case, attachment) -> None:
    """A staff member downloading a case's materials (IDs, licences, proofs: personal data) is a 查询使用登记
    entry about the case's subject; the applicant downloading its own materials is not."""
    if not policy.is_staff_member(actor):
        return
    personal_data_lookup_log(
        actor=actor,
        subject=case.subject,
        field="attachment",
        reason=_("下载办件材料：%(name)s（%(number)s）"),
        name=attachment.original_name,
        number=case.tracking_number or "-",
    )


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
