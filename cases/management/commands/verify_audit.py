"""``manage.py verify_audit``: walk the keyed hash chain; exit non-zero naming the first bad event.

Needs the chain's key (AUDIT_HMAC_KEY in the environment, as on the nodes). ``--checkpoint SEQ:HASH`` (any
number of times) also checks the chain against checkpoints kept outside the database (the log lines and
outbox reports ``audit.checkpoint``), which is how a truncated tail shows.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases.services.audit import audit_chain_length, audit_verify


def checkpoint(value: str) -> tuple[int, str]:
    seq, sep, seal = value.partition(":")
    if not sep or not seq.isdigit() or len(seal) != 64:
        raise ValueError(value)
    return int(seq), seal.lower()


class Command(BaseCommand):
    help = (
        "Verify the keyed, hash-chained audit trail (needs AUDIT_HMAC_KEY); exits 1 and names the first bad event "
        "after any edit, deletion or truncation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="events read per database round trip")
        parser.add_argument(
            "--checkpoint",
            type=checkpoint,
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a checkpoint from the log or the outbox (audit.checkpoint); may be given several times",
        )

    def handle(self, *args, batch_size: int, checkpoint: list, **options):
        problem = audit_verify(batch_size=batch_size, checkpoints=checkpoint)
        if problem is not None:
            # CommandError → message on stderr and exit status 1 (BaseCommand.run_from_argv).
            raise CommandError(_("审计链校验失败，第一个异常事件 %(problem)s") % {"problem": problem})
        self.stdout.write(_("审计链完整：共%(n)s条事件。") % {"n": audit_chain_length()})
