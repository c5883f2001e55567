"""The bookkeeping every procedure's step does on its case, whatever the procedure: the timeline entry, the
audit entry and the legal clocks.

The procedures (repair, objection, rectification) differ in who may act, which transition fires and which
clocks the law attaches to the step (their own modules say so, with the article); how a timeline entry is
written, how an audit entry names its case and how a legal limit is read from the case's rule set and
started are the same for all of them, and are kept here once.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import models

from cases.models import CaseActivity
from cases.services.audit import audit_log
from workflows import rules
from workflows.models import Clock
from workflows.selectors import open_clocks_of_case as open_clocks
from workflows.services.clocks import clock_start, clock_stop


def case_activity_row(case: models.Model, kind: str, actor, text="") -> CaseActivity:
    """A line on the case's timeline, not yet saved (a step writing several saves them in one bulk insert)."""
    return CaseActivity(
        content_type=ContentType.objects.get_for_model(case),
        object_id=case.pk,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        text=str(text),
    )


def case_activity(case: models.Model, kind: str, actor, text="") -> CaseActivity:
    """A line on the case's timeline; a system step (no saved actor) is shown as the system's."""
    activity = case_activity_row(case, kind, actor, text)
    activity.save()
    return activity


def case_audit(case: models.Model, action: str, actor, **data) -> None:
    """An audit entry for a step on a case: every entry carries the case's tracking number and its state
    after the step, so the trail reads on its own."""
    audit_log(
        actor=actor,
        action=action,
        obj=case,
        data={"tracking_number": case.tracking_number, "state": case.state, **data},
    )


def open_clock(case: models.Model, purpose: str) -> Clock | None:
    """The case's running clock for ``purpose`` (the latest started, should a step have restarted it)."""
    return open_clocks(case).filter(purpose=purpose).order_by("-id").first()


def stop_open_clocks(case: models.Model, actor, reason, *, purposes=None, exclude=()) -> None:
    """Stop the case's running clocks (those of ``purposes`` only, when given; never those of ``exclude``)."""
    clocks = open_clocks(case).exclude(purpose__in=exclude)
    if purposes is not None:
        clocks = clocks.filter(purpose__in=purposes)
    # All of them locked with their pauses in two statements, then one UPDATE each (issue 15).
    for clock in clocks.select_for_update().prefetch_related("pauses"):
        clock_stop(clock=clock, actor=actor, reason=str(reason), already_locked=True)


def start_legal_clock(
    case: models.Model,
    purpose: str,
    label,
    key: str,
    organisation,
    actor,
    received_at: dt.datetime | dt.date,
    *,
    extension_cap: int = 0,
    start_rule: str = Clock.StartRule.RECEIPT,
) -> Clock:
    """Start the legal limit ``key`` of the case's rule set (its length, unit and citation are parameters of
    the rule set in force when the case was received, never constants in code)."""
    detail = rules.rule_param_detail(case.rule_set, key)
    return clock_start(
        case=case,
        purpose=purpose,
        label=str(label),
        budget=int(detail.value),
        unit=detail.unit or Clock.Unit.WORKING_DAYS,
        kind=Clock.Kind.LEGAL,
        received_at=received_at,
        organisation=organisation,
        citation=detail.citation,
        extension_cap=extension_cap,
        actor=actor,
        start_rule=start_rule,
    )
