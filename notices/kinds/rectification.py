"""Notices of 政务失信 rectification (PROCEDURES.md §4)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import NoticeKind, register

_RECTIFICATION_BASIS = _(
    "《优化营商环境条例》第三十一条、第三十二条；《保障中小企业款项支付条例》（国务院令第802号）；"
    "《国务院关于加强政务诚信建设的指导意见》（国发〔2016〕76号）"
)

RECTIFICATION_NOTICE = register(
    NoticeKind(
        code="rectification_notice",
        title=_("政务失信限期整改通知书"),
        default_prefix="整改",
        required=("matter", "facts", "deadline", "plan_by"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
RECTIFICATION_REPLY = register(
    NoticeKind(
        code="rectification_reply",
        title=_("政务失信线索核实结果答复函"),
        default_prefix="失信复",
        required=("matter", "reasons"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
RECTIFICATION_SUPERVISION = register(
    NoticeKind(
        code="rectification_supervision",
        title=_("督办通知书"),
        default_prefix="督办",
        required=("matter", "limit_label", "due_date", "overdue_days"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
RECTIFICATION_INTERVIEW = register(
    NoticeKind(
        code="rectification_interview",
        title=_("约谈通知书"),
        default_prefix="约谈",
        required=("matter", "limit_label", "due_date", "overdue_days"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
RECTIFICATION_PUBLIC_NOTICE = register(
    NoticeKind(
        code="rectification_public_notice",
        title=_("逾期未整改情况通报"),
        default_prefix="通报",
        required=("matter", "limit_label", "due_date", "overdue_days"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
RECTIFICATION_ACCOUNTABILITY = register(
    NoticeKind(
        code="rectification_accountability",
        title=_("问题线索移送追责函"),
        default_prefix="追责",
        required=("matter", "limit_label", "due_date", "overdue_days"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
# 拒不整改 confirmed (发改财金〔2023〕1103号): the body is told the finding and the measures with their sources.
RECTIFICATION_REFUSAL = register(
    NoticeKind(
        code="rectification_refusal",
        title=_("拒不整改认定书"),
        default_prefix="拒改",
        adverse=True,
        required=("matter", "reasons", "consequences"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
# The complainant learns how its complaint ended (整改到位销号, or 拒不整改 confirmed).
RECTIFICATION_RESULT = register(
    NoticeKind(
        code="rectification_result",
        title=_("政务失信投诉办理结果告知书"),
        default_prefix="失信结",
        required=("matter", "outcome", "body_name"),
        legal_basis=_RECTIFICATION_BASIS,
    )
)
