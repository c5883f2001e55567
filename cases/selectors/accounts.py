"""Reads for registration and authorisation pages."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from cases.models import Attachment, Subject, SubjectAuthorisation


def authorisations_of_subject(*, subject: Subject) -> QuerySet[SubjectAuthorisation]:
    """Everyone who acts or acted for ``subject`` (its legal representative's page)."""
    return (
        SubjectAuthorisation.objects.filter(subject=subject)
        .select_related("user", "granted_by")
        .order_by("revoked_at", "-valid_from", "pk")
    )


def authorisations_pending() -> QuerySet[SubjectAuthorisation]:
    return (
        SubjectAuthorisation.objects.filter(status=SubjectAuthorisation.Status.PENDING)
        .select_related("user", "subject")
        .order_by("requested_at", "pk")
    )


def attorney_files(*, authorisation: SubjectAuthorisation) -> QuerySet[Attachment]:
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(SubjectAuthorisation),
        object_id=authorisation.pk,
        purpose=Attachment.Purpose.POWER_OF_ATTORNEY,
    )
