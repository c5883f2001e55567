"""The supervisor's dashboard across every procedure (PROCEDURES.md §4 "Supervision"), and officers' own
due-soon/overdue lists.

The dashboard's figures are read from the summary tables (cases.models.supervision, kept by the triggers of
cases/services/supervision_summary.py): a few hundred rows instead of a million cases (issue 15 item 3). The
``*_direct`` functions compute the same figures from the cases and clocks themselves — one SQL aggregate per
procedure (GROUP BY with FILTER) — and are what the summary is checked against (tests, bench). Procedures come
from workflows.procedures.PROCEDURES, so a procedure registered later appears without a change here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Min, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import policy
from cases.models import Organisation, SupervisionClearing, SupervisionOpen, SupervisionTimeUsed
from cases.models.rectification import RectificationCase
from cases.portable_sql import any_of, moment
from workflows.models import Clock
from workflows.procedures import PROCEDURES, Procedure

# Overdue ageing, in calendar days past the due moment of the oldest overdue legal clock.
BUCKETS = (
    ("1-7", _("1–7天"), 0, 7),
    ("8-30", _("8–30天"), 7, 30),
    ("31-90", _("31–90天"), 30, 90),
    ("90+", _("90天以上"), 90, None),
)


def may_supervise(user) -> bool:
    return policy.reads_everything(user)


def _overdue_clocks(procedure: Procedure, now: dt.datetime):
    ct = ContentType.objects.get_for_model(procedure.model)
    return Clock.objects.filter(
        content_type=ct,
        object_id=OuterRef("pk"),
        stopped_at__isnull=True,
        is_paused=False,
        kind=Clock.Kind.LEGAL,
        purpose__in=procedure.clock_purposes,
        due_at__lt=now,
    )


def open_cases(procedure: Procedure, *, now: dt.datetime, user=None):
    """Open cases of ``procedure`` annotated with ``oldest_due`` (the oldest overdue legal clock, or None)."""
    qs = procedure.model.objects.filter(state__in=procedure.open_states)
    if user is not None:
        qs = qs.filter(policy.case_scope_q(user))
    # An aggregate, not ORDER BY due_at LIMIT 1: the latter tempts the planner to walk the due_at index for
    # every case instead of looking up the case's own clocks.
    oldest = _overdue_clocks(procedure, now).order_by().values("object_id").annotate(m=Min("due_at")).values("m")
    return qs.annotate(oldest_due=Subquery(oldest))


def _bucket_q(now, lo, hi) -> Q:
    q = Q(oldest_due__lte=now - dt.timedelta(days=lo)) if lo else Q(oldest_due__isnull=False)
    if hi is not None:
        q &= Q(oldest_due__gt=now - dt.timedelta(days=hi))
    return q


@dataclass
class Row:
    procedure: str
    procedure_label: str
    organisation_id: int | None
    organisation: str
    district: str
    open: int
    overdue: int
    buckets: dict

    def as_list(self) -> list:
        return [
            self.procedure_label,
            self.organisation,
            self.district,
            self.open,
            self.overdue,
            *[self.buckets[key] for key, *_ in BUCKETS],
        ]


_BY_ORGANISATION = """
SELECT k.handling_organisation_id, o.name, o.district, count(*) AS open,
       count(*) FILTER (WHERE od.oldest IS NOT NULL) AS overdue{buckets}
FROM {case_table} k
JOIN {org_table} o ON o.id = k.handling_organisation_id
LEFT JOIN (SELECT c.object_id, min(c.due_at) AS oldest
           FROM {clock_table} c
           WHERE c.content_type_id = %(ct)s AND c.stopped_at IS NULL AND c.is_paused = false AND c.kind = 'legal'
             AND c.purpose {purposes} AND c.due_at < %(now)s
           GROUP BY c.object_id) od ON od.object_id = k.id
WHERE k.state {states}
GROUP BY k.handling_organisation_id, o.name, o.district
"""


def by_organisation_sql(procedure: Procedure, now: dt.datetime) -> tuple[str, dict]:
    """The heaviest query of the dashboard, one per procedure: the overdue clocks are aggregated once per
    case through the partial index on open clocks (a hash join), then GROUP BY organisation with a FILTER
    per figure — instead of a correlated subquery evaluated once per figure and case."""
    buckets, params = [], {}
    for i, (_key, _label, lo, hi) in enumerate(BUCKETS):
        cond = [f"od.oldest <= %(lo{i})s"]
        params[f"lo{i}"] = moment(now - dt.timedelta(days=lo))
        if hi is not None:
            cond.append(f"od.oldest > %(hi{i})s")
            params[f"hi{i}"] = moment(now - dt.timedelta(days=hi))
        buckets.append(f",\n       count(*) FILTER (WHERE {' AND '.join(cond)}) AS b{i}")
    # portable_sql: arrays and moments as the database takes them, so the embedded SQLite of `make demo` runs
    # the same statement.
    purposes = any_of("purposes", procedure.clock_purposes, params)
    states = any_of("states", procedure.open_states, params)
    sql = _BY_ORGANISATION.format(
        buckets="".join(buckets),
        case_table=procedure.model._meta.db_table,
        org_table=Organisation._meta.db_table,
        clock_table=Clock._meta.db_table,
        purposes=purposes,
        states=states,
    )
    params.update(ct=ContentType.objects.get_for_model(procedure.model).pk, now=moment(now))
    return sql, params


def by_organisation_direct(*, now: dt.datetime | None = None) -> list[Row]:
    """Open and overdue cases and overdue ageing per procedure × organisation (with its district), from the
    cases and clocks."""
    now = now or timezone.now()
    rows: list[Row] = []
    with connection.cursor() as cursor:
        for procedure in PROCEDURES.values():
            sql, params = by_organisation_sql(procedure, now)
            cursor.execute(sql, params)
            for org_id, name, district, n_open, n_overdue, *bucket_counts in cursor.fetchall():
                rows.append(
                    Row(
                        procedure.code,
                        str(procedure.label),
                        org_id,
                        name,
                        district or "",
                        n_open,
                        n_overdue,
                        {key: n for (key, *_r), n in zip(BUCKETS, bucket_counts, strict=True)},
                    )
                )
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.organisation))
    return rows


def totals(rows: list[Row]) -> dict:
    by_proc: dict[str, dict] = {}
    for code, procedure in PROCEDURES.items():
        by_proc[code] = {
            "label": str(procedure.label),
            "open": 0,
            "overdue": 0,
            "buckets": {key: 0 for key, *_ in BUCKETS},
        }
    by_district: dict[str, dict] = {}
    for r in rows:
        p = by_proc[r.procedure]
        p["open"] += r.open
        p["overdue"] += r.overdue
        for key in p["buckets"]:
            p["buckets"][key] += r.buckets[key]
        d = by_district.setdefault(r.district, {"open": 0, "overdue": 0})
        d["open"] += r.open
        d["overdue"] += r.overdue
    return {
        "procedures": by_proc,
        "districts": dict(sorted(by_district.items(), key=lambda kv: -kv[1]["overdue"])),
        "open": sum(p["open"] for p in by_proc.values()),
        "overdue": sum(p["overdue"] for p in by_proc.values()),
    }


def _month_ends(today: dt.date, n: int) -> list[dt.date]:
    ends = []
    first = today.replace(day=1)
    for _i in range(n):
        ends.append(first - dt.timedelta(days=1))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return [today, *ends[: n - 1]][::-1]


def clearing_direct(*, today: dt.date | None = None, months: int = 12) -> list[dict]:
    """清零: outstanding 政务失信 cases (substantiated, not yet closed or refused) at each month end, one
    query with a FILTER per month."""
    today = today or timezone.localdate()
    ends = _month_ends(today, months)
    aggregates = {}
    for i, end in enumerate(ends):
        moment = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
        aggregates[f"m{i}"] = Count(
            "pk", filter=Q(verified_at__lt=moment) & (Q(closed_at__isnull=True) | Q(closed_at__gte=moment))
        )
    data = RectificationCase.objects.filter(record__isnull=False).aggregate(**aggregates)
    return [{"month": end, "count": data[f"m{i}"]} for i, end in enumerate(ends)]


def growth_direct(*, today: dt.date | None = None) -> dict:
    """零增长: new 政务失信 cases (substantiated) this year to date vs the same period last year and all of it."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    y0 = dt.datetime(today.year, 1, 1, tzinfo=tz)
    ly0 = dt.datetime(today.year - 1, 1, 1, tzinfo=tz)
    same_day = dt.datetime.combine(
        today.replace(year=today.year - 1)
        if not (today.month == 2 and today.day == 29)
        else today.replace(year=today.year - 1, day=28),
        dt.time.max,
        tzinfo=tz,
    )
    data = RectificationCase.objects.filter(record__isnull=False).aggregate(
        this_year=Count("pk", filter=Q(verified_at__gte=y0)),
        last_year_to_date=Count("pk", filter=Q(verified_at__gte=ly0, verified_at__lte=same_day)),
        last_year=Count("pk", filter=Q(verified_at__gte=ly0, verified_at__lt=y0)),
    )
    data["year"] = today.year
    data["zero_growth"] = data["this_year"] <= data["last_year_to_date"]
    return data


def time_used_direct(*, limit: int = 30) -> dict:
    """Average time consumed per organisation and per stage, from the legal clocks that have ended
    (every procedure's registered purposes), in days."""
    purposes = [p for proc in PROCEDURES.values() for p in proc.clock_purposes]
    took = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    base = Clock.objects.filter(purpose__in=purposes, stopped_at__isnull=False).order_by()
    per_org = (
        base.values("organisation_id", "organisation__name")
        .annotate(avg=Avg(took), n=Count("pk"))
        .order_by("-avg")[:limit]
    )
    per_stage = base.values("purpose", "label").annotate(avg=Avg(took), n=Count("pk")).order_by("purpose")

    def days(value):
        return round(value.total_seconds() / 86400, 1) if value is not None else None

    return {
        "organisations": [
            {"id": r["organisation_id"], "name": r["organisation__name"] or "-", "days": days(r["avg"]), "n": r["n"]}
            for r in per_org
        ],
        "stages": [
            {"purpose": r["purpose"], "label": r["label"], "days": days(r["avg"]), "n": r["n"]} for r in per_stage
        ],
    }


# --- the same figures from the summary -----------------------------------------------------------------------
_SUMMARY_BY_ORGANISATION = """
SELECT s.procedure, s.organisation_id, o.name, o.district, sum(s.n) AS open,
       coalesce(sum(s.n) FILTER (WHERE s.oldest_due < %(now)s), 0) AS overdue{buckets}
FROM {summary} s
JOIN {org_table} o ON o.id = s.organisation_id
GROUP BY s.procedure, s.organisation_id, o.name, o.district
HAVING sum(s.n) <> 0
"""


def summary_by_organisation_sql(now: dt.datetime) -> tuple[str, dict]:
    """The whole table by organisation in one statement over the summary: every open case is counted at the due
    moment of its oldest running legal clock, so *overdue* and the ageing buckets are comparisons with now."""
    buckets, params = [], {"now": moment(now)}
    for i, (_key, _label, lo, hi) in enumerate(BUCKETS):
        cond = ["s.oldest_due < %(now)s", f"s.oldest_due <= %(lo{i})s"]
        params[f"lo{i}"] = moment(now - dt.timedelta(days=lo))
        if hi is not None:
            cond.append(f"s.oldest_due > %(hi{i})s")
            params[f"hi{i}"] = moment(now - dt.timedelta(days=hi))
        buckets.append(f",\n       coalesce(sum(s.n) FILTER (WHERE {' AND '.join(cond)}), 0) AS b{i}")
    sql = _SUMMARY_BY_ORGANISATION.format(
        buckets="".join(buckets), summary=SupervisionOpen._meta.db_table, org_table=Organisation._meta.db_table
    )
    return sql, params


def by_organisation(*, now: dt.datetime | None = None) -> list[Row]:
    """Open and overdue cases and overdue ageing per procedure × organisation (with its district)."""
    now = now or timezone.now()
    order = {code: i for i, code in enumerate(PROCEDURES)}
    sql, params = summary_by_organisation_sql(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows: list[Row] = []
    for code, org_id, name, district, n_open, n_overdue, *bucket_counts in sorted(
        (r for r in fetched if r[0] in order), key=lambda r: (order[r[0]], r[1])
    ):
        rows.append(
            Row(
                code,
                str(PROCEDURES[code].label),
                org_id,
                name,
                district or "",
                int(n_open),  # PostgreSQL's sum of bigint is numeric
                int(n_overdue),
                {key: int(n) for (key, *_r), n in zip(BUCKETS, bucket_counts, strict=True)},
            )
        )
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.organisation))
    return rows


def _summary_sums(filters: dict[str, str], params: dict) -> dict:
    """One row of ``sum(n) FILTER (WHERE …)`` over the 清零 summary, as bare SQL: the ORM's aggregate with a Q
    per figure costs more to build than the database takes to answer (a dozen filtered sums)."""
    columns = ",\n       ".join(
        f"coalesce(sum(n) FILTER (WHERE {cond}), 0) AS {name}" for name, cond in filters.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}\nFROM {SupervisionClearing._meta.db_table}", params)
        values = cursor.fetchone()
    return {name: int(v) for name, v in zip(filters, values, strict=True)}


def clearing(*, today: dt.date | None = None, months: int = 12) -> list[dict]:
    """清零 from the summary: substantiated cases are counted per local day substantiated × day closed, and a month
    end's figure is those substantiated by it and not closed by it (clearing_direct's moments are local
    midnights, so local days answer exactly)."""
    today = today or timezone.localdate()
    ends = _month_ends(today, months)
    filters, params = {}, {}
    for i, end in enumerate(ends):
        params[f"d{i}"] = end + dt.timedelta(days=1)
        filters[f"m{i}"] = f"verified_on < %(d{i})s AND (closed_on IS NULL OR closed_on >= %(d{i})s)"
    data = _summary_sums(filters, params)
    return [{"month": end, "count": data[f"m{i}"]} for i, end in enumerate(ends)]


def growth(*, today: dt.date | None = None) -> dict:
    """零增长 from the summary (the same local days as growth_direct's moments)."""
    today = today or timezone.localdate()
    same_day = (
        today.replace(year=today.year - 1)
        if not (today.month == 2 and today.day == 29)
        else today.replace(year=today.year - 1, day=28)
    )
    params = {"y0": dt.date(today.year, 1, 1), "ly0": dt.date(today.year - 1, 1, 1), "same_day": same_day}
    data = _summary_sums(
        {
            "this_year": "verified_on >= %(y0)s",
            "last_year_to_date": "verified_on >= %(ly0)s AND verified_on <= %(same_day)s",
            "last_year": "verified_on >= %(ly0)s AND verified_on < %(y0)s",
        },
        params,
    )
    data["year"] = today.year
    data["zero_growth"] = data["this_year"] <= data["last_year_to_date"]
    return data


def time_used(*, limit: int = 30) -> dict:
    """办理用时 from the summary: ended clocks' count and total time per organisation × purpose × label."""
    base = SupervisionTimeUsed.objects.order_by()
    per_org = [
        r
        for r in base.values("organisation_id").annotate(n=Sum("n"), micros=Sum("micros"))
        if r["n"]  # every clock of the group un-ended again
    ]
    per_org.sort(key=lambda r: (-r["micros"] / r["n"], r["organisation_id"] or 0))
    per_org = per_org[:limit]
    names = dict(Organisation.objects.filter(pk__in=[r["organisation_id"] for r in per_org]).values_list("pk", "name"))
    per_stage = [
        r
        for r in base.values("purpose", "label").annotate(n=Sum("n"), micros=Sum("micros")).order_by("purpose", "label")
        if r["n"]
    ]

    def days(r):
        return round(r["micros"] / r["n"] / 86_400_000_000, 1)

    return {
        "organisations": [
            {"id": r["organisation_id"], "name": names.get(r["organisation_id"]) or "-", "days": days(r), "n": r["n"]}
            for r in per_org
        ],
        "stages": [{"purpose": r["purpose"], "label": r["label"], "days": days(r), "n": r["n"]} for r in per_stage],
    }


def drilldown(
    *,
    procedure: Procedure,
    now: dt.datetime | None = None,
    organisation: int | None = None,
    district: str | None = None,
    overdue: bool = False,
    bucket: str | None = None,
    user=None,
):
    """The cases behind one number of the dashboard."""
    now = now or timezone.now()
    qs = open_cases(procedure, now=now, user=user).select_related("handling_organisation", "subject")
    if organisation:
        qs = qs.filter(handling_organisation_id=organisation)
    if district is not None:
        qs = qs.filter(handling_organisation__district=district)
    if overdue:
        qs = qs.filter(oldest_due__isnull=False)
    for key, _label, lo, hi in BUCKETS:
        if bucket == key:
            qs = qs.filter(_bucket_q(now, lo, hi))
    return qs.order_by(F("oldest_due").asc(nulls_last=True), "pk")


class DrilldownOrder:
    """The drill-down's case ids in its order (oldest overdue clock first, then the rest by id), for a
    Paginator: a count and one narrow query per page, the overdue clocks aggregated once and joined. Annotating
    every open case with a correlated subquery and sorting by it read each case's clocks one by one — seconds
    at 100,000 open cases (issue 15 item 5). PostgreSQL only (``drilldown_order``)."""

    def __init__(self, base, procedure: Procedure, now: dt.datetime, overdue: bool, bucket: tuple | None):
        self.base, self.procedure, self.now, self.overdue, self.bucket = base, procedure, now, overdue, bucket

    def _query(self, select: str, tail: str = "") -> tuple[str, list]:
        base_sql, base_params = self.base.values(case_id=F("pk")).query.sql_with_params()
        conditions, params = [], []
        if self.overdue or self.bucket:
            conditions.append("od.m IS NOT NULL")
        if self.bucket:
            lo, hi = self.bucket
            if lo:
                conditions.append("od.m <= %s")
                params.append(self.now - dt.timedelta(days=lo))
            if hi is not None:
                conditions.append("od.m > %s")
                params.append(self.now - dt.timedelta(days=hi))
        sql = f"""
            SELECT {select} FROM ({base_sql}) b
            LEFT JOIN (SELECT object_id, min(due_at) AS m FROM workflows_clock
                       WHERE content_type_id = %s AND stopped_at IS NULL AND NOT is_paused AND kind = %s
                         AND purpose = ANY(%s) AND due_at < %s
                       GROUP BY object_id) od ON od.object_id = b.case_id
            {"WHERE " + " AND ".join(conditions) if conditions else ""} {tail}"""
        ct = ContentType.objects.get_for_model(self.procedure.model).pk
        clock_params = [ct, Clock.Kind.LEGAL, list(self.procedure.clock_purposes), self.now]
        return sql, [*base_params, *clock_params, *params]

    def count(self) -> int:
        sql, params = self._query("count(*)")
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]

    def __getitem__(self, window: slice) -> list[int]:
        start, stop = window.start or 0, window.stop
        sql, params = self._query("b.case_id", "ORDER BY od.m ASC NULLS LAST, b.case_id LIMIT %s OFFSET %s")
        with connection.cursor() as cur:
            cur.execute(sql, [*params, stop - start, start])
            return [pk for (pk,) in cur.fetchall()]


def drilldown_order(
    *,
    procedure: Procedure,
    now: dt.datetime,
    organisation: int | None = None,
    district: str | None = None,
    overdue: bool = False,
    bucket: str | None = None,
) -> DrilldownOrder | None:
    """The order of ``drilldown`` (same arguments) as ids to paginate; None where it is not needed (SQLite, the
    demo database: a few cases)."""
    if connection.vendor != "postgresql":
        return None
    base = procedure.model.objects.filter(state__in=procedure.open_states)
    if organisation:
        base = base.filter(handling_organisation_id=organisation)
    if district is not None:
        base = base.filter(handling_organisation__district=district)
    bounds = next(((lo, hi) for key, _label, lo, hi in BUCKETS if key == bucket), None)
    return DrilldownOrder(base, procedure, now, overdue, bounds)


# --- officers' own lists ---------------------------------------------------------------------------------------
def clocks_of_organisation(*, organisation_id: int, now: dt.datetime | None = None, due_within_days: int = 7):
    """Running legal clocks an organisation answers for (registered purposes): overdue and due soon."""
    now = now or timezone.now()
    purposes = [p for proc in PROCEDURES.values() for p in proc.clock_purposes]
    qs = (
        Clock.objects.filter(
            organisation_id=organisation_id,
            stopped_at__isnull=True,
            is_paused=False,
            kind=Clock.Kind.LEGAL,
            purpose__in=purposes,
        )
        .select_related("content_type")
        .order_by("due_at")
    )
    return {
        "overdue": list(qs.filter(due_at__lt=now)[:200]),
        "due_soon": list(qs.filter(due_at__gte=now, due_at__lt=now + dt.timedelta(days=due_within_days))[:200]),
    }


@dataclass(frozen=True)
class ClockCase:
    """What a reminder names: the case a clock runs on (办件编号, subject, procedure) and where to open it."""

    tracking_number: str
    subject_name: str
    procedure_label: str
    url: str


def cases_of_clocks(clocks) -> dict[int, ClockCase]:
    """Clock id → its case, loaded in one query per case model (reminders list many clocks)."""
    by_type: dict[int, list] = {}
    for clock in clocks:
        by_type.setdefault(clock.content_type_id, []).append(clock)
    procedures = {proc.model_label.lower(): proc for proc in PROCEDURES.values()}
    out: dict[int, ClockCase] = {}
    for type_clocks in by_type.values():
        ct = type_clocks[0].content_type
        model = ct.model_class()
        if model is None:
            continue
        related = [f for f in ("subject", "commitment__subject") if _has_path(model, f)]
        cases = model.objects.select_related(*related).in_bulk({c.object_id for c in type_clocks})
        proc = procedures.get(f"{ct.app_label}.{ct.model}")
        for clock in type_clocks:
            case = cases.get(clock.object_id)
            if case is None:
                continue
            subject = getattr(case, "subject", None) or getattr(getattr(case, "commitment", None), "subject", None)
            out[clock.pk] = ClockCase(
                tracking_number=getattr(case, "tracking_number", "") or "",
                subject_name=getattr(subject, "name", ""),
                procedure_label=str(proc.label) if proc else str(model._meta.verbose_name),
                url=reverse(proc.staff_url_name, kwargs={"pk": case.pk}) if proc else "",
            )
    return out


def _has_path(model, path: str) -> bool:
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        model = field.related_model
        if model is None:
            return False
    return True


def my_clocks(*, user, now: dt.datetime | None = None):
    """The officer's own lists: the clocks of the organisation the officer acts for."""
    org_id = policy.acting_organisation_id(user)
    if org_id is None:
        return {"overdue": [], "due_soon": []}
    return clocks_of_organisation(organisation_id=org_id, now=now)


def escalations_for_case(case):
    from cases.models import EscalationStep

    ct = ContentType.objects.get_for_model(case)
    return (
        EscalationStep.objects.filter(content_type=ct, object_id=case.pk)
        .select_related("clock", "notice", "actor")
        .order_by("fired_at", "id")
    )


def organisations_with_open_clocks(purposes) -> list[Organisation]:
    ids = (
        Clock.objects.filter(stopped_at__isnull=True, purpose__in=purposes, organisation__isnull=False)
        .values("organisation_id")
        .annotate(n=Min("pk"))
        .values_list("organisation_id", flat=True)
    )
    return list(Organisation.objects.filter(pk__in=list(ids), is_active=True))
