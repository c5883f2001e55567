"""Create or update the django-q2 schedules every deployment needs. Idempotent: run it on each deploy.

Procedures add their periodic jobs to SCHEDULES; a schedule is identified by its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str
    # Schedule.MINUTES needs ``minutes``; Schedule.CRON needs ``cron``.
    minutes: int | None = None
    cron: str | None = None
    kwargs: dict = field(default_factory=dict)


SCHEDULES: list[ScheduleSpec] = [
    # Platform sync outbox: delivery latency is at most a minute, far inside the 3/7 WD limits.
    ScheduleSpec("outbox-deliver", "cases.tasks.outbox_deliver_task", Schedule.MINUTES, minutes=1),
    # A person's e-mail and SMS copies (the normal path sends them on commit; this retries and catches up).
    ScheduleSpec(
        "messages-email", "cases.tasks.outbox_deliver_task", Schedule.MINUTES, minutes=1, kwargs={"channel": "email"}
    ),
    ScheduleSpec(
        "messages-sms", "cases.tasks.outbox_deliver_task", Schedule.MINUTES, minutes=1, kwargs={"channel": "sms"}
    ),
    # "Deadline in 2 working days" messages, once a day before office hours.
    ScheduleSpec("deadline-reminders", "cases.tasks.deadline_reminders_task", Schedule.CRON, cron="0 8 * * *"),
    # Notices whose render job was lost or whose worker died (the normal path renders on commit).
    ScheduleSpec("notices-render-due", "notices.tasks.render_due_notices", Schedule.MINUTES, minutes=1),
    # A supplement window ends at 24:00 Beijing time of its last working day; checking hourly closes a
    # missed one within the hour and costs one indexed query when there is nothing to do.
    ScheduleSpec("repairs-deem-withdrawn", "cases.tasks.repairs_deem_withdrawn_task", Schedule.CRON, cron="5 * * * *"),
    # Display periods end on a date: once a day, just after midnight (TIME_ZONE is Asia/Shanghai).
    ScheduleSpec("records-expire", "cases.tasks.records_expire_task", Schedule.CRON, cron="15 0 * * *"),
    # Commitment checks open on the decision date: once a day, early, so they are on the desk that morning.
    ScheduleSpec(
        "commitment-verifications",
        "cases.tasks.commitment_verifications_schedule_task",
        Schedule.CRON,
        cron="30 0 * * *",
    ),
    # 容缺受理: documents to follow that were due yesterday become the department's task in the morning.
    ScheduleSpec(
        "commitment-follow-up-lateness",
        "cases.tasks.commitment_follow_up_lateness_task",
        Schedule.CRON,
        cron="35 0 * * *",
    ),
    # The dashboard summary's ledger grows by a row or two per change; fold it so the dashboard reads few rows.
    ScheduleSpec(
        "supervision-summary-consolidate",
        "cases.tasks.supervision_summary_consolidate_task",
        Schedule.MINUTES,
        minutes=5,
    ),
    # Escalation ladder over every registered procedure's legal clocks (PROCEDURES.md §4): a deadline ends at
    # 24:00, so the first run after midnight fires 督办 on its day; hourly runs catch up after downtime.
    ScheduleSpec("escalation-sweep", "cases.tasks.escalation_sweep_task", Schedule.CRON, cron="10 * * * *"),
    # The audit chain's head leaves the database hourly (log + outbox), so a cut-off tail is detectable.
    ScheduleSpec("audit-checkpoint", "cases.tasks.audit_checkpoint_task", Schedule.CRON, cron="0 * * * *"),
    # Daily digest per organisation (in-app, e-mail when configured), before office hours.
    ScheduleSpec("organisation-digests", "cases.tasks.organisation_digests_task", Schedule.CRON, cron="30 7 * * *"),
]


class Command(BaseCommand):
    help = "Create or update the periodic background jobs (django-q2 schedules)."

    def handle(self, *args, **options):
        for spec in SCHEDULES:
            created = self._apply(spec)
            verb = "created" if created else "updated"
            self.stdout.write(f"{verb} {spec.name}: {spec.func}")

    @transaction.atomic
    def _apply(self, spec: ScheduleSpec) -> bool:
        wanted = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
            "cron": spec.cron,
            # django-q2 evaluates this text as the arguments of dict(...).
            "kwargs": ", ".join(f"{key}={value!r}" for key, value in spec.kwargs.items()) or None,
            "repeats": -1,
        }
        # Schedule.name is not unique in django-q2: keep the oldest row of a name, drop accidental copies.
        rows = list(Schedule.objects.select_for_update().filter(name=spec.name).order_by("pk"))
        if not rows:
            Schedule.objects.create(name=spec.name, **wanted)
            return True
        schedule, duplicates = rows[0], rows[1:]
        for duplicate in duplicates:
            duplicate.delete()
        changed = [key for key, value in wanted.items() if getattr(schedule, key) != value]
        if changed:
            # next_run is left alone: an update must not reset or skip a pending run.
            for key in changed:
                setattr(schedule, key, wanted[key])
            schedule.save(update_fields=changed)
        return False
