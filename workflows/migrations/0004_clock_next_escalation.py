import datetime as dt

from django.db import migrations, models

# The purposes the registered procedures escalated when this migration was written (workflows.procedures).
ESCALATED_PURPOSES = [
    "repair.acceptance",
    "repair.decision",
    "commitment.verify",
    "objection.platform",
    "objection.provider",
    "objection.case",
    "objection.review",
    "rectification.deadline",
    "rectification.plan",
    "rectification.verification",
    "rectification.forward",
    "rectification.progress",
]
# workflows.ladder.RESCHEDULE: "look at this clock at the next sweep", which then stores the exact moment
# (computing it needs the calendar and each case's rule set, which a migration should not import).
RESCHEDULE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def backfill(apps, schema_editor):
    Clock = apps.get_model("workflows", "Clock")
    Clock.objects.filter(
        stopped_at__isnull=True,
        is_paused=False,
        due_date__isnull=False,
        kind="legal",
        purpose__in=ESCALATED_PURPOSES,
    ).update(next_escalation_at=RESCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0003_clock_provisional_open_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="clock",
            name="next_escalation_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="下次督办时间"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="clock",
            index=models.Index(
                condition=models.Q(("next_escalation_at__isnull", False), ("stopped_at__isnull", True)),
                fields=["next_escalation_at"],
                name="clock_next_escalation_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="clock",
            index=models.Index(
                condition=models.Q(("is_paused", False), ("stopped_at__isnull", True)),
                fields=["purpose", "due_at"],
                name="clock_open_purpose_due_idx",
            ),
        ),
    ]
