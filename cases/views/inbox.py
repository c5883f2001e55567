"""The officers' inbox (待办): one list of every open task across procedures, claim / release / assign, bulk
assignment and delegation while absent. Thin: cases.selectors.inbox reads, cases.services.inbox writes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.inbox import AssignForm, BulkAssignForm, DelegationForm, InboxFilterForm
from cases.selectors import inbox as sel
from cases.services import inbox as svc
from workflows import engine

PAGE_SIZE = 25


def _require_task_taker(user):
    if not policy.takes_tasks(user):
        raise PermissionDenied


def _filters(form: InboxFilterForm) -> sel.InboxFilters:
    if not form.is_valid():
        return sel.InboxFilters()
    d = form.cleaned_data
    return sel.InboxFilters(
        procedure=d["procedure"] or "",
        step=d["step"] or "",
        overdue=bool(d["overdue"]),
        who=d["who"] or sel.WHO_ALL,
        q=(d["q"] or "").strip(),
    )


def _inbox_page(request, *, status=200, error="", assign_form=None, bulk_form=None):
    user = request.user
    form = InboxFilterForm(request.GET or None)
    filters = _filters(form)
    delegators = sel.delegators_of(user)
    counts = sel.inbox_counts_for_user(user=user, delegators=delegators)
    items = sel.inbox_items_for_user(user=user, filters=filters, delegators=delegators)
    paginator = Paginator(items, PAGE_SIZE)
    known = sel.inbox_total_from_counts(counts, filters)
    if known is not None:
        paginator.count = known  # the grouped counts already hold it: no COUNT over the organisation's tasks
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = sel.with_countdown(page.object_list, user=user, delegators=delegators)
    colleagues = sel.assignable_colleagues(user=user)
    leader = policy.can_assign_tasks(user)
    context = {
        "form": form,
        "filters": filters,
        "counts": counts,
        "page": page,
        "error": error,
        "is_leader": leader,
        "colleagues": list(colleagues) if leader else [],
        "assign_form": assign_form,
        "bulk_form": bulk_form or (BulkAssignForm(colleagues=colleagues, prefix="bulk") if leader else None),
        "next": request.get_full_path(),
    }
    return render(request, "inbox/list.html", context, status=status)


@login_required
def inbox(request):
    """The staff landing page: the nearest legal deadline first, filters, search, the counts."""
    _require_task_taker(request.user)
    return _inbox_page(request)


def _back(request):
    target = request.POST.get("next", "")
    # Only a path on this site: anything else (a view name, another host) goes to the inbox, not to a 500.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("inbox")


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _act(request, action, **forms):
    """Run one assignment service (``action`` returns the message to show); a conflict (someone was faster)
    or a refused assignment re-renders the inbox with the reason, an action one may not take answers 403."""
    try:
        done = action()
    except engine.TaskConflict as conflict:
        return _inbox_page(request, status=409, error=str(conflict), **forms)
    except ValidationError as error:
        return _inbox_page(request, status=400, error=_errors(error), **forms)
    messages.success(request, done)
    return _back(request)


@login_required
@require_POST
def claim(request, task_id: int):
    _require_task_taker(request.user)

    def run():
        svc.task_claim(actor=request.user, task_id=task_id)
        return _("已认领，请在截止日前办理。")

    return _act(request, run)


@login_required
@require_POST
def release(request, task_id: int):
    _require_task_taker(request.user)

    def run():
        svc.task_release(actor=request.user, task_id=task_id)
        return _("已退回待认领。")

    return _act(request, run)


def _assigned_message(assignee, to) -> str:
    if to.pk == assignee.pk:
        return _("已分派给%(name)s。") % {"name": assignee}
    return _("%(name)s 离岗，已按其委托转由%(delegate)s办理。") % {"name": assignee, "delegate": to}


@login_required
@require_POST
def assign(request, task_id: int):
    if not policy.can_assign_tasks(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST, colleagues=sel.assignable_colleagues(user=request.user))
    if not form.is_valid():
        return _inbox_page(request, status=400, error=_errors(ValidationError(form.errors["assignee"])))
    assignee = form.cleaned_data["assignee"]

    def run():
        return _assigned_message(assignee, svc.task_assign(actor=request.user, task_id=task_id, assignee=assignee))

    return _act(request, run)


@login_required
@require_POST
def assign_bulk(request):
    if not policy.can_assign_tasks(request.user):
        raise PermissionDenied
    form = BulkAssignForm(
        request.POST,
        prefix="bulk",
        colleagues=sel.assignable_colleagues(user=request.user),
        task_ids=request.POST.getlist("bulk-tasks"),
    )
    if not form.is_valid():
        return _inbox_page(request, status=400, bulk_form=form)
    data = form.cleaned_data

    def run():
        n = svc.task_assign_bulk(actor=request.user, task_ids=data["tasks"], assignee=data["assignee"])
        return _("已将所选%(n)s项待办分派给%(name)s。") % {"n": n, "name": data["assignee"]}

    return _act(request, run, bulk_form=form)


# --- delegation ----------------------------------------------------------------------------------------------


def _delegation_page(request, form=None, status=200):
    user = request.user
    form = form or DelegationForm(colleagues=sel.delegation_colleagues(user=user))
    return render(
        request,
        "inbox/delegations.html",
        {"form": form, "delegations": sel.delegations_for_user(user=user)},
        status=status,
    )


@login_required
def delegations(request):
    """离岗委托: name a colleague for a date range; the list of delegations given and received."""
    _require_task_taker(request.user)
    if request.method != "POST":
        return _delegation_page(request)
    form = DelegationForm(request.POST, colleagues=sel.delegation_colleagues(user=request.user))
    if not form.is_valid():
        return _delegation_page(request, form, status=400)
    d = form.cleaned_data
    try:
        svc.delegation_create(
            actor=request.user,
            delegate=d["delegate"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            reason=d["reason"],
        )
    except ValidationError as error:
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return _delegation_page(request, form, status=400)
    messages.success(request, _("离岗委托已登记：期间内您的待办事项由受托人办理，您仍可查看。"))
    return redirect("inbox_delegations")


@login_required
@require_POST
def delegation_cancel(request, pk: int):
    _require_task_taker(request.user)
    delegation = sel.delegation_get_for_user(user=request.user, pk=pk)
    svc.delegation_cancel(actor=request.user, delegation=delegation)
    messages.success(request, _("离岗委托已撤销。"))
    return redirect("inbox_delegations")
