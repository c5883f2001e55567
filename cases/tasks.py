"""django-q2 tasks of the cases app. Each takes ids (or nothing), calls a service and is safe to run twice:
the ORM broker re-delivers a task whose worker died (DESIGN.md, "Background work")."""

from __future__ import annotations

from django.conf import settings

from cases.services.audit import audit_checkpoint
from cases.services.outbox import outbox_deliver_due
from cases.services.repair import records_expire_due, repairs_deem_withdrawn_due

# Runs per invocation at most; the schedule fires every minute, so a backlog drains over a few runs
# without one task outliving the cluster's timeout.
OUTBOX_MAX_BATCHES = 10


def outbox_deliver_task(channel: str = "platform") -> dict:
    """Deliver due outbox events until none are left, the endpoint looks down, or the run cap is reached."""
    totals = {"claimed": 0, "delivered": 0, "failed": 0, "dead": 0, "interrupted": False}
    for _ in range(OUTBOX_MAX_BATCHES):
        run = outbox_deliver_due(batch=settings.OUTBOX_BATCH, channel=channel)
        for key in ("claimed", "delivered", "failed", "dead"):
            totals[key] += getattr(run, key)
        totals["interrupted"] = run.interrupted
        if run.interrupted or run.claimed < settings.OUTBOX_BATCH:
            break
    # The webhook subscriptions' copies, with the same retries and backoff.
    from cases.services.webhooks import webhooks_deliver_due

    totals["webhooks"] = webhooks_deliver_due(batch=settings.OUTBOX_BATCH)
    return totals


def repairs_deem_withdrawn_task() -> int:
    """End as 视为撤回 every repair whose applicant let the supplement window run out (PROCEDURES.md §1)."""
    return repairs_deem_withdrawn_due()


def records_expire_task() -> int:
    """Stop displaying records whose maximum display period has ended (PROCEDURES.md §1; Henan Art 19)."""
    return records_expire_due()


def commitment_verifications_schedule_task() -> dict:
    """Open the verification checks that commitments due today need (PROCEDURES.md §3, set-based sweep)."""
    from cases.services.commitment.sweep import verifications_schedule_due

    result = verifications_schedule_due()
    return {"screened": result.screened, "opened": result.opened, "sampled_out": result.sampled_out}


def commitment_follow_up_lateness_task() -> int:
    """容缺受理: open a check for every commitment whose documents to follow are late (PROCEDURES.md §3)."""
    from cases.services.commitment.follow_up import follow_up_lateness_sweep

    return follow_up_lateness_sweep()


def escalation_sweep_task() -> dict:
    """Fire the escalation ladder (临期提醒/督办/约谈/通报/追责) on every registered procedure's clocks."""
    from cases.services.escalation import escalation_sweep

    result = escalation_sweep()
    return {"inserted": {str(k): v for k, v in result.inserted.items()}, "notified": result.notified}


def supervision_summary_consolidate_task() -> None:
    """Fold the dashboard summary's ledger of deltas into one row per key (issue 15 item 3)."""
    from cases.services.supervision_summary import consolidate

    consolidate()


def organisation_digests_task() -> int:
    """The daily digest of due-soon and overdue work for each organisation."""
    from cases.services.digests import digests_send

    return digests_send()


def audit_checkpoint_task() -> int | None:
    """Send the audit chain head out (log and outbox): the last sequence number it covers, if any."""
    head = audit_checkpoint()
    return head.last_seq if head is not None else None


def deadline_reminders_task() -> int:
    """Tell applicants 2 working days before a window of theirs (补正, 陈述申辩) closes (issue 12)."""
    from cases.services.messages import deadline_reminders_send

    return deadline_reminders_send()
