"""Text kept in the database is the Chinese original, whoever acted and in whatever language (issue 10 item 19).

Simplified Chinese is the source language: every msgid is the Chinese text, so ``gettext_noop("…")`` at a
storage site keeps the original, and the pages translate it when they show it (``{% translate value %}``).
Labels of choices are lazy: ``source_text`` evaluates one in Chinese for storage.
"""

from __future__ import annotations

from django.utils import translation

SOURCE_LANGUAGE = "zh-hans"


def source_text(value) -> str:
    """``value`` (a lazy translation, or a callable returning one, e.g. ``get_state_display``) in Chinese."""
    with translation.override(SOURCE_LANGUAGE):
        return str(value() if callable(value) else value)
