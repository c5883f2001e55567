"""Public lateness statistics (the Alaveteli/Froide practice: publish how each authority keeps its limits).

Per organisation and procedure: how many legal limits it finished (a decision, a check, a plan — each step the
law times), the share finished within the limit, and the median working days taken. Built from the same
aggregate the supervisor's dashboard uses for 办理用时: the legal clocks of every registered procedure that
have ended. Only organisations and counts leave this module: no case, subject or person.

The database groups the ended clocks by (organisation, procedure, start day, end day); working days between
two days come from the calendar's precomputed table, so the cost grows with the number of distinct day pairs,
not with the number of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from cases.models import Organisation, SupervisionLateness
from cases.portable_sql import any_of
from workflows.calendar import LEGAL_TZ, get_calendar
from workflows.models import Clock
from workflows.procedures import PROCEDURES


@dataclass
class StatRow:
    organisation: str
    kind: str
    procedure: str
    procedure_label: str
    decided: int = 0
    within_limit: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # working days taken → count

    @property
    def within_share(self) -> float | None:
        return round(100 * self.within_limit / self.decided, 1) if self.decided else None

    @property
    def median_working_days(self) -> float | None:
        return _median(self.histogram)

    def as_list(self) -> list:
        return [self.organisation, self.procedure_label, self.decided, self.within_share, self.median_working_days]


def _median(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen, lower = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > upper_rank:
            return (lower + value) / 2
    return float(lower)


def lateness_statistics(*, since: dt.date | None = None) -> list[StatRow]:
    """One row per organisation and procedure with at least one ended legal limit (optionally only the
    limits that ended on or after ``since``), from the dashboard summary (cases.models.supervision), which
    keeps the ended legal clocks' counts per organisation × case type × start day × end day."""
    cal = get_calendar()
    cts = {ContentType.objects.get_for_model(p.model).pk: p for p in PROCEDURES.values() if p.clock_purposes}
    if not cts:
        return []
    params: dict = {}
    where = f"content_type_id {any_of('cts', list(cts), params)}"
    if since is not None:
        where += " AND end_day >= %(since)s"
        params["since"] = since
    keys = ("organisation_id", "content_type_id", "start_date", "end_day", "n", "on_time")
    # Bare SQL: the rows are read once into plain dicts, as many as there are day pairs.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT organisation_id, content_type_id, start_date, end_day, sum(n), sum(on_time) "
            f"FROM {SupervisionLateness._meta.db_table} WHERE {where} "
            f"GROUP BY organisation_id, content_type_id, start_date, end_day",
            params,
        )
        # PostgreSQL's sum of bigint is numeric: counts go back to int.
        grouped = [dict(zip(keys, (*row[:4], int(row[4]), int(row[5])), strict=True)) for row in cursor.fetchall()]
    if connection.vendor == "sqlite":  # dates come back as text there
        for g in grouped:
            g["start_date"] = dt.date.fromisoformat(str(g["start_date"]))
            g["end_day"] = dt.date.fromisoformat(str(g["end_day"])) if g["end_day"] else None
    return _rows(cal, cts, grouped)


def _rows(cal, cts, grouped) -> list[StatRow]:
    grouped = [g for g in grouped if g["n"]]
    orgs = {
        pk: (name, kind)
        for pk, name, kind in Organisation.objects.filter(pk__in={g["organisation_id"] for g in grouped}).values_list(
            "pk", "name", "kind"
        )
    }
    kinds = {value: str(label) for value, label in Organisation.Kind.choices}  # one catalog lookup per kind
    labels = {ct: str(p.label) for ct, p in cts.items()}
    rows: dict[tuple[int, int], StatRow] = {}
    for g in grouped:
        key = (g["organisation_id"], g["content_type_id"])
        row = rows.get(key)
        if row is None:
            name, kind = orgs[g["organisation_id"]]
            row = rows[key] = StatRow(name, kinds.get(kind, kind), cts[key[1]].code, labels[key[1]])
        row.decided += g["n"]
        row.within_limit += g["on_time"]
        taken = max(0, cal.working_days_between(g["start_date"], g["end_day"])) if g["end_day"] else 0
        row.histogram[taken] = row.histogram.get(taken, 0) + g["n"]
    return sorted(rows.values(), key=lambda r: (r.procedure, -r.decided, r.organisation))


def lateness_statistics_direct(*, since: dt.date | None = None) -> list[StatRow]:
    """The same rows grouped from the clocks themselves (what the summary is checked against)."""
    cal = get_calendar()
    cts = {ContentType.objects.get_for_model(p.model).pk: p for p in PROCEDURES.values() if p.clock_purposes}
    purposes = [purpose for p in cts.values() for purpose in p.clock_purposes]
    qs = Clock.objects.filter(
        kind=Clock.Kind.LEGAL,
        stopped_at__isnull=False,
        organisation__isnull=False,
        purpose__in=purposes,
        content_type_id__in=list(cts),
    )
    if since is not None:
        qs = qs.filter(stopped_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=LEGAL_TZ))
    grouped = (
        qs.annotate(end_day=TruncDate("stopped_at", tzinfo=LEGAL_TZ))
        .values("organisation_id", "content_type_id", "start_date", "end_day")
        .annotate(n=Count("pk"), on_time=Count("pk", filter=Q(due_at__isnull=True) | Q(stopped_at__lte=F("due_at"))))
        .order_by()
    )
    return _rows(cal, cts, grouped)


def statistics_totals(rows: list[StatRow]) -> list[StatRow]:
    """Per procedure, every organisation together."""
    totals: dict[str, StatRow] = {}
    for r in rows:
        t = totals.setdefault(r.procedure, StatRow("", "", r.procedure, r.procedure_label))
        t.decided += r.decided
        t.within_limit += r.within_limit
        for value, n in r.histogram.items():
            t.histogram[value] = t.histogram.get(value, 0) + n
    return list(totals.values())
