"""{% rating_prompt "repair" application %}: the 好差评 box on an applicant's case page (issue 12 item 6)."""

from django import template

from cases import policy
from cases.selectors.ratings import rating_for_case
from cases.services.ratings import case_is_closed

register = template.Library()


@register.inclusion_tag("ratings/_prompt.html", takes_context=True)
def rating_prompt(context, procedure: str, case):
    user = context["request"].user
    closed = case_is_closed(procedure, case)
    return {
        "procedure": procedure,
        "case": case,
        "closed": closed,
        "rating": rating_for_case(case) if closed else None,
        "may_rate": closed and policy.can_apply_for(user, case.subject, procedure),
    }
