"""容缺受理: a matter accepted with documents to follow (容缺受理型 commitment, PROCEDURES.md §3).

The applicant uploads the documents to follow on the portal before their date (``follow_due_date``, the
matter's ``follow_within_wd`` working days from signing). When the date passes without them, the daily sweep
opens a check (核查) for the department — its task, with the legal clock of a check and the consequences
the matter defines (终止办理, 责令限期补正, 撤销行政决定, 记入信用记录) for the department to decide on. Nothing
is decided automatically: the department may still receive the documents, or decide a breach after the
hearing the commitment procedure gives.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Attachment, Commitment, CommitmentType, CommitmentVerification
from cases.models.commitment import VerificationState
from cases.services.attachments import attachment_add
from cases.services.audit import audit_log
from cases.services.commitment.lifecycle import open_verification

SYSTEM_ACTOR = "system:follow-up"


def commitment_follow_documents_upload(*, actor, commitment: Commitment, uploads: list) -> list[Attachment]:
    """The applicant hands in the documents to follow. Each file is checked by its content; the receipt time
    is recorded once (a second upload adds files, the first time stays the one that counts)."""
    if not (policy.is_applicant(actor) and policy.can_apply_for(actor, commitment.subject, "commitment")):
        raise PermissionDenied(_("只有承诺主体或其授权的经办人可以提交后补材料。"))
    if commitment.type != CommitmentType.TOLERANCE or commitment.follow_due_date is None:
        raise ValidationError(_("该承诺没有需要后补的材料。"), code="no_follow_up")
    if not uploads:
        raise ValidationError({"files": ValidationError(_("请选择要提交的材料文件。"), code="no_files")})
    with transaction.atomic():
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
        if locked.status != Commitment.Status.IN_FORCE:
            raise ValidationError(_("该承诺的履约状态已确定，不能再提交后补材料。"), code="settled")
        attachments = [
            attachment_add(actor=actor, case=locked, purpose=Attachment.Purpose.FOLLOW_UP, uploaded=f) for f in uploads
        ]
        now = timezone.now()
        first = locked.follow_received_at is None
        if first:
            locked.follow_received_at = now
            locked.save(update_fields=["follow_received_at"])
        audit_log(
            actor=actor,
            action="commitment.documents_uploaded",
            obj=locked,
            data={
                "files": [a.pk for a in attachments],
                "due": locked.follow_due_date,
                "late": timezone.localdate(now) > locked.follow_due_date,
                "first": first,
            },
        )
    commitment.follow_received_at = locked.follow_received_at
    return attachments


def _late_commitments(today: dt.date):
    """Documents to follow still awaited after their date, lateness check not yet opened: through
    commitment_follow_late_idx, so the commitments whose check was opened long ago are never read again."""
    return Commitment.objects.filter(
        type=CommitmentType.TOLERANCE,
        status=Commitment.Status.IN_FORCE,
        follow_due_date__lt=today,
        follow_received_at__isnull=True,
        follow_late_opened_at__isnull=True,
    ).exclude(verifications__reason=CommitmentVerification.Reason.LATE_DOCS)


def follow_up_lateness_sweep(*, today: dt.date | None = None, limit: int = 1000) -> int:
    """Open one check per commitment whose documents to follow are late. Safe to run again and in parallel:
    the commitment row is locked and the check looked for again under the lock."""
    today = today or timezone.localdate()
    opened = 0
    for pk in list(_late_commitments(today).order_by("follow_due_date", "pk").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            c = Commitment.objects.select_for_update(of=("self",)).select_related("commitment_matter").get(pk=pk)
            if c.follow_received_at is not None or c.status != Commitment.Status.IN_FORCE:
                continue
            if c.verifications.filter(reason=CommitmentVerification.Reason.LATE_DOCS).exists():
                # Opened by an earlier run before the mark existed: mark it, so it is not read again.
                c.follow_late_opened_at = timezone.now()
                c.save(update_fields=["follow_late_opened_at"])
                continue
            if c.verifications.filter(state__in=(VerificationState.OPEN, VerificationState.HEARING)).exists():
                # A check is already running: the department sees the lateness there (its desk lists it).
                continue
            matter = c.commitment_matter
            now = timezone.now()
            consequences = matter.follow_late_consequence_list if matter else []
            v = open_verification(
                c,
                reason=CommitmentVerification.Reason.LATE_DOCS,
                actor=SYSTEM_ACTOR,
                now=now,
                finding=_("后补材料（%(docs)s）应于%(due)s前提交，逾期未提交。事项规定的后果：%(what)s。")
                % {
                    "docs": "、".join(matter.follow_documents) if matter else "",
                    "due": c.follow_due_date.isoformat(),
                    "what": "；".join(f"{label}（{source}）" for label, source in consequences) or _("未规定"),
                },
            )
            c.follow_late_opened_at = now
            c.save(update_fields=["follow_late_opened_at"])
            audit_log(
                actor=SYSTEM_ACTOR,
                action="verification.late_documents",
                obj=v,
                data={
                    "commitment": c.pk,
                    "due": c.follow_due_date,
                    "consequences": matter.follow_late_consequences if matter else [],
                },
            )
            opened += 1
    return opened
