"""Bounds on free text that reaches a notice (issue 10 item 3).

A notice prints what an officer or an applicant typed; a text of 100,000 characters made a 限期整改通知书 that
never finished rendering. The forms limit their fields; the services check again, because not every text
comes through a form (imports, the admin, other services), and refuse with the service's own error, which
the pages show on the form that sent it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The longest free text a notice prints (the forms' TEXT_MAX): two pages of a notice at most.
NOTICE_TEXT_MAX = 5000


def bounded(value, *, label, limit: int = NOTICE_TEXT_MAX, error: type[ValidationError] = ValidationError) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise error(
            _("“%(label)s”不得超过%(limit)d个字符（现为%(n)d个字符）。")
            % {"label": label, "limit": limit, "n": len(text)},
            code="too_long",
        )
    return text
