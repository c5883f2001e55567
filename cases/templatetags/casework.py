from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html
from django.utils.translation import gettext as _

from cases.identifiers import mask_phone
from cases.models import CreditRecord, DisplayState
from workflows.rules import public_citation as _public_citation

register = template.Library()


@register.filter
def stored(value) -> str:
    """Text stored in its Chinese original (clock labels, timeline notes), in the reader's language when the
    catalog has it; free text typed by a person is shown as typed."""
    return _(value) if value else ""


@register.filter
def public_citation(value: str) -> str:
    """A rule's citation without the maintainers' [law]/[sec]/[cfg] tags and PROCEDURES.md references."""
    return _public_citation(value or "")


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value or "")


@register.simple_tag
def state_badge(record):
    """The record's display state as a badge; a record under objection says so wherever it is shown
    (河南省社会信用条例 Art 41: 异议标注)."""
    state = record.display_state
    if state == DisplayState.UNDER_OBJECTION:
        return format_html(
            '<span class="badge badge-{}" title="{}">{}</span>',
            state,
            _("异议处理中"),
            record.get_display_state_display(),
        )
    return format_html('<span class="badge badge-{}">{}</span>', state, record.get_display_state_display())


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """The current list's query string with another page number (keeps the search and filters)."""
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def record_field_label(name: str) -> str:
    """A RecordChange's field name as the record's Chinese field label."""
    try:
        return str(CreditRecord._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed: show the stored name
        return name


@register.simple_tag
def record_field_value(name: str, value: str) -> str:
    """A stored old/new value, with choice codes (e.g. a display state) shown by their label."""
    try:
        field = CreditRecord._meta.get_field(name)
    except FieldDoesNotExist:
        return value
    return str(dict(field.flatchoices).get(value, value)) if field.choices else value


def _in_english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


@register.simple_tag
def message_title(message) -> str:
    """A message is stored in both languages; show the reader's."""
    return message.title_en if _in_english() and message.title_en else message.title


@register.simple_tag
def message_body(message) -> str:
    return message.body_en if _in_english() and message.body_en else message.body


@register.filter
def query_code(tracking_number: str) -> str:
    """The 查询码 for 办件查询, shown to the applicant next to the 办件编号."""
    from cases.identifiers import tracking_query_code

    return tracking_query_code(tracking_number) if tracking_number else ""
