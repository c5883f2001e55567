"""Notices of credit commitments (PROCEDURES.md §3)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import NoticeKind, register

_COMMITMENT_BASIS = _("《河南省社会信用条例》第三十二条、第三十三条、第五十八条")

COMMITMENT_LETTER = register(
    NoticeKind(
        code="commitment_letter",
        title=_("信用承诺书"),
        default_prefix="诺",
        required=("matter", "text", "signer", "signed_on"),
        legal_basis=_("《河南省社会信用条例》第五十八条"),
    )
)
COMMITMENT_BREACH = register(
    NoticeKind(
        code="commitment_breach",
        title=_("违背信用承诺认定告知书"),
        default_prefix="诺违",
        adverse=True,
        required=("matter", "outcome", "reasons", "severity"),
        legal_basis=_COMMITMENT_BASIS,
    )
)
# Before a breach is decided the subject is told the facts and its right to state its case (行政处罚法 Art 44).
COMMITMENT_BREACH_NOTICE = register(
    NoticeKind(
        code="commitment_breach_notice",
        title=_("违背信用承诺事先告知书"),
        default_prefix="诺告",
        required=("matter", "outcome", "reasons", "severity", "hearing_until"),
        legal_basis=_(
            "《河南省社会信用条例》第三十三条、第五十八条；《中华人民共和国行政处罚法》第四十四条、第四十五条"
        ),
    )
)
COMMITMENT_REVOCATION = register(
    NoticeKind(
        code="commitment_revocation",
        title=_("撤销行政决定决定书"),
        default_prefix="诺撤",
        adverse=True,
        required=("matter", "reasons"),
        legal_basis=_("《中华人民共和国行政许可法》第六十九条；《河南省社会信用条例》第六十八条"),
    )
)
