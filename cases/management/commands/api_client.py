"""Issue, list and revoke API clients from the command line (the key is printed once, never stored)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.models import ApiClient, Organisation, Role, User
from cases.services.api_clients import api_client_issue, api_client_revoke


class Command(BaseCommand):
    help = "Issue (prints the key once), list or revoke API clients of an organisation."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a client and print its key")
        issue.add_argument("organisation", help="the organisation's name")
        issue.add_argument("--name", default="业务系统", help="what the client is for")
        issue.add_argument("--scope", action="append", required=True, help="e.g. records:write (repeat)")
        issue.add_argument("--days", type=int, default=365, help="valid for this many days (0: no expiry)")
        issue.add_argument("--admin", default="admin", help="username of the administrator issuing it")
        sub.add_parser("list", help="list clients")
        revoke = sub.add_parser("revoke", help="revoke a client by its key prefix")
        revoke.add_argument("prefix")
        revoke.add_argument("--admin", default="admin")

    def _admin(self, username: str) -> User:
        actor = User.objects.filter(username=username, role=Role.ADMINISTRATOR).first()
        if actor is None:
            raise CommandError(f"no administrator {username!r}")
        return actor

    def handle(self, *args, action: str, **options):
        if action == "list":
            for c in ApiClient.objects.select_related("organisation").order_by("organisation__name", "prefix"):
                state = "revoked" if c.revoked_at else ("usable" if c.is_usable else "expired")
                self.stdout.write(f"{c.prefix}\t{c.organisation.name}\t{c.name}\t{','.join(c.scopes)}\t{state}")
            return
        actor = self._admin(options["admin"])
        if action == "revoke":
            client = ApiClient.objects.filter(prefix=options["prefix"]).first()
            if client is None:
                raise CommandError("unknown prefix")
            api_client_revoke(actor=actor, client=client)
            self.stdout.write(f"revoked {client.prefix}")
            return
        org = Organisation.objects.filter(name=options["organisation"]).first()
        if org is None:
            raise CommandError("unknown organisation")
        days = options["days"]
        expires_at = timezone.now() + dt.timedelta(days=days) if days > 0 else None
        client, key = api_client_issue(
            actor=actor, organisation=org, name=options["name"], scopes=options["scope"], expires_at=expires_at
        )
        self.stdout.write(f"API client {client.prefix} for {org.name} ({', '.join(client.scopes)}): {key}")
        self.stdout.write("The key is not stored and cannot be shown again.")
