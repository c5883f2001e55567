"""Notices of credit commitments (PROCEDURES.md §3)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import kind, register_table

KINDS = register_table(
    _("《河南省社会信用条例》第三十二条、第三十三条、第五十八条"),
    kind(
        "commitment_letter",
        _("信用承诺书"),
        "诺",
        "matter text signer signed_on",
        basis=_("《河南省社会信用条例》第五十八条"),
    ),
    kind("commitment_breach", _("违背信用承诺认定告知书"), "诺违", "matter outcome reasons severity", adverse=True),
    # Before a breach is decided the subject is told the facts and its right to state its case (行政处罚法 Art 44).
    kind(
        "commitment_breach_notice",
        _("违背信用承诺事先告知书"),
        "诺告",
        "matter outcome reasons severity hearing_until",
        basis=_("《河南省社会信用条例》第三十三条、第五十八条；《中华人民共和国行政处罚法》第四十四条、第四十五条"),
    ),
    kind(
        "commitment_revocation",
        _("撤销行政决定决定书"),
        "诺撤",
        "matter reasons",
        adverse=True,
        basis=_("《中华人民共和国行政许可法》第六十九条；《河南省社会信用条例》第六十八条"),
    ),
)
