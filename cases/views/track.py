"""办件查询 without login (issue 12, item 4). Rate limited per address on the shared cache; the same answer
for a wrong number and a wrong code."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.selectors.track import track_lookup
from config.ratelimit import over_limit


class TrackForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("办件编号"), max_length=32)
    code = forms.CharField(
        label=gettext_lazy("查询码"),
        max_length=16,
        help_text=gettext_lazy("印在受理通知书上，也显示在申请人的办件页面。"),
    )


def track(request):
    form = TrackForm(request.GET or None)
    result = None
    status = 200
    if form.is_bound and form.is_valid():
        if over_limit(
            scope="track",
            request=request,
            limit=settings.TRACK_RATE_LIMIT,
            window_seconds=settings.TRACK_RATE_WINDOW_SECONDS,
        ):
            form.add_error(None, _("查询过于频繁，请稍后再试。"))
            status = 429
        else:
            result = track_lookup(number=form.cleaned_data["number"], code=form.cleaned_data["code"])
            if result is None:
                form.add_error(None, _("未查询到与该办件编号和查询码相符的办件，请核对后重试。"))
                status = 404
    elif form.is_bound:
        status = 400
    response = render(request, "track/track.html", {"form": form, "result": result}, status=status)
    response["Cache-Control"] = "no-store"
    return response
