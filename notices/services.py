"""Every write to notices: request, render and issue, mark read, supersede, retry.

The life of a notice (DESIGN.md, "Notices"; STYLE.md 5–6):

1. A procedure's service calls ``notice_request`` inside its own transaction. One row per case, kind and
   trigger (a unique constraint), so repeating the step never produces a second notice. After commit a
   django-q2 task is queued.
2. The task calls ``notice_render``. It *claims* the row by a conditional update that succeeds for one worker
   only (and counts the attempt), then numbers the notice in a short transaction (the number is recorded
   with the notice: "numbered, not yet rendered"), renders the PDF outside any transaction, and in a second
   short transaction records its SHA-256 and marks the notice issued and delivered to the inbox. If the
   worker dies or times out while rendering, the notice keeps its number and the next attempt (the broker
   re-delivers, or ``notice_render_due`` finds it once the claim's lease has run out) renders it again with
   that number and overwrites the same file path. So there is never a burned number nor a second PDF, and no
   other notice waits for a render; after the last attempt the notice is marked failed and staff alerted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import mail_admins, send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Organisation, Subject
from cases.portable_sql import insert_unless_exists
from cases.services.audit import audit_log
from cases.services.messages import message_notice_issued
from cases.services.sequences import sequence_next
from notices import kinds, rendering, signing
from notices.models import Notice
from notices.selectors import is_addressee

logger = logging.getLogger("casework.notices")

# No 0/O, 1/I/L: the code is typed in by hand from paper. 31 symbols, 10 of them: about 49 bits, far beyond
# guessing even with no rate limit on the public page.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def claim_lease() -> dt.timedelta:
    """How long a claim protects a notice being rendered. Longer than the django-q2 task timeout, so a slow
    but living worker is never overtaken; after it, the claim is taken to belong to a dead worker."""
    return dt.timedelta(seconds=getattr(settings, "NOTICE_CLAIM_LEASE_SECONDS", 300))


def max_attempts() -> int:
    return getattr(settings, "NOTICE_MAX_ATTEMPTS", 5)


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _json_safe(context: dict) -> dict:
    import json

    return json.loads(json.dumps(context, cls=DjangoJSONEncoder, ensure_ascii=False))


def _enqueue_render(notice_id: int) -> None:
    from django_q.tasks import async_task

    async_task("notices.tasks.render_notice", notice_id, task_name=f"notice-{notice_id}")


# --- request ---------------------------------------------------------------------------------------------
def issuer_contact(issuer: Organisation) -> dict:
    """The department's contact printed as 联系方式 (not the applicant's: issue 10 item 13)."""
    return {
        "issuer_contact_name": issuer.contact_name,
        "issuer_contact_phone": issuer.contact_phone,
    }


# Atomic without a savepoint of its own: the body runs in ``transaction.atomic(savepoint=False)`` (issue 15).
def notice_request(
    *,
    case: models.Model,
    kind: str,
    trigger: str,
    issuer: Organisation,
    addressee_subject: Subject | None = None,
    addressee_user=None,
    addressee_organisation: Organisation | None = None,
    context: dict,
    actor,
    supersedes: Notice | None = None,
) -> Notice:
    """Ask for a notice; it is rendered and issued by a background task after this transaction commits.

    Idempotent on (case, kind, trigger): asking again returns the notice already requested, unchanged (the
    first request's content wins; a different content is a correction, see ``notice_supersede``).
    """
    notice_kind = kinds.get_kind(kind)
    if case is None or case.pk is None:
        raise ValidationError(_("文书必须关联已保存的办件。"))
    if addressee_subject is None and addressee_user is None and addressee_organisation is None:
        raise ValidationError(_("文书必须有受送达人。"))
    missing = [key for key in notice_kind.required if context.get(key) in (None, "", [], {})]
    if missing:
        raise ValidationError(
            _("%(title)s缺少必要内容：%(keys)s") % {"title": notice_kind.title, "keys": "、".join(missing)}
        )
    content_type = ContentType.objects.get_for_model(case)
    key = {"content_type": content_type, "object_id": case.pk, "kind": kind, "trigger": trigger}
    # In the caller's transaction without savepoints (issue 15): one INSERT ... ON CONFLICT DO NOTHING RETURNING;
    # when the key exists (a repeated request, or a concurrent first request that won the unique key and
    # committed first) its row is the notice.
    with transaction.atomic(savepoint=False):
        notice = Notice(
            **key,
            issuer=issuer,
            year=timezone.localdate().year,
            addressee_subject=addressee_subject,
            addressee_user=addressee_user,
            addressee_organisation=addressee_organisation,
            # The issuer's 联系方式 as it stands today: the issued notice keeps it even if it changes later.
            context=_json_safe({**issuer_contact(issuer), **context}),
            supersedes=supersedes,
        )
        created = insert_unless_exists(notice, unique=("content_type", "object_id", "kind", "trigger"))
        if not created:
            notice = Notice.objects.get(**key)
        if created:
            audit_log(
                actor=actor,
                action="notice.requested",
                obj=notice,
                data={
                    "kind": kind,
                    "trigger": trigger,
                    "case": f"{content_type.app_label}.{content_type.model}:{case.pk}",
                    "issuer": issuer.pk,
                    "addressee_organisation": addressee_organisation.pk if addressee_organisation else None,
                    "supersedes": supersedes.pk if supersedes else None,
                },
            )
        if notice.status in (Notice.Status.PENDING, Notice.Status.NUMBERED):
            # Queued again on a repeated request too: harmless (rendering is idempotent) and it heals a job lost
            # between commit and enqueue.
            notice_id = notice.pk
            transaction.on_commit(lambda: _enqueue_render(notice_id))
        return notice


# --- render and issue ------------------------------------------------------------------------------------
# Still to be issued: requested and not yet numbered, or numbered and not yet rendered.
OPEN_STATUSES = (Notice.Status.PENDING, Notice.Status.NUMBERED)


def _claim(notice_id: int) -> dt.datetime | None:
    """Take the notice for this worker, or return None if it is issued, failed, or another live worker has it.

    One UPDATE with the conditions in its WHERE clause: PostgreSQL re-checks them on the locked row, so two
    workers racing for the same notice cannot both see 1 row updated. The attempt is counted here, before
    rendering, so an attempt that never returns (django-q2's timeout is a SystemExit, a killed worker runs no
    handler at all) still counts towards the limit.
    """
    now = timezone.now()
    taken = (
        Notice.objects.filter(pk=notice_id, status__in=OPEN_STATUSES, attempts__lt=max_attempts())
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if taken == 1:
        return now
    _fail_if_exhausted(notice_id, now)
    return None


def _pdf_name(notice: Notice) -> str:
    # Fixed per notice: an attempt that died after writing the file is overwritten by the next one, never
    # left beside it.
    return f"notices/{timezone.localdate(notice.requested_at).year}/notice-{notice.pk}.pdf"


def format_number(*, issuer: Organisation, prefix: str, year: int, serial: int) -> str:
    """E.g. 郑信修受〔2026〕第0012号 (PROCEDURES.md, "Notices — common rules")."""
    org_prefix = issuer.notice_prefix or issuer.short_name
    return f"{org_prefix}{prefix}〔{year}〕第{serial:04d}号"


def notice_render(*, notice_id: int) -> Notice | None:
    """Claim, number, render, store, hash and deliver one notice. Safe to run any number of times, in any
    number of workers: returns the issued notice, or None when there was nothing for this run to do.

    Three steps, none of which holds a lock across the rendering (issue 15; issue 10 item 3):

    1. ``_number``: a short transaction takes the next number of the issuer/kind/year sequence and records it
       with the notice (status "numbered"): the number is the notice's from then on, never given back, so the
       sequence stays gap-free without being locked while a PDF is drawn.
    2. ``notice_pdf``: render (and, where configured, sign) the PDF, outside any transaction.
    3. ``_issue``: a short transaction stores the file's hash and marks the notice issued and delivered.

    A render can only succeed or be retried with the same number; after ``NOTICE_MAX_ATTEMPTS`` attempts
    the notice is marked failed with its error and staff are alerted (``notice_retry`` puts it back).
    """
    claimed_at = _claim(notice_id)
    if claimed_at is None:
        return None
    stored_name = None
    try:
        notice = _number(notice_id, claimed_at)
        if notice is None:
            return None
        pdf = notice_pdf(notice)
        name = _pdf_name(notice)
        if default_storage.exists(name):
            default_storage.delete(name)
        stored_name = default_storage.save(name, ContentFile(pdf))
        return _issue(notice_id, claimed_at, stored_name, pdf)
    except (Exception, SystemExit) as exc:
        # SystemExit: django-q2's task timeout (TimeoutException). Record it and let it go on.
        _release(notice_id, claimed_at, exc)
        raise


def notice_pdf(notice: Notice) -> bytes:
    """The issued document's bytes: the notice's HTML rendered to PDF. The one step that may be slow; it runs
    outside any transaction and lock, and it is repeatable (same number, same content). Signed (PAdES) by the
    issuing organisation after the number is assigned: a failure to sign is a failure to issue."""
    return signing.sign_pdf(rendering.pdf_bytes(rendering.html_for(notice)), notice.issuer)


def _locked(notice_id: int, claimed_at: dt.datetime) -> Notice | None:
    notice = (
        Notice.objects.select_for_update(of=("self",))
        .select_related("issuer", "addressee_subject", "addressee_user", "addressee_organisation", "supersedes")
        .get(pk=notice_id)
    )
    if notice.status not in OPEN_STATUSES or notice.claimed_at != claimed_at:
        # Our lease ran out and another worker took over (and maybe finished): leave it to them.
        return None
    return notice


def _number(notice_id: int, claimed_at: dt.datetime) -> Notice | None:
    """Give the notice its number, date and verification code in one short transaction (once: a notice
    numbered by an earlier attempt keeps what it has)."""
    with transaction.atomic():
        notice = _locked(notice_id, claimed_at)
        if notice is None or notice.status == Notice.Status.NUMBERED:
            return notice
        kind = kinds.get_kind(notice.kind)
        # The document's date is the day it is numbered; a retry the next day prints the same date.
        issued_at = timezone.now()
        year = timezone.localdate(issued_at).year
        rule_set = getattr(notice.case, "rule_set", None)
        serial = sequence_next(scope=f"notice:{notice.issuer_id}:{notice.kind}", year=year)
        notice.year = year
        notice.serial = serial
        notice.number = format_number(
            issuer=notice.issuer, prefix=kinds.number_prefix(kind, rule_set), year=year, serial=serial
        )
        notice.verification_code = new_verification_code()
        notice.issued_at = issued_at
        notice.status = Notice.Status.NUMBERED
        notice.save(update_fields=["year", "serial", "number", "verification_code", "issued_at", "status"])
        audit_log(
            actor="system:notices",
            action="notice.numbered",
            obj=notice,
            data={"number": notice.number, "kind": notice.kind},
        )
    return notice


def _issue(notice_id: int, claimed_at: dt.datetime, stored_name: str, pdf: bytes) -> Notice | None:
    with transaction.atomic():
        notice = _locked(notice_id, claimed_at)
        if notice is None:
            return None
        notice.pdf.name = stored_name
        notice.sha256 = hashlib.sha256(pdf).hexdigest()
        notice.status = Notice.Status.ISSUED
        # Placed in the addressee's in-app inbox in this same transaction: that is delivery (送达); the first
        # opening is recorded separately as read_at.
        notice.delivered_at = timezone.now()
        notice.last_error = ""
        notice.save(update_fields=["pdf", "sha256", "status", "delivered_at", "last_error"])
        if notice.supersedes_id:
            Notice.objects.filter(pk=notice.supersedes_id, status=Notice.Status.ISSUED).update(
                status=Notice.Status.SUPERSEDED
            )
        audit_log(
            actor="system:notices",
            action="notice.issued",
            obj=notice,
            data={
                "number": notice.number,
                "kind": notice.kind,
                "sha256": notice.sha256,
                "supersedes": notice.supersedes.number if notice.supersedes_id else None,
            },
        )
        # The person is told in the site (and by e-mail/SMS as they prefer) through cases.services.messages.
        message_notice_issued(notice=notice)
        transaction.on_commit(lambda: _email_addressee(notice))
    return notice


def _release(notice_id: int, claimed_at: dt.datetime, exc: BaseException) -> None:
    """Give the claim back after an error so a retry can take it; after the last attempt the notice fails."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    logger.warning("notice %s failed to render: %s", notice_id, error)
    try:
        Notice.objects.filter(pk=notice_id, status__in=OPEN_STATUSES, claimed_at=claimed_at).update(
            claimed_at=None, last_error=error
        )
        _fail_if_exhausted(notice_id, timezone.now())
    except Exception:  # noqa: BLE001 — the original error is what the caller must see
        logger.exception("could not record the failed render of notice %s", notice_id)


def _fail_if_exhausted(notice_id: int, now: dt.datetime) -> None:
    """Mark failed a notice whose attempts are used up and that nobody is working on (the claim was given
    back, or its lease ran out because the worker died or timed out), and alert staff once."""
    with transaction.atomic():
        failed = (
            Notice.objects.filter(pk=notice_id, status__in=OPEN_STATUSES, attempts__gte=max_attempts())
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease()))
            .update(status=Notice.Status.FAILED, claimed_at=None)
        )
        if not failed:
            return
        notice = Notice.objects.select_related("issuer").get(pk=notice_id)
        if not notice.last_error:
            notice.last_error = _("%(n)s次尝试均未完成（任务超时或工作进程退出）") % {"n": notice.attempts}
            Notice.objects.filter(pk=notice_id).update(last_error=notice.last_error)
        audit_log(
            actor="system:notices",
            action="notice.failed",
            obj=notice,
            data={"number": notice.number, "attempts": notice.attempts, "error": notice.last_error[:500]},
        )
        transaction.on_commit(lambda: _alert_staff(notice))


def _alert_staff(notice: Notice) -> None:
    """Tell the issuing organisation's officers and the site administrators that a notice could not be
    generated (the failed notice waits in the admin for a retry). Logged at ERROR, which operators watch."""
    subject = _("文书生成失败：%(title)s %(number)s") % {
        "title": kinds.get_kind(notice.kind).title,
        "number": notice.number or f"#{notice.pk}",
    }
    message = _("%(n)s次尝试后仍未生成，最近错误：%(error)s。请排除原因后在管理后台重新生成。") % {
        "n": notice.attempts,
        "error": notice.last_error,
    }
    logger.error("notice %s failed after %s attempts: %s", notice.pk, notice.attempts, notice.last_error)
    recipients = list(notice.issuer.members.filter(is_active=True).exclude(email="").values_list("email", flat=True))
    try:
        if recipients:
            send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
        mail_admins(subject, message, fail_silently=True)
    except Exception:  # noqa: BLE001 — the failed status and the log are the record
        logger.exception("could not alert staff about notice %s", notice.pk)


def _email_addressee(notice: Notice) -> None:
    """Optional second channel (DESIGN.md: "e-mail when configured"). The inbox is the delivery of record;
    a mail failure is logged, never raised."""
    if not getattr(settings, "NOTICE_EMAIL_ENABLED", False):
        return
    recipients = []
    if notice.addressee_user_id and notice.addressee_user.email:
        recipients.append(notice.addressee_user.email)
    if not recipients:
        return
    try:
        send_mail(
            subject=_("您有一份新文书：%(title)s %(number)s")
            % {"title": kinds.get_kind(notice.kind).title, "number": notice.number},
            message=_("请登录信用事项办理平台，在“我的文书”中查看并下载。"),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # noqa: BLE001 — the notice is delivered already; e-mail is a courtesy
        logger.exception("e-mail for notice %s failed", notice.pk)


def notice_render_due(*, limit: int = 200) -> int:
    """Render notices nobody is working on: never claimed for a while (the queued job was lost) or claimed
    by a worker whose lease ran out (it died). Run on a schedule; returns how many were issued."""
    now = timezone.now()
    due = (
        Notice.objects.filter(status__in=OPEN_STATUSES)
        .filter(
            Q(claimed_at__isnull=True, requested_at__lt=now - dt.timedelta(minutes=1))
            | Q(claimed_at__lt=now - claim_lease())
        )
        .order_by("requested_at")
        .values_list("pk", flat=True)[:limit]
    )
    issued = 0
    for notice_id in list(due):
        try:
            if notice_render(notice_id=notice_id) is not None:
                issued += 1
        except Exception:  # noqa: BLE001 — one bad notice must not stop the sweep; the error is on its row
            logger.exception("notice %s could not be rendered", notice_id)
    return issued


@transaction.atomic
def notice_retry(*, notice: Notice, actor) -> Notice:
    """Staff put a notice that failed to render back in the queue (after fixing the cause)."""
    # A notice that was numbered keeps its number: it is rendered again with it.
    updated = Notice.objects.filter(pk=notice.pk, status=Notice.Status.FAILED).update(
        status=Case(
            When(serial__isnull=False, then=Value(Notice.Status.NUMBERED)), default=Value(Notice.Status.PENDING)
        ),
        claimed_at=None,
        attempts=0,
    )
    if not updated:
        raise ValidationError(_("只有生成失败的文书可以重新生成。"))
    audit_log(actor=actor, action="notice.retry", obj=notice)
    transaction.on_commit(lambda: _enqueue_render(notice.pk))
    notice.refresh_from_db()
    return notice


# --- delivery evidence -----------------------------------------------------------------------------------
@transaction.atomic
def notice_mark_read(*, notice: Notice, user) -> bool:
    """Record the first time the addressee opens the notice: the 送达 receipt. The addressee is the user, or
    someone acting for the addressee subject, or — for a notice to an organisation — a member of that
    organisation, whose name the receipt keeps (签收人). Others opening it (the issuer, supervisors) do not
    count. Returns True when this call recorded it."""
    if not notice.is_issued or not is_addressee(notice=notice, user=user):
        return False
    now = timezone.now()
    # Conditional update: of two simultaneous first openings, exactly one is recorded.
    if not Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now, read_by=user):
        return False
    notice.read_at = now
    notice.read_by = user
    audit_log(
        actor=user,
        action="notice.read",
        obj=notice,
        data={
            "number": notice.number,
            "reader": user.pk,
            "organisation": notice.addressee_organisation_id,
        },
    )
    return True


# --- correction ------------------------------------------------------------------------------------------
@transaction.atomic
def notice_supersede(*, notice: Notice, context: dict, reason: str, actor) -> Notice:
    """Correct an issued notice: a new notice of the same kind, case and addressee with the corrected content,
    which names the one it replaces. The old one stays as it was, marked superseded when the new one is
    issued (so there is always exactly one notice in force)."""
    old = Notice.objects.select_for_update().get(pk=notice.pk)
    if old.status != Notice.Status.ISSUED:
        raise ValidationError(_("只有已签发且未被更正的文书可以更正。"))
    if not reason.strip():
        raise ValidationError(_("请说明更正理由。"))
    if Notice.objects.filter(supersedes=old).exists():
        raise ValidationError(_("该文书已有更正文书。"))
    merged = {**old.context, **context, "correction_reason": reason}
    new = notice_request(
        case=old.case,
        kind=old.kind,
        trigger=f"correction-of-{old.pk}",
        issuer=old.issuer,
        addressee_subject=old.addressee_subject,
        addressee_user=old.addressee_user,
        addressee_organisation=old.addressee_organisation,
        context=merged,
        actor=actor,
        supersedes=old,
    )
    audit_log(
        actor=actor,
        action="notice.supersede_requested",
        obj=old,
        data={"number": old.number, "correction": new.pk, "reason": reason},
    )
    return new
