"""政务失信 rectification pages, the supervisor's dashboard and officers' reminders. Thin: forms in, services
and selectors out."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy
from cases import supervision_selectors as sup
from cases.models import CaseActivity, Organisation, OrganisationDigest, Subject
from cases.models.rectification import LeadSource, RectificationCase, RectificationState
from cases.services import escalation
from cases.services import rectification as svc
from workflows import engine
from workflows.models import Clock
from workflows.procedures import PROCEDURES
from workflows.selectors import clock_status


# --- scoping -------------------------------------------------------------------------------------------------
def rectification_scope_q(user) -> Q:
    """Read-all roles see everything; a government body its own cases once substantiated (and leads
    forwarded to it for verification); a department the leads forwarded to it; a complainant its own."""
    if policy.reads_everything(user):
        return Q()
    if policy.is_applicant(user):
        return Q(applicant=user) | Q(complainant_subject__in=policy.active_authorisations(user).values("subject_id"))
    org = policy.acting_organisation_id(user)
    if org is None:
        return Q(pk__in=[])
    if policy.is_gov_body(user):
        return Q(handling_organisation_id=org, record__isnull=False) | Q(verifier_id=org)
    if policy.is_department(user):
        return Q(verifier_id=org)
    return Q(pk__in=[])


def _case(user, pk) -> RectificationCase:
    qs = RectificationCase.objects.filter(rectification_scope_q(user)).select_related(
        "subject", "handling_organisation", "credit_office", "verifier", "record", "applicant")
    case = qs.filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


# --- cases -----------------------------------------------------------------------------------------------------
@login_required
def case_list(request):
    cases = (RectificationCase.objects.filter(rectification_scope_q(request.user))
             .select_related("handling_organisation").order_by("-received_at", "-pk")[:200])
    return render(request, "rectification/list.html", {"cases": cases})


@login_required
def intake(request):
    user = request.user
    if not (policy.is_applicant(user) or policy.is_platform(user)):
        raise PermissionDenied
    bodies = Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT_BODY, is_active=True)
    subjects = (Subject.objects.filter(pk__in=policy.active_authorisations(user).values("subject_id"))
                if policy.is_applicant(user) else Subject.objects.none())
    sources = LeadSource.choices if policy.is_platform(user) else [
        (c, label) for c, label in LeadSource.choices if c in ("arrears", "contract", "promise")]
    errors = []
    if request.method == "POST":
        office = (Organisation.objects.filter(pk=policy.acting_organisation_id(user)).first()
                  if policy.is_platform(user)
                  else Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).first())
        try:
            case = svc.rectification_intake(
                actor=user, body=get_object_or_404(bodies, pk=request.POST.get("body")),
                source=request.POST.get("source", ""), summary=request.POST.get("summary", ""),
                facts=request.POST.get("facts", ""), credit_office=office,
                complainant_subject=subjects.filter(pk=request.POST.get("complainant") or 0).first(),
                complainant_name=request.POST.get("complainant_name", ""),
                sme_payment=bool(request.POST.get("sme_payment")))
            messages.success(request, _("已受理，办件编号%(n)s。") % {"n": case.tracking_number})
            return redirect("rectification_case", pk=case.pk)
        except ValidationError as exc:
            errors = _errors(exc)
    return render(request, "rectification/intake.html", {"bodies": bodies, "subjects": subjects,
                                                         "sources": sources, "errors": errors})


@login_required
def case_detail(request, pk):
    case = _case(request.user, pk)
    user = request.user
    clocks = Clock.objects.filter(content_type__model="rectificationcase", object_id=case.pk).order_by("started_at")
    context = {
        "case": case,
        "clocks": [clock_status(c) for c in clocks],
        "open_clocks": [c for c in clocks if c.stopped_at is None],
        "reports": case.reports.select_related("submitted_by"),
        "timeline": CaseActivity.objects.filter(content_type__model="rectificationcase", object_id=case.pk)
        .select_related("actor"),
        "escalations": sup.escalations_for_case(case),
        "is_body": svc.is_body_member(user, case),
        "is_office": policy.is_platform(user) and policy.acting_organisation_id(user) == case.credit_office_id,
        "may_verify": svc._may_record_verification(user, case),
        "may_escalate": policy.is_supervisor(user) or policy.is_platform(user),
        "steps": escalation.Step.choices,
        "verifiers": Organisation.objects.filter(is_active=True, kind__in=[
            Organisation.Kind.DEPARTMENT, Organisation.Kind.GOVERNMENT_BODY]).exclude(pk=case.handling_organisation_id),
        "S": RectificationState,
    }
    return render(request, "rectification/case.html", context)


@require_POST
@login_required
def case_act(request, pk, step):
    case = _case(request.user, pk)
    user, post = request.user, request.POST
    try:
        if step == "forward":
            svc.rectification_forward(actor=user, case=case,
                                      verifier=get_object_or_404(Organisation, pk=post.get("verifier") or 0))
        elif step == "verify":
            svc.rectification_verify(actor=user, case=case, substantiated=post.get("substantiated") == "1",
                                     reason=post.get("reason", ""), deadline=parse_date(post.get("deadline") or ""),
                                     requirements=post.get("requirements", ""))
        elif step == "plan":
            svc.rectification_submit_plan(actor=user, case=case, text=post.get("text", ""))
        elif step == "progress":
            svc.rectification_report_progress(actor=user, case=case, text=post.get("text", ""))
        elif step == "completion":
            svc.rectification_submit_completion(actor=user, case=case, text=post.get("text", ""))
        elif step == "check":
            svc.rectification_check_completion(actor=user, case=case, accepted=post.get("accepted") == "1",
                                               comment=post.get("comment", ""))
        elif step == "refuse":
            svc.rectification_confirm_refusal(actor=user, case=case, reason=post.get("reason", ""),
                                              consequences=post.get("consequences", ""))
        elif step == "escalate":
            clock = get_object_or_404(Clock, pk=post.get("clock") or 0, content_type__model="rectificationcase",
                                      object_id=case.pk)
            escalation.escalation_fire(actor=user, clock=clock, step=post.get("step", ""), note=post.get("note", ""))
        else:
            raise Http404
        messages.success(request, _("已办理。"))
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
    except engine.TaskConflict as conflict:  # a colleague finished the step first
        messages.error(request, str(conflict))
    return redirect("rectification_case", pk=case.pk)


# --- supervisor's dashboard ------------------------------------------------------------------------------------
def _require_supervisor(user):
    if not sup.may_supervise(user):
        raise PermissionDenied


def _bar(value: int, top: int, width: int = 320) -> int:
    return 0 if not top else max(2 if value else 0, round(width * value / top))


@login_required
def dashboard(request):
    _require_supervisor(request.user)
    now = timezone.now()
    rows = sup.by_organisation(now=now)
    totals = sup.totals(rows)
    top = max([r.open for r in rows] or [0])
    bars = [{"row": r, "open_w": _bar(r.open, top), "overdue_w": _bar(r.overdue, top)} for r in rows[:25]]
    buckets = []
    for code, p in totals["procedures"].items():
        for key, label, *_rest in sup.BUCKETS:
            buckets.append({"procedure": code, "plabel": p["label"], "key": key, "label": label,
                            "n": p["buckets"][key]})
    btop = max([b["n"] for b in buckets] or [0])
    for b in buckets:
        b["w"] = _bar(b["n"], btop, 240)
    clearing = sup.clearing()
    ctop = max([m["count"] for m in clearing] or [0])
    for i, m in enumerate(clearing):
        m["h"] = _bar(m["count"], ctop, 120)
        m["x"] = 10 + i * 40
        m["y"] = 130 - m["h"]
    districts = [{"name": k, **v, "w": _bar(v["open"], max([d["open"] for d in totals["districts"].values()] or [0]))}
                 for k, v in totals["districts"].items()]
    return render(request, "rectification/dashboard.html", {
        "bars": bars, "totals": totals, "buckets": buckets, "clearing": clearing, "growth": sup.growth(),
        "time_used": sup.time_used(), "districts": districts, "bucket_defs": sup.BUCKETS,
        "procedures": PROCEDURES})


@login_required
def drilldown(request):
    _require_supervisor(request.user)
    procedure = PROCEDURES.get(request.GET.get("procedure", ""))
    if procedure is None:
        raise Http404
    org = request.GET.get("organisation")
    cases = sup.drilldown(procedure=procedure, organisation=int(org) if org and org.isdigit() else None,
                          district=request.GET.get("district"), overdue=request.GET.get("overdue") == "1",
                          bucket=request.GET.get("bucket"))[:500]
    return render(request, "rectification/drilldown.html", {"procedure": procedure, "cases": cases,
                                                             "now": timezone.now()})


def _export_rows():
    header = [_("办理事项"), _("机构"), _("区县"), _("未办结"), _("已逾期"), *[str(label) for _k, label, *_r in sup.BUCKETS]]
    return header, [r.as_list() for r in sup.by_organisation()]


@login_required
def export(request, fmt):
    _require_supervisor(request.user)
    header, rows = _export_rows()
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(rows)
        response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="supervision-{stamp}.csv"'
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "overdue"
        ws.append(header)
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(out.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="supervision-{stamp}.xlsx"'
        return response
    raise Http404


# --- officers' reminders --------------------------------------------------------------------------------------
@login_required
def reminders(request):
    if not policy.is_staff_member(request.user):
        raise PermissionDenied
    lists = sup.my_clocks(user=request.user)
    org = policy.acting_organisation_id(request.user)
    digests = OrganisationDigest.objects.filter(organisation_id=org)[:7] if org else []
    cutoff = timezone.localdate() - dt.timedelta(days=0)
    return render(request, "rectification/reminders.html", {
        "overdue": [clock_status(c) for c in lists["overdue"]], "due_soon": [clock_status(c) for c in lists["due_soon"]],
        "digests": digests, "today": cutoff})
