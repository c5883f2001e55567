"""Rebuild the officers' inbox table (cases.InboxItem) from viewflow's open tasks and the clocks.

The services keep the table in step; run this after restoring a database backup or loading tasks around the
services. Idempotent.
"""

from django.core.management.base import BaseCommand

from cases.services.inbox import inbox_rebuild


class Command(BaseCommand):
    help = "Rebuild the officers' inbox from viewflow's open tasks."

    def handle(self, *args, **options):
        n = inbox_rebuild()
        if options["verbosity"]:
            self.stdout.write(f"{n} open tasks in the inbox.")
