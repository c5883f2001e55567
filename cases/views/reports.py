"""/me/report/: the applicant's free credit reports (issue 12 item 7). Thin: cases.selectors.reports reads,
cases.services.reports writes; the PDF is a notice, served by the notices app (number, verification)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import CreditReport
from cases.selectors import reports as sel
from cases.services import reports as svc
from cases.views.me import Section, register_section
from notices.selectors import notice_list_for_user
from workflows import rules


def _page(request, *, error: str = "", chosen: str = "", status: int = 200):
    subjects = list(sel.report_subjects_for_user(user=request.user))
    year = timezone.localdate().year
    try:
        free = int(rules.rule_param(rules.ruleset_in_force(timezone.now()), rules.REPORT_FREE_PER_YEAR))
    except (rules.NoRuleSetInForce, rules.RuleParameterMissing):
        free = 0
    reports = sel.reports_for_subjects(subject_ids=[s.pk for s in subjects])
    notices = {
        n.object_id: n
        for n in notice_list_for_user(user=request.user).filter(
            content_type=ContentType.objects.get_for_model(CreditReport), object_id__in=[r.pk for r in reports]
        )
    }
    used = {}
    for r in reports:
        if r.year == year:
            used[r.subject_id] = used.get(r.subject_id, 0) + 1
    rows = [{"subject": s, "used": used.get(s.pk, 0), "left": max(free - used.get(s.pk, 0), 0)} for s in subjects]
    return render(
        request,
        "reports/me_report.html",
        {
            "rows": rows,
            "reports": [{"report": r, "notice": notices.get(r.pk)} for r in reports],
            "free": free,
            "year": year,
            "request_key": uuid.uuid4().hex,
            "error": error,
            "chosen": chosen or request.GET.get("subject", ""),
        },
        status=status,
    )


@login_required
def me_report(request):
    if not policy.is_applicant(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return _page(request)
    chosen = request.POST.get("subject", "")
    subject = sel.report_subjects_for_user(user=request.user).filter(pk=chosen).first() if chosen.isdigit() else None
    if subject is None:
        return _page(request, error=_("请选择您有权代表的信用主体。"), chosen=chosen, status=400)
    try:
        report = svc.credit_report_request(
            actor=request.user, subject=subject, request_key=request.POST.get("request_key", "")
        )
    except svc.ReportError as error:
        return _page(request, error=" ".join(error.messages), chosen=chosen, status=400)
    messages.success(
        request,
        _("已为%(name)s出具%(year)d年度第%(n)d份免费信用报告，可在下方查看和下载。")
        % {"name": subject.name, "year": report.year, "n": report.ordinal},
    )
    return redirect("me_report")


def _me_section_context(request) -> dict:
    subjects = list(sel.report_subjects_for_user(user=request.user))
    year = timezone.localdate().year
    used = sel.reports_this_year_by_subject(subject_ids=[s.pk for s in subjects], year=year)
    return {"report_subjects": [{"subject": s, "used": used.get(s.pk, 0)} for s in subjects], "year": year}


# The personal centre's credit-report box (cases.views.me lists sections; this one is ours).
register_section(Section("credit_report", "reports/_me_section.html", _me_section_context, order=50))
