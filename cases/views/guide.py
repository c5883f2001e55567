"""办事指南 pages: public, no login (issue 12 item 5). Thin: cases.selectors.guide reads the rule set in force."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils.translation import gettext as _

from cases.selectors import guide as sel
from workflows.rules import NoRuleSetInForce


def index(request):
    return render(request, "guide/index.html", {"matters": sel.matter_list()})


def matter(request, procedure: str, kind: str):
    """One matter; ``?on=YYYY-MM-DD`` shows the guide under the rule set in force that day (the law changes)."""
    item = sel.matter_get(procedure=procedure, kind=kind)
    on, error, status = None, "", 200
    raw = request.GET.get("on", "").strip()
    if raw:
        try:
            on = dt.date.fromisoformat(raw)
        except ValueError:
            error, status = _("日期“%(value)s”无效，请按“年-月-日”填写，例如2026-04-01。") % {"value": raw[:20]}, 400
    try:
        guide = sel.matter_guide(matter=item, on=on)
    except NoRuleSetInForce:
        error, status = _("%(date)s没有施行中的规则版本，以下为现行规定。") % {"date": on.isoformat()}, 400
        guide = sel.matter_guide(matter=item)
    return render(request, "guide/matter.html", {"guide": guide, "on_error": error, "on": raw}, status=status)
