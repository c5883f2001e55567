"""双公示 intake pages for departments: enter a decision, import a file, correct or revoke an own record.
Thin: cases.services.disclosure writes, cases.selectors reads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases.forms.disclosure import RecordCorrectForm, RecordImportForm, RecordIntakeForm, RecordRevokeForm
from cases.selectors import disclosure as selectors
from cases.selectors.records import record_get_for_user
from cases.services import disclosure as svc


def _require_department(user):
    if not policy.is_department(user) or policy.acting_organisation_id(user) is None:
        raise PermissionDenied


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


@login_required
def intake(request):
    _require_department(request.user)
    form = RecordIntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = svc.record_intake(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("决定信息已报送，双公示时限见下方。"))
            return redirect("record_detail", pk=record.pk)
    return render(
        request,
        "disclosure/intake.html",
        {"form": form, "import_form": RecordImportForm(), "recent": selectors.department_intakes(user=request.user)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_file(request):
    _require_department(request.user)
    form = RecordImportForm(request.POST or None, request.FILES or None)
    row_errors = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = svc.records_import(actor=request.user, uploaded=form.cleaned_data["file"])
            except svc.ImportRefused as exc:
                row_errors = exc.row_errors
                form.add_error(None, exc.messages[0])
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                messages.success(request, _("已导入%(n)d条决定信息。") % {"n": len(created)})
                return redirect("disclosure_intake")
    return render(
        request,
        "disclosure/import.html",
        {"form": form, "row_errors": row_errors, "headers": svc.TEMPLATE_HEADERS},
        status=status,
    )


def _own_record(request, pk):
    _require_department(request.user)
    record = record_get_for_user(user=request.user, pk=pk)  # 404 outside the department's scope
    if record.provider_id != policy.acting_organisation_id(request.user):
        raise PermissionDenied
    return record


@login_required
def correct(request, pk: int):
    record = _own_record(request, pk)
    initial = {
        f: getattr(record, f)
        for f in ("title", "decision_number", "decision_date", "severity", "legal_basis", "content")
    }
    form = RecordCorrectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = {k: v for k, v in data.items() if v != initial.get(k)}
        try:
            svc.record_correct(actor=request.user, record=record, changes=changes, reason=reason)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已更正，并将更正后的信息报送信用平台。"))
            return redirect("record_detail", pk=record.pk)
    return render(
        request,
        "disclosure/correct.html",
        {"form": form, "record": record},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def revoke(request, pk: int):
    record = _own_record(request, pk)
    form = RecordRevokeForm(request.POST)
    if form.is_valid():
        try:
            svc.record_revoke_by_provider(actor=request.user, record=record, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已撤销该信息，并于1个工作日内报送信用平台。"))
            return redirect("record_detail", pk=record.pk)
    return render(request, "disclosure/revoke.html", {"form": form, "record": record}, status=400)
