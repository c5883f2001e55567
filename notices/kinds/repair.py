"""Notices of credit repair (PROCEDURES.md §1, "Notices")."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import NoticeKind, register

_REPAIR_BASIS = _("《信用修复管理办法》及《河南省社会信用条例》")

REPAIR_ACCEPTED = register(
    NoticeKind(
        code="repair_accepted",
        title=_("信用修复申请受理通知书"),
        default_prefix="修受",
        required=("matter", "received_on", "decide_by"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_NOT_ACCEPTED = register(
    NoticeKind(
        code="repair_not_accepted",
        title=_("信用修复申请不予受理通知书"),
        default_prefix="修不受",
        adverse=True,
        required=("matter", "received_on", "reasons"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_SUPPLEMENT = register(
    NoticeKind(
        code="repair_supplement",
        title=_("信用修复申请补正材料通知书"),
        default_prefix="修补",
        required=("matter", "received_on", "missing", "supplement_by"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_EXTENSION = register(
    NoticeKind(
        code="repair_extension",
        title=_("信用修复办理期限延期告知书"),
        default_prefix="修延",
        required=("matter", "received_on", "reasons", "extended_until"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_GRANTED = register(
    NoticeKind(
        code="repair_granted",
        title=_("信用修复决定书"),
        default_prefix="修决",
        required=("matter", "received_on", "record_title"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_REFUSED = register(
    NoticeKind(
        code="repair_refused",
        title=_("不予信用修复决定书"),
        default_prefix="修不决",
        adverse=True,
        required=("matter", "received_on", "reasons"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
REPAIR_REVOKED = register(
    NoticeKind(
        code="repair_revoked",
        title=_("撤销信用修复决定书"),
        default_prefix="修撤",
        adverse=True,
        required=("matter", "original_number", "reasons"),
        legal_basis=_REPAIR_BASIS,
        basis_from_rule_set=True,
    )
)
