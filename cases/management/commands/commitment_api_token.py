"""Issue an API token for a department's own system (reporting commitments in bulk); prints it once."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Organisation, Role, User
from cases.services.commitment.bulk_import import api_token_issue


class Command(BaseCommand):
    help = "Issue a bearer token for POST /api/commitments/ to a department (the token is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="the department's name")
        parser.add_argument("--name", default="审批系统", help="what the token is for")
        parser.add_argument("--admin", default="admin", help="username of the administrator issuing it")

    def handle(self, *args, organisation: str, name: str, admin: str, **options):
        org = Organisation.objects.filter(name=organisation).first()
        actor = User.objects.filter(username=admin, role=Role.ADMINISTRATOR).first()
        if org is None or actor is None:
            raise CommandError("unknown organisation or administrator")
        token, secret = api_token_issue(actor=actor, organisation=org, name=name)
        self.stdout.write(f"token for {org.name} ({token.prefix}): {secret}")
        self.stdout.write("It is not stored and cannot be shown again.")
