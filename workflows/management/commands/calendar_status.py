"""What the working-day calendar knows, and whether anything is provisional.

Exit status 1 with --check when there is an alarm (for monitoring: run it daily from cron)."""

from django.core.management.base import BaseCommand

from workflows.selectors import calendar_status


class Command(BaseCommand):
    # Scripts read stdout; the calendar alarm is this tool's own business, not a system-check warning.
    requires_system_checks = []
    help = "Show the calendar's known and provisional years, imports, version, and any alarm."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="exit with status 1 when there is an alarm")

    def handle(self, *args, check=False, **options):
        status = calendar_status()
        known = status.known_years
        rows = [
            ("version", str(status.version)),
            ("table", f"{status.first.isoformat()} .. {status.last.isoformat()}"),
            (
                "known years",
                f"{known[0]}–{known[-1]}"
                if known == list(range(known[0], known[-1] + 1))
                else ", ".join(map(str, known)),
            ),
            ("provisional years", ", ".join(map(str, status.provisional_years)) or "-"),
            ("imported years", ", ".join(f"{y} ({src})" for y, src in status.imported_years) or "-"),
            ("overrides", str(status.override_count)),
            ("open provisional clocks", str(status.open_provisional_clocks)),
            ("alarm", status.alarm or "-"),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            self.stdout.write(f"{key.ljust(width)}  {value}")
        if check and status.alarm:
            raise SystemExit(1)
