"""Claiming a one-time form token inside the transaction that creates (cases.models.submissions)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from cases.models import FormSubmission


class AlreadySubmitted(Exception):
    """This form was sent before: ``result_id`` is what that send created (None if it is still running)."""

    def __init__(self, result_id: int | None):
        super().__init__(result_id)
        self.result_id = result_id


def submission_claim(*, actor, purpose: str, token: str) -> FormSubmission | None:
    """Call inside the create's transaction; raises AlreadySubmitted for a token already used. A form sent
    without a token (a client of its own) is not deduplicated here; the service's own locks still apply."""
    token = (token or "").strip()[:64]
    if not token or not getattr(actor, "pk", None):
        return None
    assert transaction.get_connection().in_atomic_block, "claim a form token inside the create's transaction"
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(user=actor, purpose=purpose, token=token)
    except IntegrityError:
        first = FormSubmission.objects.get(user=actor, purpose=purpose, token=token)
        raise AlreadySubmitted(first.result_id) from None


def submission_done(claim: FormSubmission | None, result) -> None:
    if claim is not None:
        claim.result_id = result.pk
        claim.save(update_fields=["result_id"])
