"""Import a year's official holiday arrangement (format: workflows/services/calendar.py; example:
fixtures/holidays/2027.example.csv). Replaces that year's overrides, marks the year known, bumps the
calendar version and recomputes every open clock it can move."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workflows.services.calendar import calendar_import


class Command(BaseCommand):
    # Scripts read stdout; the calendar alarm is this tool's own business, not a system-check warning.
    requires_system_checks = []
    help = "Import the State Council's holiday arrangement for one year from a CSV or JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (date,type,name) or JSON file")
        parser.add_argument("--year", type=int, help="the year the arrangement is for (else from the file)")
        parser.add_argument("--source", help="the document cited, e.g. 国办发明电〔2026〕X号 (else from the file)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="apply a file whose source says it is an example (demos); its year stays provisional",
        )

    def handle(self, *args, file, year=None, source=None, force=False, **options):
        try:
            result = calendar_import(
                actor="manage.py import_holidays", path_or_rows=file, source=source, year=year, force=force
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            f"{result.year}: {result.holidays} holidays, {result.workdays} make-up working days "
            f"({result.replaced} earlier overrides replaced); source: {result.source}; "
            f"calendar version {result.version}; {result.clocks_changed} open clocks recomputed"
            + ("; EXAMPLE data: the year stays provisional" if result.example else "")
        )
