"""Recompute the supervisor's dashboard summary from the cases and clocks (issue 15 item 3).

    python manage.py rebuild_supervision_summary            # reinstall the triggers, rebuild, consolidate
    python manage.py rebuild_supervision_summary --consolidate-only

The triggers keep the summary exact in every transaction; a rebuild is for a restore from backup taken without
them, or to prove they agree (the test does)."""

import time

from django.core.management.base import BaseCommand

from cases.services import supervision_summary


class Command(BaseCommand):
    help = "Rebuild the supervisor's dashboard summary from scratch (or only fold its ledger of deltas)."

    def add_arguments(self, parser):
        parser.add_argument("--consolidate-only", action="store_true", help="fold the ledger rows into one per key")

    def handle(self, *args, consolidate_only=False, **options):
        started = time.perf_counter()
        if not consolidate_only:
            supervision_summary.install_triggers()
            supervision_summary.rebuild()
        supervision_summary.consolidate()
        self.stdout.write(
            f"supervision summary {'consolidated' if consolidate_only else 'rebuilt'} "
            f"in {time.perf_counter() - started:.1f} s"
        )
