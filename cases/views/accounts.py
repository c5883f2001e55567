"""Registration, enterprise registration, 经办人 authorisation and the credit centre's review of 授权委托书
(issue 12, item 1). Thin: the services decide; these pages keep what was typed and show bilingual errors."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.accounts import (
    AgentGrantForm,
    AuthorisationReviewForm,
    ConfirmForm,
    EnterpriseRegisterForm,
    RegisterForm,
)
from cases.models import Subject, SubjectAuthorisation
from cases.selectors import accounts as sel
from cases.services import accounts as svc
from cases.services.privacy import personal_data_lookup_log
from config.ratelimit import over_limit

SESSION_PHONE = "registration_phone"
# Registration sends an SMS: at most this many per address per hour (SMS bombing, cost).
REGISTER_LIMIT = 10


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def register(request):
    if request.user.is_authenticated:
        return redirect("me")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if over_limit(scope="register", request=request, limit=REGISTER_LIMIT, window_seconds=3600):
            form.add_error(None, _("操作过于频繁，请稍后再试。"))
        else:
            d = form.cleaned_data
            svc.account_register(
                name=d["name"], id_number=d["id_number"], phone=d["phone"], password=d["password1"], email=d["email"]
            )
            request.session[SESSION_PHONE] = d["phone"]
            return redirect("register_confirm")
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


def register_confirm(request):
    phone = request.session.get(SESSION_PHONE, "")
    form = ConfirmForm(request.POST or None, initial={"phone": phone})
    if request.method == "POST" and form.is_valid():
        if over_limit(scope="register-confirm", request=request, limit=REGISTER_LIMIT * 3, window_seconds=3600):
            form.add_error(None, _("操作过于频繁，请稍后再试。"))
        else:
            user = svc.account_confirm(phone=form.cleaned_data["phone"], code=form.cleaned_data["code"])
            if user is None:
                form.add_error("code", _("验证码不正确或已失效，请核对短信，或返回注册页重新获取。"))
            else:
                request.session.pop(SESSION_PHONE, None)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("注册成功。身份关联结果已发送至“我的消息”。"))
                return redirect("me")
    return render(
        request,
        "accounts/register_confirm.html",
        {"form": form, "phone": phone, "minutes": settings.PHONE_CODE_MINUTES},
        status=400 if form.errors else 200,
    )


def _require_applicant(user):
    if not policy.is_applicant(user):
        raise PermissionDenied(_("只有申请人账户可以办理此事项。"))


@login_required
def enterprise_register(request):
    _require_applicant(request.user)
    form = EnterpriseRegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.enterprise_register(
                actor=request.user,
                uscc=d["uscc"],
                name=d["name"],
                capacity=d["capacity"],
                legal_representative=d["legal_representative"],
                attorney=d["attorney"] if d["capacity"] == "agent" else None,
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            # The same words whatever the outcome: the number's existence is not revealed here.
            messages.success(request, _("企业登记已提交，办理结果将以站内消息通知您。"))
            return redirect("me_messages")
    return render(request, "accounts/enterprise_register.html", {"form": form}, status=400 if form.errors else 200)


def _subject_for_legal_rep(user, pk: int) -> Subject:
    subject = get_object_or_404(Subject, pk=pk)
    if not policy.is_legal_representative(user, subject):
        raise Http404
    return subject


@login_required
def subject_agents(request, pk: int):
    subject = _subject_for_legal_rep(request.user, pk)
    form = AgentGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            auth = svc.agent_grant(
                actor=request.user,
                subject=subject,
                phone=d["phone"],
                name=d["name"],
                scope=d["scope"],
                valid_until=d["valid_until"],
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("已授权%(name)s为经办人。") % {"name": auth.user})
            return redirect("subject_agents", pk=subject.pk)
    return render(
        request,
        "accounts/agents.html",
        {"subject": subject, "form": form, "authorisations": sel.authorisations_of_subject(subject=subject)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def agent_revoke(request, pk: int, auth_pk: int):
    subject = _subject_for_legal_rep(request.user, pk)
    auth = get_object_or_404(SubjectAuthorisation, pk=auth_pk, subject=subject)
    try:
        svc.agent_revoke(actor=request.user, authorisation=auth)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已撤销%(name)s的经办人授权。") % {"name": auth.user})
    return redirect("subject_agents", pk=subject.pk)


# --- the credit centre ----------------------------------------------------------------------------------


def _require_reviewer(user):
    if not policy.can_review_authorisations(user):
        raise PermissionDenied(_("只有信用中心工作人员可以审核授权委托书。"))


@login_required
def review_list(request):
    _require_reviewer(request.user)
    return render(request, "accounts/review_list.html", {"pending": sel.authorisations_pending()})


@login_required
def review_detail(request, auth_pk: int):
    _require_reviewer(request.user)
    auth = get_object_or_404(sel.authorisations_pending(), pk=auth_pk)
    form = AuthorisationReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.authorisation_review(
                actor=request.user,
                authorisation=auth,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("审核结果已通知申请人。"))
            return redirect("authorisation_review_list")
    return render(
        request,
        "accounts/review_detail.html",
        {"auth": auth, "form": form, "attachments": sel.attorney_files(authorisation=auth)},
        status=400 if form.errors else 200,
    )


@login_required
def review_attachment(request, auth_pk: int, attachment_pk: int):
    _require_reviewer(request.user)
    auth = get_object_or_404(SubjectAuthorisation, pk=auth_pk)
    attachment = get_object_or_404(sel.attorney_files(authorisation=auth), pk=attachment_pk)
    # A power of attorney carries the agent's and the subject's personal data: a 查询使用登记 entry.
    personal_data_lookup_log(
        actor=request.user,
        subject=auth.subject,
        field="attachment",
        reason=gettext_lazy("审核授权委托书：%(name)s"),
        name=attachment.original_name,
    )
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
