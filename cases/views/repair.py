"""Credit-repair pages: the applicant's portal and the department's desk (PROCEDURES.md §1).

Thin: cases.selectors.repair reads (scoped, 404 outside scope), cases.services.repair writes. What the views
add is the translation of the services' answers into pages: a RepairError goes back onto the form that
caused it with everything typed kept, a TaskConflict (another officer finished the step first) is shown as
such, PermissionDenied becomes the 403 page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.repair import (
    ChaseForm,
    OptionalReasonForm,
    ProposalForm,
    ReasonForm,
    RepairApplicationForm,
    SignoffForm,
    SupplementForm,
    SupplementRequestForm,
)
from cases.models import CaseActivity, Role
from cases.models.attachments import Attachment
from cases.models.repair import OPEN_STATES, RECORD_KIND_TO_REPAIR_KIND, Proposal, RepairKind, RepairState
from cases.selectors import repair as sel
from cases.selectors.records import record_get_for_user
from cases.services import repair as svc
from cases.views.case_pages import (
    attachment_download_response,
    case_page_context,
    messages_of,
    page_with_clocks,
)
from workflows import engine


# --- applicant: apply ------------------------------------------------------------------------------------------
def _require_applicant_for(user, subject):
    if not policy.can_apply_for(user, subject, "repair"):
        raise PermissionDenied


def _apply_form(record, application=None, *args, **kwargs) -> RepairApplicationForm:
    return RepairApplicationForm(
        *args, materials=svc.repair_materials(record=record, application=application), **kwargs
    )


def _apply_page(request, *, record, application=None, form=None, status=200):
    attachments = sel.attachments_for_case(user=request.user, case=application) if application else []
    problems = svc.repair_eligibility(subject=record.subject, record=record, exclude=application)
    missing = svc._missing_materials(application) if application else []
    return render(
        request,
        "repair/apply.html",
        {
            "record": record,
            "application": application,
            "form": form,
            "problems": problems,
            "missing": missing,
            "materials": svc.repair_materials(record=record, application=application),
            "repair_kind": RECORD_KIND_TO_REPAIR_KIND.get(record.kind, RepairKind.OTHER).value,
            "attachments": attachments,
            "commitment_text": svc.commitment_text(subject=record.subject, record=record),
            "commitment": application.commitment if application else None,
            "action_url": (
                reverse("repair_edit", args=[application.pk])
                if application
                else reverse("repair_apply", args=[record.pk])
            ),
        },
        status=status,
    )


@login_required
def apply(request, record_pk: int):
    """申请信用修复 from a record page: the eligibility check first, then the form (saved as a draft)."""
    record = record_get_for_user(user=request.user, pk=record_pk)
    _require_applicant_for(request.user, record.subject)
    open_case = sel.open_case_for_record(user=request.user, record=record)
    if open_case is not None:
        messages.info(request, _("该信息已有正在办理的信用修复申请。"))
        return redirect("repair_status", open_case.pk)
    draft = sel.draft_for_record(user=request.user, record=record)
    if draft is not None:
        return redirect("repair_edit", draft.pk)
    if request.method == "POST":
        return _draft_post(request, record=record, application=None)
    form = _apply_form(
        record, initial={"contact_name": request.user.display_name or "", "signer_capacity": "legal_rep"}
    )
    return _apply_page(request, record=record, form=form)


@login_required
def edit(request, pk: int):
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    if application.state != RepairState.DRAFT or not policy.is_applicant(request.user):
        return redirect("repair_status", pk)
    _require_applicant_for(request.user, application.subject)
    if request.method == "POST":
        return _draft_post(request, record=application.record, application=application)
    commitment = application.commitment
    form = _apply_form(
        application.record,
        application,
        initial={
            "contact_name": application.contact_name,
            "contact_phone": application.contact_phone,
            "statement": application.statement,
            "by_agent": application.by_agent,
            "signer_name": commitment.signer_name if commitment else "",
            "signer_capacity": commitment.signer_capacity if commitment else "legal_rep",
        },
    )
    return _apply_page(request, record=application.record, application=application, form=form)


def _already_submitted(request, record):
    """A second send of the apply form (double click, another tab) lost to the first: show its case."""
    messages.info(request, _("该信息已有正在办理的信用修复申请。"))
    open_case = sel.open_case_for_record(user=request.user, record=record)
    return redirect("repair_status", open_case.pk) if open_case else redirect("repair_my_list")


def _draft_post(request, *, record, application):
    """保存草稿 / 签署承诺 / 提交申请, all from one form so that nothing typed is ever lost: the draft is
    saved first, then each upload is checked and stored on its own (a refused file leaves the others)."""
    user = request.user
    form = _apply_form(record, application, request.POST, request.FILES)
    action = request.POST.get("action", "save")
    if not form.is_valid():
        return _apply_page(request, record=record, application=application, form=form, status=400)
    data = form.cleaned_data
    try:
        application = svc.repair_draft_save(
            actor=user,
            record=record,
            application=application,
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            statement=data["statement"],
            by_agent=data["by_agent"],
        )
    except svc.RepairError as error:
        if getattr(error, "code", None) in ("not_draft", "already_open"):
            return _already_submitted(request, record)
        form.add_error(None, messages_of(error))
        return _apply_page(request, record=record, application=application, form=form, status=400)
    for field, purpose in form.uploads.items():
        uploaded = data.get(field)
        if uploaded:
            try:
                svc.repair_attach(actor=user, application=application, purpose=purpose, uploaded=uploaded)
            except ValidationError as error:
                form.add_error(field, messages_of(error))
    if form.errors:
        application = sel.repair_get_for_user(user=request.user, pk=application.pk)
        if application.state != RepairState.DRAFT:
            return _already_submitted(request, record)
        return _apply_page(request, record=record, application=application, form=form, status=400)
    try:
        if action in ("sign", "submit") and data["signer_name"].strip() and not application.commitment_id:
            svc.repair_sign_commitment(
                actor=user,
                application=application,
                signer_name=data["signer_name"],
                capacity=data["signer_capacity"] or "legal_rep",
            )
            application = sel.repair_get_for_user(user=request.user, pk=application.pk)
            if action == "sign":
                messages.success(request, _("信用承诺书已签署。"))
        if action == "submit":
            application = svc.repair_submit(actor=user, application=application)
            messages.success(request, _("申请已提交，办件编号：%(number)s。") % {"number": application.tracking_number})
            return redirect("repair_status", application.pk)
    except svc.RepairError as error:
        if getattr(error, "code", None) in ("not_draft", "already_open"):
            return _already_submitted(request, record)
        form.add_error(None, messages_of(error))
        application = sel.repair_get_for_user(user=request.user, pk=application.pk)
        return _apply_page(request, record=record, application=application, form=form, status=400)
    if action == "save":
        messages.success(request, _("草稿已保存。"))
    return redirect("repair_edit", application.pk)


# --- applicant: my applications, status, supplement, withdraw, chase -------------------------------------------
@login_required
def my_list(request):
    if policy.is_staff_member(request.user):
        return redirect("repair_desk")
    page = page_with_clocks(request, sel.repair_list_for_user(user=request.user), sel)
    return render(request, "repair/my_list.html", {"page": page})


def _case_context(request, application):
    clocks = sel.clocks_for_repair(user=request.user, case=application)
    return {
        "application": application,
        **case_page_context(request, application, sel, clocks=clocks),
        "chase_count": sel.chases_open_step(case=application) if application.is_open else 0,
    }


def _status_page(request, application, *, status=200, **forms):
    context = _case_context(request, application)
    user = request.user
    may_act = policy.can_apply_for(user, application.subject, "repair")
    context.update(
        {
            "may_supplement": may_act and application.state == RepairState.SUPPLEMENTING,
            "may_withdraw": may_act and application.state in OPEN_STATES,
            "may_chase": may_act and application.state in OPEN_STATES,
            "supplement_form": forms.get("supplement_form") or SupplementForm(),
            "chase_form": forms.get("chase_form") or ChaseForm(),
            "supplement_files": [a for a in context["attachments"] if a.purpose == Attachment.Purpose.SUPPLEMENT],
        }
    )
    return render(request, "repair/status.html", context, status=status)


@login_required
def status(request, pk: int):
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    if policy.is_staff_member(request.user):
        return redirect("repair_desk_case", pk)
    if application.state == RepairState.DRAFT:
        return redirect("repair_edit", pk)
    return _status_page(request, application)


@login_required
@require_POST
def supplement(request, pk: int):
    """补正: upload the requested materials (one or more times), then say they are complete."""
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    form = SupplementForm(request.POST, request.FILES)
    if not form.is_valid():
        return _status_page(request, application, supplement_form=form, status=400)
    try:
        if form.cleaned_data["file"]:
            svc.repair_attach(
                actor=request.user,
                application=application,
                purpose=Attachment.Purpose.SUPPLEMENT,
                uploaded=form.cleaned_data["file"],
            )
        if request.POST.get("action") == "submit":
            svc.repair_supplement(actor=request.user, application=application, note=form.cleaned_data["note"])
            messages.success(request, _("补正材料已提交，部门将继续办理。"))
        else:
            messages.success(request, _("补正材料已上传。确认齐全后请点击“提交补正”。"))
    except ValidationError as error:  # RepairError and refused uploads alike
        form.add_error(None, messages_of(error))
        application = sel.repair_get_for_user(user=request.user, pk=application.pk)
        return _status_page(request, application, supplement_form=form, status=400)
    except engine.TaskConflict as conflict:
        messages.error(request, str(conflict))
    return redirect("repair_status", pk)


@login_required
def withdraw(request, pk: int):
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    _require_applicant_for(request.user, application.subject)
    if request.method == "POST":
        form = OptionalReasonForm(request.POST)
        if form.is_valid():
            try:
                svc.repair_withdraw(actor=request.user, application=application, reason=form.cleaned_data["reason"])
            except svc.RepairError as error:
                form.add_error(None, messages_of(error))
            else:
                messages.success(request, _("申请已撤回。"))
                return redirect("repair_status", pk)
        return render(request, "repair/withdraw.html", {"application": application, "form": form}, status=400)
    return render(request, "repair/withdraw.html", {"application": application, "form": OptionalReasonForm()})


@login_required
@require_POST
def chase(request, pk: int):
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    form = ChaseForm(request.POST)
    if not form.is_valid():
        return _status_page(request, application, chase_form=form, status=400)
    try:
        svc.repair_chase(actor=request.user, application=application, message=form.cleaned_data["message"])
    except svc.RepairError as error:
        form.add_error(None, messages_of(error))
        return _status_page(request, application, chase_form=form, status=400)
    messages.success(request, _("已催办，办理部门会在待办中看到。"))
    return redirect("repair_status", pk)


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """Materials are served only here, after the permission check, never from a public media URL."""
    attachment = sel.attachment_get_for_user(user=request.user, case_pk=pk, pk=attachment_pk)
    case = sel.repair_get_for_user(user=request.user, pk=pk)
    return attachment_download_response(request, case, attachment)


# --- department desk --------------------------------------------------------------------------------------------
def _require_staff(user):
    if not policy.is_staff_member(user):
        raise PermissionDenied


@login_required
def desk_queue(request):
    """待办: the open repair steps this officer may take, the nearest legal deadline first."""
    if policy.is_applicant(request.user):
        return redirect("repair_my_list")
    _require_staff(request.user)
    page = page_with_clocks(
        request, sel.desk_queue_for_user(user=request.user), sel, order=sel.desk_queue_order(user=request.user)
    )
    return render(request, "repair/desk_queue.html", {"page": page})


def _desk_page(request, application, *, status=200, error="", **forms):
    user = request.user
    context = _case_context(request, application)
    node = engine.open_node_name(application) if application.is_open else None
    handles = policy.can_handle_case(user, application)
    is_leader = user.role == Role.DEPT_LEADER
    context.update(
        {
            "node": node,
            "conflict": error,
            "can_accept": handles and node == "acceptance",
            "can_refuse": handles and node == "acceptance" and is_leader,
            "can_propose": handles and node == "review",
            "can_signoff": handles and node == "signoff" and is_leader,
            "awaits_signoff": handles and node == "signoff" and not is_leader,
            "can_revoke": handles and is_leader and application.state == RepairState.APPROVED,
            "refuse_form": forms.get("refuse") or ReasonForm(prefix="refuse"),
            "supplement_form": forms.get("supplement") or _supplement_request_form(application),
            "proposal_form": forms.get("propose") or ProposalForm(prefix="propose"),
            "signoff_form": forms.get("signoff") or SignoffForm(prefix="signoff"),
            "revoke_form": forms.get("revoke") or ReasonForm(prefix="revoke"),
            "Proposal": Proposal,
        }
    )
    return render(request, "repair/desk_case.html", context, status=status)


@login_required
def desk_case(request, pk: int):
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    if policy.is_applicant(request.user):
        return redirect("repair_status", pk)
    _require_staff(request.user)
    return _desk_page(request, application)


def _supplement_request_form(application, data=None) -> SupplementRequestForm:
    return SupplementRequestForm(
        data,
        prefix="supplement",
        materials=svc.repair_materials(record=application.record, application=application),
        repeat=application.activities.filter(kind=CaseActivity.Kind.SUPPLEMENT_REQUESTED).exists(),
    )


DESK_FORMS = {
    "refuse": ReasonForm,
    "supplement": SupplementRequestForm,
    "propose": ProposalForm,
    "signoff": SignoffForm,
    "revoke": ReasonForm,
}

DONE_MESSAGES = {
    "accept": gettext_lazy("已受理，受理通知书将送达申请人。"),
    "refuse": gettext_lazy("已决定不予受理，通知书将送达申请人。"),
    "supplement": gettext_lazy("已要求补正，办理期限暂停计算。"),
    "propose": gettext_lazy("审查意见已提交负责人签批。"),
    "signoff": gettext_lazy("签批完成。"),
    "revoke": gettext_lazy("已撤销信用修复，恢复公示。"),
}


def _run_step(step: str, user, application, data: dict):
    if step == "accept":
        return svc.repair_accept(actor=user, application=application)
    if step == "refuse":
        return svc.repair_refuse(actor=user, application=application, reason=data["reason"])
    if step == "supplement":
        return svc.repair_request_supplement(
            actor=user,
            application=application,
            items=data["items"],
            missing=data["missing"],
            repeat_reason=data.get("repeat_reason", ""),
        )
    if step == "propose":
        return svc.repair_propose(
            actor=user, application=application, proposal=data["proposal"], reason=data["reason"], days=data.get("days")
        )
    if step == "signoff":
        return svc.repair_signoff(actor=user, application=application, agree=data["agree"], comment=data["comment"])
    if step == "revoke":
        return svc.repair_revoke(actor=user, application=application, reason=data["reason"])
    raise AssertionError(step)


@login_required
def desk_act(request, pk: int, step: str):
    """One department step. The service decides who may (PermissionDenied → 403); the engine decides
    whether the step is still open (TaskConflict → the other officer's result is shown)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    application = sel.repair_get_for_user(user=request.user, pk=pk)
    _require_staff(request.user)
    if step != "accept" and step not in DESK_FORMS:
        raise Http404
    if step == "supplement":
        form = _supplement_request_form(application, request.POST)
    else:
        form = DESK_FORMS[step](request.POST, prefix=step) if step in DESK_FORMS else None
    if form is not None and not form.is_valid():
        return _desk_page(request, application, status=400, **{step: form})
    try:
        _run_step(step, request.user, application, form.cleaned_data if form else {})
    except engine.TaskConflict as conflict:
        application = sel.repair_get_for_user(user=request.user, pk=application.pk)
        return _desk_page(request, application, status=409, error=str(conflict))
    except svc.RepairError as error:
        if form is None:
            return _desk_page(request, application, status=400, error=" ".join(messages_of(error)))
        form.add_error(None, messages_of(error))
        return _desk_page(request, application, status=400, **{step: form})
    messages.success(request, DONE_MESSAGES[step])
    return redirect("repair_desk_case", pk)
