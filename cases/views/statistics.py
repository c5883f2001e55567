"""Public lateness statistics: no login, no personal data (only organisations and counts)."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.selectors import statistics as selectors


def _header() -> list[str]:
    return [_("机构"), _("办理事项"), _("办结数（件）"), _("法定时限内办结占比（百分比）"), _("用时中位数（工作日）")]


@require_GET
def public_statistics(request):
    rows = selectors.lateness_statistics()
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statistics-{timezone.localdate().isoformat()}.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 Chinese only with a BOM
        writer = csv.writer(response)
        writer.writerow(_header())
        writer.writerows(r.as_list() for r in rows)
        return response
    return render(
        request,
        "public/statistics.html",
        {"rows": rows, "totals": selectors.statistics_totals(rows), "today": timezone.localdate()},
    )
