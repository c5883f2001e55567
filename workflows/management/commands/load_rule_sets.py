"""``manage.py load_rule_sets``: create or update the rule sets from fixtures/rule_sets.json (idempotent)."""

from django.core.management.base import BaseCommand

from workflows.rules import DEFAULT_FIXTURE, read_rule_set_fixture
from workflows.services.rule_sets import rule_sets_load


class Command(BaseCommand):
    help = "Load versioned rule sets and their parameters from a JSON fixture; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_FIXTURE), help="path of the JSON fixture")

    def handle(self, *args, file: str, **options):
        summary = rule_sets_load(actor="manage.py load_rule_sets", data=read_rule_set_fixture(file))
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"rule sets: {summary.sets_created} created, {summary.sets_updated} updated; "
                f"parameters: {summary.params_created} created, {summary.params_updated} updated"
            )
            for stale in summary.stale_params:
                self.stdout.write(self.style.WARNING(f"kept (not in the fixture): {stale}"))
