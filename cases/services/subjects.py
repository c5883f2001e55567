"""Creating credit subjects, with their national identifiers validated (GB 32100-2015, GB 11643-1999)."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.identifiers import mask_id_number
from cases.models import Organisation, Subject, SubjectKind
from cases.services.audit import audited_create

_SEPARATORS = re.compile(r"[\s\-－—_]+")


def normalise_code(value: str | None) -> str:
    """What people type → what the standards define: full-width characters folded (NFKC: １２Ａ → 12A),
    spaces and dashes dropped, letters upper-cased (GB 32100 and GB 11643 use capitals only)."""
    if value and value.isascii() and value.isalnum():
        return value.upper()  # nothing to fold or drop: the common case, and the bulk import's hot path
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()


ORGANISATION_KINDS = (SubjectKind.ENTERPRISE, SubjectKind.GOVERNMENT_BODY, SubjectKind.OTHER_ORGANISATION)


def subject_create_enterprise(
    *,
    actor,
    name: str,
    uscc: str,
    kind: str = SubjectKind.ENTERPRISE,
    legal_representative: str = "",
    address: str = "",
    district: str = "",
    organisation: Organisation | None = None,
) -> Subject:
    """An organisation subject (enterprise, government body, other organisation), identified by its
    统一社会信用代码. A wrong code raises ValidationError on ``uscc`` naming the GB 32100-2015 rule."""
    if kind not in ORGANISATION_KINDS:
        raise ValidationError(
            {
                "kind": ValidationError(
                    _("主体类型“%(kind)s”不是组织类主体，自然人请按身份证号登记。"),
                    code="subject_kind",
                    params={"kind": kind},
                )
            }
        )
    subject = Subject(
        kind=kind,
        name=(name or "").strip(),
        uscc=normalise_code(uscc) or None,
        legal_representative=(legal_representative or "").strip(),
        address=(address or "").strip(),
        district=(district or "").strip(),
        organisation=organisation,
    )
    if subject.uscc is None:
        raise ValidationError(
            {"uscc": ValidationError(_("组织类主体必须填写统一社会信用代码。"), code="uscc_required")}
        )
    return audited_create(
        subject,
        actor=actor,
        action="subject.create",
        data={"kind": subject.kind, "name": subject.name, "uscc": subject.uscc},
    )


def subject_create_person(
    *,
    actor,
    name: str,
    id_number: str,
    address: str = "",
    district: str = "",
) -> Subject:
    """A natural person, identified by 居民身份证号. The number is stored in full for matching and never
    written to the audit trail (only its masked form); a wrong number raises ValidationError on
    ``id_number`` naming the GB 11643-1999 rule."""
    subject = Subject(
        kind=SubjectKind.INDIVIDUAL,
        name=(name or "").strip(),
        id_number=normalise_code(id_number) or None,
        address=(address or "").strip(),
        district=(district or "").strip(),
    )
    if subject.id_number is None:
        raise ValidationError(
            {"id_number": ValidationError(_("自然人主体必须填写居民身份证号码。"), code="id_required")}
        )
    return audited_create(
        subject,
        actor=actor,
        action="subject.create",
        data={"kind": subject.kind, "name": subject.name, "id_number": mask_id_number(subject.id_number)},
    )
