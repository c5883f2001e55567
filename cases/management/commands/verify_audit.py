"""``manage.py verify_audit``: walk the hash chain; exit non-zero naming the first bad event."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases.services.audit import audit_chain_length, audit_verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit trail; exits 1 and names the first bad event after any edit or deletion."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="events read per database round trip")

    def handle(self, *args, batch_size: int, **options):
        problem = audit_verify(batch_size=batch_size)
        if problem is not None:
            # CommandError → message on stderr and exit status 1 (BaseCommand.run_from_argv).
            raise CommandError(_("审计链校验失败，第一个异常事件 %(problem)s") % {"problem": problem})
        self.stdout.write(_("审计链完整：共%(n)s条事件。") % {"n": audit_chain_length()})
