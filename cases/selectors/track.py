"""办件查询 (/track/): a case's progress for whoever holds its 办件编号 and 查询码 — without login, and without
any personal data (issue 12, item 4)."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch

from cases.identifiers import tracking_query_code
from cases.selectors.me import APPLICANT_CLOCK_PURPOSES
from workflows.calendar import get_calendar
from workflows.models import Clock, ClockPause
from workflows.procedures import PROCEDURES, Procedure, progress
from workflows.selectors import ClockStatus, clock_status


@dataclass
class TrackResult:
    procedure: Procedure
    tracking_number: str
    state_label: str
    step: int
    steps: int
    step_label: str
    received_on: dt.date | None
    closed_on: dt.date | None
    clocks: list[ClockStatus]

    @property
    def step_labels(self) -> list[tuple[int, str]]:
        return [(i + 1, str(label)) for i, (label, _states) in enumerate(self.procedure.steps)]


def track_lookup(*, number: str, code: str) -> TrackResult | None:
    """The case with this number, if ``code`` is its 查询码; None for every kind of miss (unknown number,
    wrong code), so the answer never tells which one was wrong."""
    number, code = (number or "").strip().upper(), (code or "").strip().upper()
    if not number or not code:
        return None
    found = None
    for procedure in PROCEDURES.values():
        case = procedure.model.objects.filter(tracking_number=number).first()
        if case is not None:
            found = (procedure, case)
            break
    # Compared whether or not the number exists, in constant time.
    # (as bytes: compare_digest refuses non-ASCII str, and anyone may type anything)
    code_ok = hmac.compare_digest(tracking_query_code(number).encode(), code.encode())
    if found is None or not code_ok:
        return None
    procedure, case = found
    step, steps, step_label = progress(procedure, case.state)
    clocks = (
        Clock.objects.filter(
            content_type=ContentType.objects.get_for_model(case),
            object_id=case.pk,
            kind=Clock.Kind.LEGAL,
            purpose__in=(*procedure.clock_purposes, *APPLICANT_CLOCK_PURPOSES),
        )
        .prefetch_related(Prefetch("pauses", queryset=ClockPause.objects.order_by("paused_on", "id")))
        .order_by("started_at", "pk")
    )
    cal = get_calendar()
    closed_at = getattr(case, "closed_at", None)
    return TrackResult(
        procedure=procedure,
        tracking_number=case.tracking_number,
        state_label=case.get_state_display(),
        step=step,
        steps=steps,
        step_label=step_label or case.get_state_display(),
        received_on=case.received_on,
        closed_on=closed_at.date() if closed_at else None,
        clocks=[clock_status(c, calendar=cal) for c in clocks],
    )
