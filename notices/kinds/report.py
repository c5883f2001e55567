"""The credit report (信用报告), a numbered notice the credit centre issues to a subject (issue 12 item 7)."""

from django.utils.translation import gettext_lazy as _

from notices.kinds import kind, register_table

KINDS = register_table(
    _("《河南省社会信用条例》第四十条"),
    kind("credit_report", _("信用报告"), "信报", "subject_name as_of"),
)
