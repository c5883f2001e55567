"""Credit commitments (信用承诺): the applicant's portal, the department's desk, the public register and the
JSON API for departments' own systems. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases import policy
from cases.forms.commitment import (
    BreachDecisionForm,
    FollowUpForm,
    ImportForm,
    OutcomeForm,
    RegisterForm,
    RepairReviewForm,
    RevocationCloseForm,
    RevocationStartForm,
    SignForm,
    StatementForm,
)
from cases.models import Commitment, CommitmentImport, CommitmentType, Subject
from cases.selectors import commitment as sel
from cases.services.commitment import bulk_import as imp
from cases.services.commitment import follow_up as follow_up_svc
from cases.services.commitment import lifecycle as svc
from cases.services.submissions import AlreadySubmitted
from cases.views.paging import count_free_page
from notices.models import Notice
from workflows import engine

PAGE_SIZE = 50


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _already_submitted(request, view_name: str, done: AlreadySubmitted, *, fallback: str):
    """The same form sent again (double click, Back and confirm again): show what the first send made."""
    messages.info(request, _("该表单已提交，无需重复提交。以下是已提交的结果。"))
    if done.result_id is None:
        return redirect(fallback)
    return redirect(view_name, pk=done.result_id)


# --- portal ----------------------------------------------------------------------------------------------


@login_required
def my_list(request):
    if not policy.is_applicant(request.user):
        return redirect("commitment_desk")
    return render(
        request,
        "commitment/my_list.html",
        {
            "commitments": sel.commitments_for(request.user)[:200],
            "matters": sel.matters_open_for_signing(),
        },
    )


def _my_subjects(user):
    return Subject.objects.filter(pk__in=policy.active_authorisations(user).values("subject_id")).order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def sign(request, matter_pk: int):
    matter = get_object_or_404(sel.matters_open_for_signing(), pk=matter_pk)
    subjects = _my_subjects(request.user)
    form = SignForm(request.POST or None, subjects=subjects)
    preview = None
    if request.method == "POST" and form.is_valid():
        subject = form.cleaned_data["subject"]
        if "confirm" in request.POST:
            try:
                commitment = svc.commitment_sign(
                    actor=request.user,
                    matter=matter,
                    subject=subject,
                    signer_name=form.cleaned_data["signer_name"],
                    capacity=form.cleaned_data["capacity"],
                    form_token=form.token,
                )
            except AlreadySubmitted as done:
                return _already_submitted(request, "commitment_detail", done, fallback="commitment_my_list")
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("承诺已签署，信用承诺书正在生成。"))
                return redirect("commitment_detail", pk=commitment.pk)
        elif problems := svc.commitment_eligibility(subject=subject, type=matter.type):
            for p in problems:
                messages.error(request, p.message)
        else:
            preview = svc.render_commitment_text(
                matter=matter, subject=subject, signer=form.cleaned_data["signer_name"], on=timezone.localdate()
            )
    return render(request, "commitment/sign.html", {"matter": matter, "form": form, "preview": preview})


def _notices_of(obj):
    from django.contrib.contenttypes.models import ContentType

    return Notice.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).order_by("pk")


def _detail_page(request, commitment, *, review_form=None, statement_form=None, follow_up_form=None, status=200):
    department = (
        policy.is_department(request.user) and policy.acting_organisation_id(request.user) == commitment.department_id
    )
    return render(
        request,
        "commitment/detail.html",
        {
            "c": commitment,
            "notices": _notices_of(commitment),
            "is_department": department,
            "verifications": commitment.verifications.order_by("-pk"),
            "review_form": review_form or RepairReviewForm(),
            "statement_form": statement_form or StatementForm(),
            "may_state": policy.is_applicant(request.user)
            and policy.can_apply_for(request.user, commitment.subject, "commitment"),
            "follow_up_form": follow_up_form or FollowUpForm(),
            "follow_up": sel.follow_up_status(commitment),
        },
        status=status,
    )


@login_required
def detail(request, pk: int):
    return _detail_page(request, sel.commitment_for(request.user, pk))


# --- desk ------------------------------------------------------------------------------------------------


def _require_staff(user):
    if not policy.is_staff_member(user):
        raise PermissionDenied(_("工作台仅限工作人员使用。"))


@login_required
def desk(request):
    _require_staff(request.user)
    now = timezone.now()
    due = sel.verifications_for(request.user)
    return render(
        request,
        "commitment/desk.html",
        {
            "due": due[:100],
            "due_count": due.count(),
            "overdue": sel.verifications_overdue(request.user, now=now)[:100],
            "late_documents": sel.follow_documents_late(request.user)[:100],
            "repair_reviews": sel.repair_reviews_for(request.user)[:100],
            "revocations": sel.revocations_for(request.user)[:100],
            "now": now,
            "is_department": policy.is_department(request.user),
        },
    )


def _verification_page(request, v, *, form=None, start_form=None, close_form=None, decide_form=None, status=200):
    """The check's page; a refused action re-renders it with the person's input in its own form."""
    revocation = getattr(v, "revocation", None) if hasattr(v, "revocation") else None
    return render(
        request,
        "commitment/verification.html",
        {
            "v": v,
            "c": v.commitment,
            "form": form or OutcomeForm(),
            "decide_form": decide_form or BreachDecisionForm(verification=v),
            "statement_files": v.attachments.filter(purpose="statement"),
            "can_handle": policy.can_handle_case(request.user, v),
            "revocation": revocation,
            "start_form": start_form or RevocationStartForm(),
            "close_form": close_form or RevocationCloseForm(),
            "notices": _notices_of(v),
            "attachments": v.attachments.all(),
        },
        status=status,
    )


def _refused(form, exc: ValidationError):
    form.add_error(None, exc.messages)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def verification(request, pk: int):
    _require_staff(request.user)
    v = sel.verification_for(request.user, pk)
    form = OutcomeForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not policy.can_handle_case(request.user, v):
            raise PermissionDenied(_("您无权办理该核查。"))
        if form.is_valid():
            try:
                svc.verification_record(
                    actor=request.user,
                    verification=v,
                    outcome=form.cleaned_data["outcome"],
                    finding=form.cleaned_data["finding"],
                    serious_consequences=form.cleaned_data["serious_consequences"],
                    evidence=request.FILES.getlist("evidence"),
                )
            except ValidationError as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("核查结果已记录。"))
                return redirect("commitment_verification", pk=v.pk)
        return _verification_page(request, v, form=form, status=400)
    return _verification_page(request, v, form=form)


def _verification_action(request, v, *, form, form_key: str, action, done: str):
    """One action on a check's page: a valid form runs ``action(data)``; a refusal re-renders the page with the
    person's input in its own form, a step already taken elsewhere is shown as the conflict it is."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            _refused(form, exc)
        except engine.TaskConflict as conflict:  # decided already (another tab, or a colleague)
            messages.error(request, str(conflict))
            return redirect("commitment_verification", pk=v.pk)
        else:
            messages.success(request, done)
            return redirect("commitment_verification", pk=v.pk)
    return _verification_page(request, v, status=400, **{form_key: form})


@login_required
@require_POST
def verification_decide(request, pk: int):
    v = sel.verification_for(request.user, pk)
    return _verification_action(
        request,
        v,
        form=BreachDecisionForm(request.POST, verification=v),
        form_key="decide_form",
        action=lambda data: svc.verification_decide(actor=request.user, verification=v, **data),
        done=_("已作出认定。"),
    )


@login_required
@require_POST
def revocation_start(request, pk: int):
    v = sel.verification_for(request.user, pk)
    return _verification_action(
        request,
        v,
        form=RevocationStartForm(request.POST),
        form_key="start_form",
        action=lambda data: svc.revocation_start(actor=request.user, verification=v, reason=data["reason"]),
        done=_("已启动撤销行政决定程序。"),
    )


@login_required
@require_POST
def revocation_close(request, pk: int):
    v = sel.verification_for(request.user, pk)
    if getattr(v, "revocation", None) is None:  # the reverse one-to-one raises when there is none
        messages.error(request, _("该核查尚未启动撤销行政决定程序，没有可办结的撤销。"))
        return _verification_page(request, v, status=400)
    return _verification_action(
        request,
        v,
        form=RevocationCloseForm(request.POST),
        form_key="close_form",
        action=lambda data: svc.revocation_close(
            actor=request.user,
            revocation=v.revocation,
            revoked=data["decision"] == "revoke",
            note=data["note"],
        ),
        done=_("已办结。"),
    )


@login_required
@require_POST
def commitment_act(request, pk: int, step: str):
    commitment = sel.commitment_for(request.user, pk)
    try:
        if step == "verify":
            v = svc.verification_start(actor=request.user, commitment=commitment)
            return redirect("commitment_verification", pk=v.pk)
        if step == "documents":
            svc.commitment_follow_documents_received(actor=request.user, commitment=commitment)
            messages.success(request, _("已登记后补材料。"))
        elif step == "repair-review":
            form = RepairReviewForm(request.POST)
            if not form.is_valid():
                return _detail_page(request, commitment, review_form=form, status=400)
            try:
                svc.repair_review_close(actor=request.user, commitment=commitment, note=form.cleaned_data["note"])
            except ValidationError as exc:
                return _detail_page(request, commitment, review_form=_refused(form, exc), status=400)
            messages.success(request, _("修复复核已办结。"))
        else:
            raise PermissionDenied
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("commitment_detail", pk=commitment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    if not policy.is_department(request.user):
        raise PermissionDenied(_("只有行业主管部门可以登记承诺。"))
    org_id = policy.acting_organisation_id(request.user)
    form = RegisterForm(request.POST or None, department_id=org_id, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            commitment = svc.commitment_register(
                actor=request.user,
                matter=form.cleaned_data["matter"],
                subject=form.cleaned_data["subject"],
                signer_name=form.cleaned_data["signer_name"],
                capacity=form.cleaned_data["capacity"],
                signed_on=form.cleaned_data["signed_on"],
                decision_date=form.cleaned_data["decision_date"],
                decision_number=form.cleaned_data["decision_number"],
                form_token=form.token,
            )
        except AlreadySubmitted as done:
            return _already_submitted(request, "commitment_detail", done, fallback="commitment_desk")
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("承诺已登记。"))
            return redirect("commitment_detail", pk=commitment.pk)
    return render(request, "commitment/register.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def import_file(request):
    if not policy.is_department(request.user):
        raise PermissionDenied(_("只有行业主管部门可以批量登记承诺。"))
    form = ImportForm(request.POST or None, request.FILES or None)
    row_errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sha = imp.sha256_of(upload)
            result = imp.commitments_import(
                actor=request.user,
                department=request.user.organisation,
                raw_rows=imp.read_rows(upload),
                source=CommitmentImport.Source.FILE,
                filename=upload.name,
                sha256=sha,
            )
        except imp.ImportRefused as exc:
            row_errors = exc.row_errors
            messages.error(request, exc.messages[0])
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request,
                _("已导入%(n)d条承诺（新建主体%(s)d个）。") % {"n": result.created, "s": result.subjects_created},
            )
            if result.duplicates:
                messages.info(
                    request,
                    _("另有%(n)d条承诺此前已导入，本次未重复登记。") % {"n": result.duplicates},
                )
            return redirect("commitment_desk")
    return render(
        request,
        "commitment/import.html",
        {
            "form": form,
            "row_errors": row_errors[:1000] if row_errors else None,
            "error_count": len(row_errors) if row_errors else 0,
            "headers": imp.TEMPLATE_HEADERS,
        },
    )


@login_required
def import_template(request):
    response = HttpResponse(
        ("\ufeff" + ",".join(imp.TEMPLATE_HEADERS) + "\n").encode(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="commitments-template.csv"'
    return response


# --- public register ---------------------------------------------------------------------------------------


def public_register(request):
    qs = sel.public_register(
        q=request.GET.get("q", ""), type=request.GET.get("type", ""), status=request.GET.get("status", "")
    )
    # The register holds every commitment ever made (a million and more): no COUNT(*) of it per visit.
    page = count_free_page(request, qs, PAGE_SIZE)
    return render(
        request,
        "commitment/public_register.html",
        {
            "page": page,
            "q": request.GET.get("q", ""),
            "types": CommitmentType.choices,
            "type": request.GET.get("type", ""),
            "status": request.GET.get("status", ""),
            "statuses": [
                ("in_force", Commitment.Status.IN_FORCE.label),
                ("kept", Commitment.Status.KEPT.label),
                ("broken", Commitment.Status.BROKEN.label),
            ],
        },
    )


# --- API ---------------------------------------------------------------------------------------------------


@login_required
@require_POST
def verification_statement(request, pk: int, verification_pk: int):
    """The subject's 陈述、申辩 on a proposed breach, from the commitment's page."""
    commitment = sel.commitment_for(request.user, pk)
    v = commitment.verifications.filter(pk=verification_pk).first()
    if v is None:
        raise Http404
    form = StatementForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            svc.verification_statement(
                actor=request.user, verification=v, text=form.cleaned_data["text"], files=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("陈述、申辩意见已提交。"))
            return redirect("commitment_detail", pk=commitment.pk)
    return _detail_page(request, commitment, statement_form=form, status=400)


@login_required
@require_POST
def follow_up_upload(request, pk: int):
    """容缺受理: the applicant hands in the documents to follow from the commitment's page."""
    commitment = sel.commitment_for(request.user, pk)
    form = FollowUpForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            follow_up_svc.commitment_follow_documents_upload(
                actor=request.user, commitment=commitment, uploads=form.cleaned_data["files"]
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("后补材料已提交。"))
            return redirect("commitment_detail", pk=commitment.pk)
    return _detail_page(request, commitment, follow_up_form=form, status=400)
