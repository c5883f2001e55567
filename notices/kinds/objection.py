"""Notices of objections (PROCEDURES.md §2; 河南省社会信用条例 Art 41, 42, 65)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import kind, register_table

KINDS = register_table(
    _("《河南省社会信用条例》第四十一条、第四十二条"),
    kind(
        "objection_check",
        _("异议信息核查通知"),
        "异核",
        "tracking_number received_on record_title provider_name check_by disputed_text",
    ),
    # Remedies are printed whatever the outcome: the applicant may still disagree with a correction too
    # (复核, Art 28; 复议/诉讼).
    kind(
        "objection_result",
        _("异议处理结果告知书"),
        "异结",
        "tracking_number received_on record_title outcome reasons",
        adverse=True,
    ),
    kind(
        "objection_supervision",
        _("异议核查督办通知书"),
        "异督",
        "tracking_number record_title provider_name due_date overdue_days",
        basis=_("《河南省社会信用条例》第四十一条、第六十五条"),
    ),
)
