"""Notices of credit repair (PROCEDURES.md §1, "Notices")."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import kind, register_table

KINDS = register_table(
    _("《信用修复管理办法》及《河南省社会信用条例》"),
    kind("repair_accepted", _("信用修复申请受理通知书"), "修受", "matter received_on decide_by"),
    kind("repair_not_accepted", _("信用修复申请不予受理通知书"), "修不受", "matter received_on reasons", adverse=True),
    kind("repair_supplement", _("信用修复申请补正材料通知书"), "修补", "matter received_on missing supplement_by"),
    kind("repair_extension", _("信用修复办理期限延期告知书"), "修延", "matter received_on reasons extended_until"),
    kind("repair_granted", _("信用修复决定书"), "修决", "matter received_on record_title"),
    kind("repair_refused", _("不予信用修复决定书"), "修不决", "matter received_on reasons", adverse=True),
    kind("repair_revoked", _("撤销信用修复决定书"), "修撤", "matter original_number reasons", adverse=True),
    basis_from_rule_set=True,
)
