"""好差评 pages: the applicant's rating form on a closed case, the department's 差评 follow-ups, and nothing
else (the supervisor's table is on the supervision dashboard). Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.ratings import FollowUpCloseForm, RatingForm
from cases.selectors import ratings as sel
from cases.services import ratings as svc
from workflows.procedures import PROCEDURES
from workflows.selectors import clock_status


def _case_url(procedure: str, case) -> str:
    return reverse(PROCEDURES[procedure].applicant_url_name, args=[case.pk])


@login_required
def rate(request, procedure: str, pk: int):
    case = sel.ratable_case_get(user=request.user, procedure=procedure, pk=pk)
    if not policy.can_apply_for(request.user, case.subject, procedure):
        raise PermissionDenied
    rating = sel.rating_for_case(case)
    form = RatingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                svc.case_rate(
                    actor=request.user,
                    procedure=procedure,
                    case=case,
                    grade=form.cleaned_data["grade"],
                    comment=form.cleaned_data["comment"],
                )
            except svc.RatingError as error:
                form.add_error(None, list(error.messages))
            else:
                messages.success(request, _("感谢您的评价。"))
                return redirect(_case_url(procedure, case))
        status = 400
    return render(
        request,
        "ratings/rate.html",
        {
            "case": case,
            "procedure": PROCEDURES[procedure],
            "case_url": _case_url(procedure, case),
            "rating": rating,
            "closed": svc.case_is_closed(procedure, case),
            "form": form,
        },
        status=status,
    )


@login_required
def follow_ups(request, form=None, form_for=None, status=200):
    if not policy.is_department(request.user):
        raise PermissionDenied
    items = list(sel.follow_ups_for_user(user=request.user))
    clocks = sel.follow_up_clocks(items)
    rows = []
    for item in items:
        clock = clocks.get(item.pk)
        rows.append(
            {
                "item": item,
                "clock": clock,
                "clock_status": clock_status(clock) if clock else None,
                "form": form if form_for == item.pk else FollowUpCloseForm(prefix=f"f{item.pk}"),
            }
        )
    return render(
        request,
        "ratings/follow_ups.html",
        {"rows": rows, "may_close": request.user.role == "dept_leader"},
        status=status,
    )


@login_required
@require_POST
def follow_up_close(request, pk: int):
    item = sel.follow_up_get_for_user(user=request.user, pk=pk)
    form = FollowUpCloseForm(request.POST, prefix=f"f{item.pk}")
    if form.is_valid():
        try:
            svc.rating_follow_up_close(actor=request.user, follow_up=item, response=form.cleaned_data["response"])
        except svc.RatingError as error:
            form.add_error(None, list(error.messages))
        else:
            messages.success(request, _("差评整改已办结。"))
            return redirect("rating_follow_ups")
    return follow_ups(request, form=form, form_for=item.pk, status=400)
