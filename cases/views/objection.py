"""Objection pages (PROCEDURES.md §2): the applicant files from the record page and follows the status; the
platform triages, the provider verifies, the reviewer reviews, the supervisor sees the late ones and sends
督办 — each on the desk. Thin: cases.selectors.objection reads (404 outside scope), cases.services.objection
writes; a service refusal goes back onto its form, a TaskConflict is shown as such, PermissionDenied is 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.objection import (
    CheckForm,
    DecideForm,
    ObjectionForm,
    PauseForm,
    ReviewRequestForm,
    SuperviseForm,
    WithdrawForm,
)
from cases.models import Role
from cases.models.objection import ObjectionState
from cases.selectors import objection as sel
from cases.selectors.records import record_get_for_user
from cases.services import objection as svc
from cases.views.case_pages import (
    attachment_download_response,
    case_page_context,
    messages_of,
    page_with_clocks,
)
from workflows import engine, rules


def _materials():
    """办事指南: the objection's materials list under the rule set in force (empty if the set has none)."""
    try:
        return rules.materials(rules.ruleset_in_force(timezone.now()), "objection")
    except (rules.NoRuleSetInForce, rules.RuleParameterMissing):
        return []


# --- applicant ---------------------------------------------------------------------------------------------
@login_required
def file(request, record_pk: int):
    """提出异议 from a record page: which fields are wrong and what they should be, why, evidence."""
    record = record_get_for_user(user=request.user, pk=record_pk)
    if not policy.can_apply_for(request.user, record.subject, "objection"):
        raise PermissionDenied
    existing = sel.open_objection_for_record(user=request.user, record=record)
    if existing is not None:
        messages.info(request, _("该信息已有正在处理的异议。"))
        return redirect("objection_status", existing.pk)
    repairs = list(record.repair_applications.filter(closed_at__isnull=False).order_by("-closed_at")[:1])
    status = 200
    if request.method == "POST":
        form = ObjectionForm(request.POST, request.FILES, record=record, materials=_materials())
        if form.is_valid():
            try:
                case = svc.objection_file(
                    actor=request.user,
                    record=record,
                    matter=form.cleaned_data["matter"],
                    disputed=form.disputed(),
                    reason=form.cleaned_data["reason"],
                    contact_name=form.cleaned_data["contact_name"],
                    contact_phone=form.cleaned_data["contact_phone"],
                    uploads=form.uploads(),
                    repair_application=repairs[0]
                    if form.cleaned_data["matter"] == "repair_result" and repairs
                    else None,
                )
            except ValidationError as error:
                existing = sel.open_objection_for_record(user=request.user, record=record)
                if getattr(error, "code", None) == "already_open" and existing is not None:
                    # A second send of this form (double click, another tab) lost to the first one.
                    messages.info(request, _("该信息已有正在处理的异议。"))
                    return redirect("objection_status", existing.pk)
                form.add_error(None, messages_of(error))
            else:
                messages.success(
                    request,
                    _("异议申请已提交，办件编号：%(number)s。该信息已作异议标注。") % {"number": case.tracking_number},
                )
                return redirect("objection_status", case.pk)
        status = 400
    else:
        form = ObjectionForm(
            record=record, materials=_materials(), initial={"contact_name": request.user.display_name or ""}
        )
    return render(request, "objection/file.html", {"record": record, "form": form}, status=status)


@login_required
def my_list(request):
    if policy.is_staff_member(request.user):
        return redirect("objection_desk")
    page = page_with_clocks(request, sel.objection_list_for_user(user=request.user), sel)
    return render(request, "objection/my_list.html", {"page": page})


def _case_context(request, case):
    return {
        "case": case,
        **case_page_context(request, case, sel, clocks=sel.clocks_for_objection(user=request.user, case=case)),
        "review": sel.review_of_case(case=case),
        "disputed": [
            {
                **item,
                "label": svc.field_label(item["field"]),
                "current": svc.field_display(item["field"], item.get("current")),
                "proposed": svc.field_display(item["field"], item.get("proposed")),
            }
            for item in case.disputed
        ],
    }


@login_required
def status(request, pk: int, review_form=None, http_status=200):
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    if policy.is_staff_member(request.user):
        return redirect("objection_desk_case", pk)
    context = _case_context(request, case)
    is_applicant = policy.can_apply_for(request.user, case.subject, "objection")
    reviewable = (
        is_applicant and not case.is_review and case.state == ObjectionState.CLOSED and context["review"] is None
    )
    last_day = svc.review_request_last_day(case) if reviewable else None
    context["review_last_day"] = last_day
    context["review_period_over"] = last_day is not None and timezone.localdate() > last_day
    context["may_review"] = reviewable and not context["review_period_over"]
    context["review_form"] = review_form or ReviewRequestForm()
    context["may_withdraw"] = is_applicant and case.is_open
    return render(request, "objection/status.html", context, status=http_status)


@login_required
@require_POST
def request_review(request, pk: int):
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    form = ReviewRequestForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            uploads = [form.cleaned_data["evidence"]] if form.cleaned_data["evidence"] else []
            review = svc.objection_request_review(
                actor=request.user, case=case, reason=form.cleaned_data["reason"], uploads=uploads
            )
        except ValidationError as error:
            form.add_error(None, messages_of(error))
        else:
            messages.success(request, _("复核申请已提交，办件编号：%(number)s。") % {"number": review.tracking_number})
            return redirect("objection_status", review.pk)
    return status(request, pk, review_form=form, http_status=400)


@login_required
def withdraw(request, pk: int):
    """撤回异议: a confirmation page (GET), then the withdrawal (POST)."""
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    if not policy.can_apply_for(request.user, case.subject, "objection"):
        raise PermissionDenied
    form = WithdrawForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                svc.objection_withdraw(actor=request.user, case=case, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, messages_of(error))
            else:
                messages.success(request, _("异议已撤回，该信息的异议标注已取消。"))
                return redirect("objection_status", pk)
        return render(request, "objection/withdraw.html", {"case": case, "form": form}, status=400)
    if not case.is_open:
        return redirect("objection_status", pk)
    return render(request, "objection/withdraw.html", {"case": case, "form": form})


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    attachment = sel.attachments_for_case(user=request.user, case=case).filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    return attachment_download_response(request, case, attachment)


@login_required
def notice_download(request, pk: int, notice_pk: int):
    """A notice of this case, downloaded from the case page: the same notice policy as /notices/<id>/pdf/."""
    from notices.views import notice_pdf_response

    case = sel.objection_get_for_user(user=request.user, pk=pk)
    notice = sel.notices_for_case(user=request.user, case=case).filter(pk=notice_pk).first()
    return notice_pdf_response(request, notice, as_attachment=True)


# --- desk --------------------------------------------------------------------------------------------------
@login_required
def desk_queue(request):
    """待办 (deadline first) and, for supervisors and the platform, the overdue objections."""
    if policy.is_applicant(request.user):
        return redirect("objection_my_list")
    if not policy.is_staff_member(request.user):
        raise PermissionDenied
    page = page_with_clocks(
        request, sel.desk_queue_for_user(user=request.user), sel, order=sel.desk_queue_order(user=request.user)
    )
    overdue = (
        sel.overdue_objections(user=request.user)
        if policy.is_supervisor(request.user) or policy.is_platform(request.user)
        else []
    )
    return render(request, "objection/desk_queue.html", {"page": page, "overdue": overdue})


def _desk_page(request, case, *, http_status=200, error="", **forms):
    user = request.user
    context = _case_context(request, case)
    node = engine.open_node_name(case) if case.is_open else None
    may_decide = case.is_open and svc._may_decide(user, case)
    late = svc.overdue_clock_of(case) if case.is_open else None
    context.update(
        {
            "node": node,
            "conflict": error,
            "can_check": node == "triage" and policy.is_platform(user),
            "can_decide": may_decide and node in ("triage", "provider_check", "review"),
            "can_pause": case.is_open and svc._may_pause(user, case),
            "paused": context["clocks"].current is not None and context["clocks"].current.clock.is_paused,
            "late": late,
            "can_supervise": late is not None and policy.is_supervisor(user),
            "check_form": forms.get("check") or CheckForm(prefix="check"),
            "decide_form": forms.get("decide") or DecideForm(prefix="decide", case=case),
            "pause_form": forms.get("pause") or PauseForm(prefix="pause"),
            "supervise_form": forms.get("supervise") or SuperviseForm(prefix="supervise"),
            "is_reviewer": user.role == Role.PLATFORM_REVIEWER,
        }
    )
    return render(request, "objection/desk_case.html", context, status=http_status)


@login_required
def desk_case(request, pk: int):
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    if policy.is_applicant(request.user):
        return redirect("objection_status", pk)
    if not policy.is_staff_member(request.user):
        raise PermissionDenied
    return _desk_page(request, case)


FORMS = {"check": CheckForm, "decide": DecideForm, "pause": PauseForm, "supervise": SuperviseForm}
DONE = {
    "check": gettext_lazy("核查通知已发出，信息提供单位的核查期限开始计算。"),
    "decide": gettext_lazy("已作出处理，结果告知书将送达申请人。"),
    "pause": gettext_lazy("已暂停计时。"),
    "resume": gettext_lazy("已恢复计时。"),
    "supervise": gettext_lazy("督办通知书已发出。"),
}


def _run(step, user, case, form):
    data = form.cleaned_data if form is not None else {}
    if step == "check":
        return svc.objection_send_check(actor=user, case=case, note=data["note"])
    if step == "decide":
        return svc.objection_decide(
            actor=user, case=case, outcome=data["outcome"], reason=data["reason"], changes=form.changes()
        )
    if step == "pause":
        return svc.objection_pause(actor=user, case=case, reason_code=data["reason_code"], reason=data["reason"])
    if step == "resume":
        return svc.objection_resume(actor=user, case=case)
    if step == "supervise":
        return svc.objection_supervise(actor=user, case=case, note=data["note"])
    raise Http404


@login_required
def desk_act(request, pk: int, step: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = sel.objection_get_for_user(user=request.user, pk=pk)
    if not policy.is_staff_member(request.user):
        raise PermissionDenied
    if step not in FORMS and step != "resume":
        raise Http404
    form = None
    if step in FORMS:
        kwargs = {"case": case} if step == "decide" else {}
        form = FORMS[step](request.POST, prefix=step, **kwargs)
        if not form.is_valid():
            return _desk_page(request, case, http_status=400, **{step: form})
    try:
        _run(step, request.user, case, form)
    except engine.TaskConflict as conflict:
        case = sel.objection_get_for_user(user=request.user, pk=case.pk)
        return _desk_page(request, case, http_status=409, error=str(conflict))
    except ValidationError as error:
        if form is None:
            return _desk_page(request, case, http_status=400, error=" ".join(messages_of(error)))
        form.add_error(None, messages_of(error))
        return _desk_page(request, case, http_status=400, **{step: form})
    messages.success(request, DONE[step])
    return redirect("objection_desk_case", pk)
