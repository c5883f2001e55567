"""The supervisor's dashboard across every procedure, its drill-down and exports, and officers' reminders.
Thin: cases.selectors.supervision reads."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import OrganisationDigest
from cases.selectors import supervision as sup
from cases.selectors.ratings import satisfaction_table
from workflows.procedures import PROCEDURES
from workflows.selectors import clock_status


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
            buckets.append(
                {"procedure": code, "plabel": p["label"], "key": key, "label": label, "n": p["buckets"][key]}
            )
    btop = max([b["n"] for b in buckets] or [0])
    for b in buckets:
        b["w"] = _bar(b["n"], btop, 240)
    clearing = sup.clearing()
    ctop = max([m["count"] for m in clearing] or [0])
    for i, m in enumerate(clearing):
        m["h"] = _bar(m["count"], ctop, 120)
        m["x"] = 10 + i * 40
        m["y"] = 130 - m["h"]
    districts = [
        {"name": k, **v, "w": _bar(v["open"], max([d["open"] for d in totals["districts"].values()] or [0]))}
        for k, v in totals["districts"].items()
    ]
    return render(
        request,
        "supervision/dashboard.html",
        {
            "bars": bars,
            "totals": totals,
            "buckets": buckets,
            "clearing": clearing,
            "growth": sup.growth(),
            "time_used": sup.time_used(),
            "districts": districts,
            "bucket_defs": sup.BUCKETS,
            "procedures": PROCEDURES,
            "satisfaction": satisfaction_table(),
        },
    )


@login_required
def drilldown(request):
    _require_supervisor(request.user)
    procedure = PROCEDURES.get(request.GET.get("procedure", ""))
    if procedure is None:
        raise Http404
    org = request.GET.get("organisation")
    cases = sup.drilldown(
        procedure=procedure,
        organisation=int(org) if org and org.isdigit() else None,
        district=request.GET.get("district"),
        overdue=request.GET.get("overdue") == "1",
        bucket=request.GET.get("bucket"),
    )[:500]
    return render(
        request, "supervision/drilldown.html", {"procedure": procedure, "cases": cases, "now": timezone.now()}
    )


def _export_rows():
    header = [
        _("办理事项"),
        _("机构"),
        _("区县"),
        _("未办结"),
        _("已逾期"),
        *[str(label) for _k, label, *_r in sup.BUCKETS],
    ]
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
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
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
    return render(
        request,
        "supervision/reminders.html",
        {
            "overdue": [clock_status(c) for c in lists["overdue"]],
            "due_soon": [clock_status(c) for c in lists["due_soon"]],
            "digests": digests,
            "today": cutoff,
        },
    )
