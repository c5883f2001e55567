"""Portal, desk and public pages for subjects and records. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.disclosure import RecordRevokeForm
from cases.forms.records import PublicSearchForm, RecordFilterForm, RevealIdForm, SubjectSearchForm
from cases.models import DisplayState
from cases.selectors import disclosure as disclosure_selectors
from cases.selectors import records as selectors
from cases.selectors.inbox import personal_numbers
from cases.services.privacy import subject_id_number_reveal

PAGE_SIZE = 25
PUBLIC_PAGE_SIZE = 20


def home(request):
    """Role-aware landing: the public search for visitors, the personal centre for applicants, the inbox for
    staff who take tasks, the desk for supervisors and administrators."""
    user = request.user
    if not user.is_authenticated:
        return redirect("public_search")
    if policy.takes_tasks(user):
        return redirect("inbox")
    if policy.is_staff_member(user):
        return redirect("desk")
    return redirect("me")


# --- the public credit website --------------------------------------------------------------------------


def public_search(request):
    form = PublicSearchForm(request.GET or None)
    results = None
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            results = list(selectors.public_subject_search(query=query))
    return render(request, "public/search.html", {"form": form, "results": results, "query": query})


def public_subject(request, pk: int):
    subject = selectors.public_subject_get(pk=pk)
    records = selectors.public_records_for_subject(subject=subject)
    # A subject may carry hundreds of records: the page shows PUBLIC_PAGE_SIZE at a time, with the totals
    # (and how many are under objection) from one aggregate so nobody misses what is on later pages.
    page = Paginator(records, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    totals = selectors.public_record_totals(subject=subject)
    return render(
        request,
        "public/subject.html",
        {"subject": subject, "page": page, "records": page.object_list, "totals": totals},
    )


# --- portal and desk ------------------------------------------------------------------------------------


@login_required
def desk(request):
    if not policy.is_staff_member(request.user):
        raise PermissionDenied
    counts = selectors.record_state_counts_for_user(user=request.user)
    states = [(value, label, counts.get(value, 0)) for value, label in DisplayState.choices]
    mine = personal_numbers(user=request.user)
    return render(request, "cases/desk.html", {"states": states, "total": sum(counts.values()), "mine": mine})


@login_required
def subject_list(request):
    form = SubjectSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    subjects = selectors.subject_list_for_user(user=request.user, query=query)
    page = Paginator(subjects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/subject_list.html", {"form": form, "page": page, "query": query})


def _subject_detail(request, subject, *, revealed_id: str = "", reveal_form=None, status: int = 200):
    user = request.user
    return render(
        request,
        "cases/subject_detail.html",
        {
            "subject": subject,
            "records": selectors.record_list_for_user(user=user, subject=subject),
            "authorisations": selectors.authorisations_for_subject(user=user, subject=subject),
            "can_unmask": policy.can_unmask(user, subject),
            "reveal_form": reveal_form or RevealIdForm(reason_required=not policy.is_applicant(user)),
            "revealed_id": revealed_id,
            "may_see_lookups": selectors.may_see_own_lookups(user, subject),
        },
        status=status,
    )


@login_required
def subject_detail(request, pk: int):
    subject = selectors.subject_get_for_user(user=request.user, pk=pk)
    return _subject_detail(request, subject)


@login_required
def subject_lookups(request, pk: int):
    """查询使用登记 about this subject: who looked up its full ID number or downloaded its materials."""
    subject = selectors.subject_get_for_user(user=request.user, pk=pk)
    lookups = selectors.personal_data_lookups_for_subject(user=request.user, subject=subject)
    return render(request, "cases/subject_lookups.html", {"subject": subject, "lookups": lookups})


@login_required
@require_POST
def subject_reveal_id(request, pk: int):
    """显示完整证件号: answer the full number in this one response (never stored in the session), once
    the look-up has been registered."""
    user = request.user
    subject = selectors.subject_get_for_user(user=user, pk=pk)  # 404 outside scope: no probing
    if not subject.id_number:
        raise Http404
    if not policy.can_unmask(user, subject):
        raise PermissionDenied
    form = RevealIdForm(request.POST, reason_required=not policy.is_applicant(user))
    if not form.is_valid():
        return _subject_detail(request, subject, reveal_form=form, status=400)
    full = subject_id_number_reveal(actor=user, subject=subject, reason=form.cleaned_data["reason"])
    return _subject_detail(request, subject, revealed_id=full, reveal_form=form)


@login_required
def record_list(request):
    form = RecordFilterForm(request.GET or None)
    query, state = ("", "")
    if form.is_valid():
        query, state = form.cleaned_data["q"], form.cleaned_data["state"]
    records = selectors.record_list_for_user(user=request.user, query=query, display_state=state)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/record_list.html", {"form": form, "page": page})


@login_required
def record_detail(request, pk: int):
    record = selectors.record_get_for_user(user=request.user, pk=pk)
    user = request.user
    own = policy.is_department(user) and record.provider_id == policy.acting_organisation_id(user)
    return render(
        request,
        "cases/record_detail.html",
        {
            "record": record,
            "changes": record.changes.all(),
            # Reporting limits are the staff's business; the applicant sees the record itself.
            "disclosure_clocks": disclosure_selectors.record_clocks(record=record)
            if policy.is_staff_member(user)
            else [],
            "can_correct": own,
            "revoke_form": RecordRevokeForm() if own else None,
        },
    )
