"""Notices of objections (PROCEDURES.md §2; 河南省社会信用条例 Art 41, 42, 65)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import NoticeKind, register

_OBJECTION_BASIS = _("《河南省社会信用条例》第四十一条、第四十二条")

OBJECTION_CHECK = register(
    NoticeKind(
        code="objection_check",
        title=_("异议信息核查通知"),
        default_prefix="异核",
        required=("tracking_number", "received_on", "record_title", "provider_name", "check_by", "disputed_text"),
        legal_basis=_OBJECTION_BASIS,
    )
)
# Remedies are printed whatever the outcome: the applicant may still disagree with a correction too
# (复核, Art 28; 复议/诉讼).
OBJECTION_RESULT = register(
    NoticeKind(
        code="objection_result",
        title=_("异议处理结果告知书"),
        default_prefix="异结",
        adverse=True,
        required=("tracking_number", "received_on", "record_title", "outcome", "reasons"),
        legal_basis=_OBJECTION_BASIS,
    )
)
OBJECTION_SUPERVISION = register(
    NoticeKind(
        code="objection_supervision",
        title=_("异议核查督办通知书"),
        default_prefix="异督",
        required=("tracking_number", "record_title", "provider_name", "due_date", "overdue_days"),
        legal_basis=_("《河南省社会信用条例》第四十一条、第六十五条"),
    )
)
