"""The applicant's personal centre (/me/) and messages (/me/messages/) — issue 12, items 2 and 3.

/me/ is a list of sections. Another feature adds its own with :func:`register_section` (a template and a
function returning its context), so the page grows without this module changing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.accounts import MessagePreferenceForm
from cases.models import MessagePreference
from cases.selectors import me as sel
from cases.services.messages import message_mark_read, message_preference_set
from cases.services.objection import review_request_last_day
from notices.selectors import notice_list_for_user


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: Callable  # (request) -> dict, merged into the section's own context
    order: int = 100


SECTIONS: list[Section] = []


def register_section(section: Section) -> Section:
    SECTIONS[:] = sorted([s for s in SECTIONS if s.key != section.key] + [section], key=lambda s: s.order)
    return section


def _cases_context(request) -> dict:
    rows = sel.my_cases(user=request.user)
    for row in rows:
        # 复核 may be asked within a period after the objection's result was delivered (Art 28).
        if row.procedure.code == "objection" and row.deadline is None and row.case.state == "closed":
            if not getattr(row.case, "is_review", False) and not hasattr(row.case, "review"):
                last = review_request_last_day(row.case)
                if last is not None:
                    row.deadline = sel.deadline_for(last, _("申请复核期限"))
                    if row.deadline.passed:
                        row.deadline = None
    return {"rows": rows}


def _subjects_context(request) -> dict:
    return {
        "authorisations": sel.my_authorisations(user=request.user),
        "legal_rep_ids": sel.my_legal_rep_subject_ids(user=request.user),
    }


def _messages_context(request) -> dict:
    return {"latest_messages": list(sel.messages_for(user=request.user, unread_only=True)[:5])}


def _notices_context(request) -> dict:
    return {"latest_notices": list(notice_list_for_user(user=request.user)[:5])}


register_section(Section("cases", "me/_cases.html", _cases_context, order=10))
register_section(Section("messages", "me/_messages.html", _messages_context, order=20))
register_section(Section("notices", "me/_notices.html", _notices_context, order=30))
register_section(Section("subjects", "me/_subjects.html", _subjects_context, order=40))


def _require_applicant(user):
    if not policy.is_applicant(user):
        raise PermissionDenied(_("个人中心仅供申请人使用。"))


@login_required
def me(request):
    _require_applicant(request.user)
    sections = [(section, section.context(request)) for section in SECTIONS]
    return render(request, "me/home.html", {"sections": sections})


@login_required
def message_list(request):
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(sel.messages_for(user=request.user, unread_only=unread_only), 30).get_page(request.GET.get("page"))
    preference = MessagePreference.objects.filter(user=request.user).first() or MessagePreference()
    form = MessagePreferenceForm(initial={"by_email": preference.by_email, "by_sms": preference.by_sms})
    return render(request, "me/messages.html", {"page": page, "unread_only": unread_only, "preference_form": form})


@login_required
def message_detail(request, pk: int):
    message = sel.message_get(user=request.user, pk=pk)
    if message is None:
        raise Http404
    message_mark_read(message=message, user=request.user)
    return render(request, "me/message_detail.html", {"message": message})


@login_required
@require_POST
def message_preferences(request):
    form = MessagePreferenceForm(request.POST)
    if form.is_valid():
        message_preference_set(user=request.user, **form.cleaned_data)
        flash.success(request, _("消息接收设置已保存。"))
    return redirect("me_messages")
