"""政务失信 rectification pages (PROCEDURES.md §4). Thin: forms in, cases.services.rectification writes,
cases.selectors.rectification reads (404 outside scope)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.rectification import CASE_BOUND, STEP_FORMS, CaseFilterForm, IntakeForm
from cases.models.rectification import RectificationState
from cases.selectors import rectification as sel
from cases.selectors import supervision as sup
from cases.services import escalation
from cases.services import rectification as svc
from cases.services.submissions import AlreadySubmitted
from cases.views.case_pages import attachment_download_response
from workflows import engine
from workflows.selectors import clock_status

PAGE_SIZE = 25


# --- cases -----------------------------------------------------------------------------------------------------
@login_required
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = sel.rectification_list_for_user(
        user=request.user,
        query=filters.get("q", ""),
        state=filters.get("state", ""),
        organisation=filters.get("organisation"),
        overdue=filters.get("overdue", False),
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "rectification/list.html",
        {
            "form": form,
            "page": page,
            "cases": page.object_list,
            "may_supervise": sup.may_supervise(request.user),
            # Only those who may register a lead are offered the link (the intake page answers 403 to others).
            "may_intake": policy.is_applicant(request.user) or policy.is_platform(request.user),
        },
    )


@login_required
def intake(request):
    user = request.user
    if not (policy.is_applicant(user) or policy.is_platform(user)):
        raise PermissionDenied
    form = IntakeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        office = sel.credit_office_for_intake(user)
        try:
            if office is None:
                raise ValidationError(_("未找到受理线索的信用牵头部门，请联系系统管理员。"))
            case = svc.rectification_intake(
                actor=user,
                body=data["body"],
                source=data["source"],
                summary=data["summary"],
                facts=data["facts"],
                credit_office=office,
                complainant_subject=data.get("complainant"),
                complainant_name=data.get("complainant_name", ""),
                sme_payment=data["sme_payment"],
                form_token=form.token,
            )
        except AlreadySubmitted as done:
            messages.info(request, _("该表单已提交，无需重复提交。以下是已提交的结果。"))
            return (
                redirect("rectification_case", pk=done.result_id) if done.result_id else redirect("rectification_list")
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("已受理，办件编号%(n)s。") % {"n": case.tracking_number})
            return redirect("rectification_case", pk=case.pk)
    return render(request, "rectification/intake.html", {"form": form}, status=400 if form.errors else 200)


def _step_form(step: str, case, data=None, files=None):
    form_class = STEP_FORMS[step]
    kwargs = {"case": case} if step in CASE_BOUND else {}
    # Several step forms share a page: distinct ids keep every label pointing at its own field.
    return form_class(data, files, auto_id=f"id_{step}_%s", **kwargs)


def _case_page(request, case, *, failed: str = "", failed_form=None):
    user = request.user
    clocks = sel.clocks_of(case)
    forms = {step: _step_form(step, case) for step in STEP_FORMS}
    if failed:
        forms[failed] = failed_form
    context = {
        "case": case,
        "clocks": [clock_status(c) for c in clocks],
        "open_clocks": [c for c in clocks if c.stopped_at is None],
        "reports": sel.reports_of(case),
        "timeline": sel.timeline_of(case),
        "escalations": sup.escalations_for_case(case),
        "is_body": svc.is_body_member(user, case),
        "is_office": policy.is_platform(user) and policy.acting_organisation_id(user) == case.credit_office_id,
        "may_verify": svc.may_record_verification(user, case),
        "may_escalate": policy.is_supervisor(user) or policy.is_platform(user),
        "forms": forms,
        "failed_form": failed_form,
        "S": RectificationState,
    }
    return render(request, "rectification/case.html", context, status=400 if failed else 200)


@login_required
def case_detail(request, pk):
    return _case_page(request, sel.rectification_get_for_user(user=request.user, pk=pk))


# Each step's form fields are named after its service's keyword arguments.
STEP_SERVICES = {
    "forward": svc.rectification_forward,
    "verify": svc.rectification_verify,
    "plan": svc.rectification_submit_plan,
    "progress": svc.rectification_report_progress,
    "completion": svc.rectification_submit_completion,
    "check": svc.rectification_check_completion,
    "refuse": svc.rectification_confirm_refusal,
}


def _run_step(step: str, actor, case, data: dict) -> None:
    if step == "escalate":  # one of the case's clocks (chosen in the form) is escalated, not the case
        escalation.escalation_fire(actor=actor, **data)
    else:
        STEP_SERVICES[step](actor=actor, case=case, **data)


@require_POST
@login_required
def case_act(request, pk, step):
    case = sel.rectification_get_for_user(user=request.user, pk=pk)
    if step not in STEP_FORMS:
        raise Http404
    form = _step_form(step, case, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            _run_step(step, request.user, case, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        except engine.TaskConflict as conflict:  # a colleague finished the step first
            messages.error(request, str(conflict))
            return redirect("rectification_case", pk=case.pk)
        else:
            messages.success(request, _("已办理。"))
            return redirect("rectification_case", pk=case.pk)
    return _case_page(request, case, failed=step, failed_form=form)


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """Evidence filed with a report of this case, for whoever may see the case (never a public media URL)."""
    case = sel.rectification_get_for_user(user=request.user, pk=pk)
    attachment = sel.report_attachments_of(case).filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    return attachment_download_response(request, case, attachment)
