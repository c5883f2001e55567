"""Reads of 双公示: a decision's reporting clocks, a department's recent entries, and late publications per
organisation for the supervisor (set-based: one aggregate over the clocks, whatever the number of records)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from cases import policy
from cases.models import CreditRecord, Organisation, SupervisionDisclosure
from cases.models.records import DISCLOSURE_PURPOSE
from cases.portable_sql import moment
from workflows.models import Clock
from workflows.selectors import clock_status

# The other limits on a record: revocation and expiry reports (Henan Art 42).
REMOVAL_PURPOSES = ("outbox:record.revoked", "outbox:record.expired")


def _record_ct():
    return ContentType.objects.get_for_model(CreditRecord)


def record_clocks(*, record: CreditRecord, now: dt.datetime | None = None) -> list:
    """The 双公示 clock and any revocation/expiry report clock of ``record``, with their status."""
    clocks = Clock.objects.filter(
        content_type=_record_ct(), object_id=record.pk, purpose__in=(DISCLOSURE_PURPOSE, *REMOVAL_PURPOSES)
    ).order_by("started_at", "pk")
    return [clock_status(c, now=now) for c in clocks]


def department_intakes(*, user, limit: int = 20, now: dt.datetime | None = None) -> list[tuple[CreditRecord, object]]:
    """The department's most recently entered decisions with the status of their 双公示 clock."""
    org_id = policy.acting_organisation_id(user) if policy.is_department(user) else None
    if org_id is None:
        return []
    records = list(
        CreditRecord.objects.filter(provider_id=org_id)
        .filter(pk__in=Clock.objects.filter(content_type=_record_ct(), purpose=DISCLOSURE_PURPOSE).values("object_id"))
        .select_related("subject")
        .order_by("-pk")[:limit]
    )
    clocks = {
        c.object_id: c
        for c in Clock.objects.filter(
            content_type=_record_ct(), purpose=DISCLOSURE_PURPOSE, object_id__in=[r.pk for r in records]
        )
    }
    return [(r, clock_status(clocks[r.pk], now=now) if r.pk in clocks else None) for r in records]


@dataclass
class LateRow:
    organisation_id: int
    organisation: str
    reported: int  # decisions entered
    on_time: int  # reported to the platform within the limit
    late: int  # reported after the limit
    overdue: int  # not yet reported and past the limit

    @property
    def late_share(self) -> float:
        return round(100 * (self.late + self.overdue) / self.reported, 1) if self.reported else 0.0

    def as_list(self) -> list:
        return [self.organisation, self.reported, self.on_time, self.late, self.overdue, self.late_share]


def late_publications(*, now: dt.datetime | None = None) -> list[LateRow]:
    """Per organisation: decisions entered, reported on time, reported late, still unreported past the limit
    (seed 003 item 4: 及时率 100%). From the dashboard summary (cases.models.supervision): the 双公示 clocks
    counted per organisation × outcome, the open ones at their due moment."""
    now = now or timezone.now()
    # Bare SQL: four filtered sums over a few rows per organisation, cheaper to send than to build in the ORM.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT organisation_id, sum(n),
                   coalesce(sum(n) FILTER (WHERE outcome = 'on_time'), 0),
                   coalesce(sum(n) FILTER (WHERE outcome = 'late'), 0),
                   coalesce(sum(n) FILTER (WHERE outcome = 'open' AND due_at < %s), 0)
            FROM {SupervisionDisclosure._meta.db_table} GROUP BY organisation_id HAVING sum(n) <> 0""",
            [moment(now)],
        )
        keys = ("organisation_id", "reported", "on_time", "late", "overdue")
        rows = [dict(zip(keys, map(int, r), strict=True)) for r in cursor.fetchall()]
    return _late_rows(rows)


def _late_rows(rows) -> list[LateRow]:
    names = dict(Organisation.objects.values_list("pk", "name"))
    out = [
        LateRow(
            r["organisation_id"],
            names.get(r["organisation_id"], "-"),
            r["reported"],
            r["on_time"],
            r["late"],
            r["overdue"],
        )
        for r in rows
    ]
    out.sort(key=lambda r: (-(r.late + r.overdue), r.organisation))
    return out


def late_publications_direct(*, now: dt.datetime | None = None) -> list[LateRow]:
    """The same rows grouped from the 双公示 clocks themselves (what the summary is checked against)."""
    now = now or timezone.now()
    rows = (
        Clock.objects.filter(purpose=DISCLOSURE_PURPOSE, organisation__isnull=False)
        .values("organisation_id")
        .annotate(
            reported=Count("pk"),
            on_time=Count("pk", filter=Q(stopped_at__isnull=False, stopped_at__lte=F("due_at"))),
            late=Count("pk", filter=Q(stopped_at__isnull=False, stopped_at__gt=F("due_at"))),
            overdue=Count("pk", filter=Q(stopped_at__isnull=True, due_at__lt=now)),
        )
        .order_by()
    )
    return _late_rows(rows)
