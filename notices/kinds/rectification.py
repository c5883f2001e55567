"""Notices of 政务失信 rectification (PROCEDURES.md §4)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import kind, register_table

# The escalation ladder's documents (督办 → 约谈 → 通报 → 追责) all name the late limit and by how much.
_LATE = "matter limit_label due_date overdue_days"

KINDS = register_table(
    _(
        "《优化营商环境条例》第三十一条、第三十二条；《保障中小企业款项支付条例》（国务院令第802号）；"
        "《国务院关于加强政务诚信建设的指导意见》（国发〔2016〕76号）"
    ),
    kind("rectification_notice", _("政务失信限期整改通知书"), "整改", "matter facts deadline plan_by"),
    kind("rectification_reply", _("政务失信线索核实结果答复函"), "失信复", "matter reasons"),
    kind("rectification_supervision", _("督办通知书"), "督办", _LATE),
    kind("rectification_interview", _("约谈通知书"), "约谈", _LATE),
    kind("rectification_public_notice", _("逾期未整改情况通报"), "通报", _LATE),
    kind("rectification_accountability", _("问题线索移送追责函"), "追责", _LATE),
    # 拒不整改 confirmed (发改财金〔2023〕1103号): the body is told the finding and the measures with their sources.
    kind("rectification_refusal", _("拒不整改认定书"), "拒改", "matter reasons consequences", adverse=True),
    # The complainant learns how its complaint ended (整改到位销号, or 拒不整改 confirmed).
    kind("rectification_result", _("政务失信投诉办理结果告知书"), "失信结", "matter outcome body_name"),
)
