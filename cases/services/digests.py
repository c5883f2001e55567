"""Daily digest per organisation: its overdue and due-soon legal clocks (PROCEDURES.md §4 "Supervision").

In-app (an OrganisationDigest row the organisation's officers see on their reminders page) and by e-mail to
its active members when NOTICE_EMAIL_ENABLED. Idempotent per organisation and day.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import OrganisationDigest
from cases.selectors.supervision import clocks_of_organisation, organisations_with_open_clocks
from cases.services.audit import audit_log
from workflows.procedures import PROCEDURES

logger = logging.getLogger(__name__)


def digest_build(*, organisation, now=None) -> OrganisationDigest:
    now = now or timezone.now()
    day = timezone.localdate(now)
    lists = clocks_of_organisation(organisation_id=organisation.pk, now=now)
    lines = [_("%(org)s %(day)s 待办摘要") % {"org": organisation.name, "day": day.isoformat()}]
    lines.append(_("已逾期：%(n)d 项") % {"n": len(lists["overdue"])})
    lines += [f"  - {c.label}（{c.due_date}）" for c in lists["overdue"][:50]]
    lines.append(_("即将到期：%(n)d 项") % {"n": len(lists["due_soon"])})
    lines += [f"  - {c.label}（{c.due_date}）" for c in lists["due_soon"][:50]]
    with transaction.atomic():
        digest, created = OrganisationDigest.objects.get_or_create(
            organisation=organisation,
            day=day,
            defaults={"overdue": len(lists["overdue"]), "due_soon": len(lists["due_soon"]), "text": "\n".join(lines)},
        )
        if created:
            audit_log(
                actor=None,
                action="digest.created",
                obj=digest,
                data={"organisation": organisation.pk, "overdue": digest.overdue, "due_soon": digest.due_soon},
            )
    if created and getattr(settings, "NOTICE_EMAIL_ENABLED", False):
        recipients = list(organisation.members.filter(is_active=True).exclude(email="").values_list("email", flat=True))
        if recipients:
            try:
                send_mail(subject=lines[0], message=digest.text, from_email=None, recipient_list=recipients)
                OrganisationDigest.objects.filter(pk=digest.pk).update(emailed_to=len(recipients))
            except Exception:  # noqa: BLE001 — the in-app digest is the record; e-mail is a courtesy
                logger.exception("digest e-mail for organisation %s failed", organisation.pk)
    return digest


def digests_send(*, now=None) -> int:
    purposes = [p for proc in PROCEDURES.values() for p in proc.clock_purposes]
    done = 0
    for organisation in organisations_with_open_clocks(purposes):
        digest_build(organisation=organisation, now=now)
        done += 1
    return done
