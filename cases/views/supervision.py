"""The supervisor's dashboard across every procedure, its drill-down and exports, and officers' reminders.
Thin: cases.selectors.supervision reads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import OrganisationDigest
from cases.selectors import disclosure as disclosure_selectors
from cases.selectors import statistics as stats_selectors
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
            "late_publications": disclosure_selectors.late_publications(now=now),
            # The same rows the public statistics page shows (/public/statistics/).
            "timeliness": stats_selectors.lateness_statistics(),
            "districts": districts,
            "bucket_defs": sup.BUCKETS,
            "procedures": PROCEDURES,
            "satisfaction": satisfaction_table(),
        },
    )


DRILL_PAGE_SIZE = 100


@login_required
def drilldown(request):
    _require_supervisor(request.user)
    procedure = PROCEDURES.get(request.GET.get("procedure", ""))
    if procedure is None:
        raise Http404
    org = request.GET.get("organisation")
    now = timezone.now()
    which = {
        "procedure": procedure,
        "now": now,
        "organisation": int(org) if org and org.isdigit() else None,
        "district": request.GET.get("district"),
        "overdue": request.GET.get("overdue") == "1",
        "bucket": request.GET.get("bucket"),
    }
    cases = sup.drilldown(**which)
    order = sup.drilldown_order(**which)
    # Every case behind the number, a page at a time (the number on the dashboard is the paginator's count):
    # the page's ids in order first, then those cases whole.
    page = Paginator(cases if order is None else order, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    if order is not None:
        ids = list(page.object_list)
        found = {case.pk: case for case in cases.filter(pk__in=ids)} if ids else {}
        page.object_list = [found[pk] for pk in ids if pk in found]
    return render(
        request,
        "supervision/drilldown.html",
        {"procedure": procedure, "cases": page.object_list, "page": page, "now": now},
    )


@dataclass
class Table:
    key: str
    title: str
    header: list
    rows: list


def dashboard_tables(now=None) -> list[Table]:
    """Every table of the dashboard, as the exports carry them (one sheet each). The first is the table by
    organisation, which the CSV export gives by default."""
    now = now or timezone.now()
    rows = sup.by_organisation(now=now)
    totals = sup.totals(rows)
    bucket_labels = [str(label) for _k, label, *_r in sup.BUCKETS]
    growth = sup.growth()
    time_used = sup.time_used()
    return [
        Table(
            "by_organisation",
            _("按机构"),
            [_("办理事项"), _("机构"), _("区县"), _("未办结"), _("已逾期"), *bucket_labels],
            [r.as_list() for r in rows],
        ),
        Table(
            "by_procedure",
            _("按办理事项"),
            [_("办理事项"), _("未办结"), _("已逾期"), *bucket_labels],
            [[p["label"], p["open"], p["overdue"], *p["buckets"].values()] for p in totals["procedures"].values()],
        ),
        Table(
            "by_district",
            _("按区县"),
            [_("区县"), _("未办结"), _("已逾期")],
            [[name or _("未标注"), d["open"], d["overdue"]] for name, d in totals["districts"].items()],
        ),
        Table(
            "clearing",
            _("政务失信清零"),
            [_("月末"), _("未整改到位（件）")],
            [[m["month"].isoformat(), m["count"]] for m in sup.clearing()],
        ),
        Table(
            "growth",
            _("零增长"),
            [_("年度"), _("本年至今新增（件）"), _("上年同期（件）"), _("上年全年（件）"), _("实现零增长")],
            [
                [
                    growth["year"],
                    growth["this_year"],
                    growth["last_year_to_date"],
                    growth["last_year"],
                    _("是") if growth["zero_growth"] else _("否"),
                ]
            ],
        ),
        Table(
            "time_by_stage",
            _("办理用时（按环节）"),
            [_("环节"), _("平均用时（天）"), _("件数")],
            [[s["label"], s["days"], s["n"]] for s in time_used["stages"]],
        ),
        Table(
            "time_by_organisation",
            _("办理用时（按机构）"),
            [_("机构"), _("平均用时（天）"), _("件数")],
            [[o["name"], o["days"], o["n"]] for o in time_used["organisations"]],
        ),
        Table(
            "timeliness",
            _("办理时效"),
            [_("机构"), _("办理事项"), _("办结数（件）"), _("法定时限内办结占比（百分比）"), _("用时中位数（工作日）")],
            [r.as_list() for r in stats_selectors.lateness_statistics()],
        ),
        Table(
            "late_publications",
            _("双公示报送及时性"),
            [
                _("机构"),
                _("报送决定数（件）"),
                _("按时报送（件）"),
                _("逾期报送（件）"),
                _("逾期未报送（件）"),
                _("迟报率（百分比）"),
            ],
            [r.as_list() for r in disclosure_selectors.late_publications(now=now)],
        ),
    ]


def _sheet_title(title: str, used: set) -> str:
    # Excel: at most 31 characters, none of []:*?/\, unique in the workbook.
    clean = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "sheet"
    name, n = clean, 2
    while name in used:
        name = f"{clean[:28]}({n})"
        n += 1
    used.add(name)
    return name


@login_required
def export(request, fmt):
    _require_supervisor(request.user)
    tables = dashboard_tables()
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        # A CSV file holds one table: the table by organisation unless ?table= names another.
        wanted = request.GET.get("table", tables[0].key)
        table = next((t for t in tables if t.key == wanted), None)
        if table is None:
            raise Http404
        buf = io.StringIO()
        buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
        writer = csv.writer(buf)
        writer.writerow([str(h) for h in table.header])
        writer.writerows(table.rows)
        response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="supervision-{table.key}-{stamp}.csv"'
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.remove(wb.active)
        used: set = set()
        for table in tables:
            ws = wb.create_sheet(_sheet_title(table.title, used))
            ws.append([str(h) for h in table.header])
            for row in table.rows:
                ws.append(list(row))
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
    cases = sup.cases_of_clocks([*lists["overdue"], *lists["due_soon"]])
    org = policy.acting_organisation_id(request.user)
    digests = OrganisationDigest.objects.filter(organisation_id=org)[:7] if org else []
    cutoff = timezone.localdate() - dt.timedelta(days=0)
    return render(
        request,
        "supervision/reminders.html",
        {
            # Each entry names its case (办件编号, subject, procedure) and links to it.
            "overdue": [(clock_status(c), cases.get(c.pk)) for c in lists["overdue"]],
            "due_soon": [(clock_status(c), cases.get(c.pk)) for c in lists["due_soon"]],
            "digests": digests,
            "today": cutoff,
        },
    )
