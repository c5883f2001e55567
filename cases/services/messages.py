"""In-site messages and their e-mail / SMS copies (issue 12, item 3).

Every event that concerns a person leaves one :class:`Message` per person (idempotent on the fact's
``dedupe_key``), written in the transaction of the service that made the fact true. Copies by e-mail and SMS,
as the person prefers, are outbox rows of their own channel (cases.services.outbox): claimed by a conditional
UPDATE, sent by the worker after commit, retried with backoff, never sent twice. The first opening of a
message by its addressee is recorded (送达 evidence).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import policy
from cases.models import Message, MessageKind, MessagePreference, OutboxEvent, PhoneCode, SubjectAuthorisation, User
from cases.services.audit import audit_log
from cases.services.outbox import outbox_enqueue
from workflows.calendar import LEGAL_TZ, get_calendar
from workflows.models import Clock

SYSTEM_ACTOR = "system:messages"


@dataclass(frozen=True)
class Text:
    """One text in both languages: the reader's language is only known when it is read."""

    zh: str
    en: str


def bilingual(message: str, **params) -> Text:
    """Translate ``message`` (a Chinese msgid) into both languages now, with ``params`` filled in."""
    with translation.override("zh-hans"):
        zh = _(message) % params if params else _(message)
    with translation.override("en"):
        en = _(message) % params if params else _(message)
    return Text(zh, en)


def _preference(user) -> MessagePreference:
    return MessagePreference.objects.filter(user=user).first() or MessagePreference(user=user)


def _kick(channel: str) -> None:
    """Send the copies soon after commit instead of waiting for the next scheduled run."""
    from django_q.tasks import async_task

    async_task("cases.tasks.outbox_deliver_task", channel, task_name=f"messages-{channel}")


def _enqueue_copy(*, channel: str, message: Message, payload: dict, actor) -> None:
    outbox_enqueue(
        topic=f"message.{channel}",
        aggregate=message,
        payload=payload,
        dedupe_key=f"message:{message.pk}:{channel}",
        actor=actor,
        channel=channel,
    )
    transaction.on_commit(lambda: _kick(channel))


def message_send(
    *,
    user,
    kind: str,
    dedupe_key: str,
    title: Text,
    body: Text,
    link: str = "",
    tracking_number: str = "",
    actor=SYSTEM_ACTOR,
) -> Message:
    """Tell ``user`` about one fact; idempotent on (user, ``dedupe_key``). Runs in the caller's transaction."""
    with transaction.atomic():
        existing = Message.objects.filter(user=user, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    user=user,
                    kind=kind,
                    dedupe_key=dedupe_key[:160],
                    title=title.zh[:200],
                    title_en=title.en[:300],
                    body=body.zh,
                    body_en=body.en,
                    link=link,
                    tracking_number=tracking_number,
                )
        except IntegrityError:
            return Message.objects.get(user=user, dedupe_key=dedupe_key)
        audit_log(actor=actor, action="message.sent", obj=message, data={"kind": kind, "user": user.pk})
        preference = _preference(user)
        site = settings.SITE_URL.rstrip("/")
        if preference.by_email and user.email:
            _enqueue_copy(
                channel=OutboxEvent.Channel.EMAIL,
                message=message,
                payload={
                    "to": user.email,
                    "subject": f"{title.zh} / {title.en}",
                    "body": f"{body.zh}\n\n{body.en}\n\n{site}{link or reverse('me_messages')}",
                },
                actor=actor,
            )
        if preference.by_sms and user.phone:
            _enqueue_copy(
                channel=OutboxEvent.Channel.SMS,
                message=message,
                payload={"phone": user.phone, "text": f"【信用事项办理平台】{title.zh}：{body.zh}"},
                actor=actor,
            )
    return message


@transaction.atomic
def message_mark_read(*, message: Message, user) -> bool:
    """Record the addressee's first opening (送达 evidence). Of two simultaneous openings one is recorded."""
    if message.user_id != user.pk:
        return False
    now = timezone.now()
    if not Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now):
        return False
    message.read_at = now
    audit_log(actor=user, action="message.read", obj=message, data={"kind": message.kind})
    return True


@transaction.atomic
def message_preference_set(*, user, by_email: bool, by_sms: bool) -> MessagePreference:
    preference, _created = MessagePreference.objects.select_for_update().get_or_create(user=user)
    preference.by_email, preference.by_sms = by_email, by_sms
    preference.save(update_fields=["by_email", "by_sms"])
    audit_log(actor=user, action="message.preference", obj=preference, data={"email": by_email, "sms": by_sms})
    return preference


# --- events on cases -------------------------------------------------------------------------------------

CASE_EVENTS = {
    MessageKind.ACCEPTED: (gettext_noop("您的申请已受理"), gettext_noop("办件%(number)s已受理，请留意办理进度。")),
    MessageKind.SUPPLEMENT: (
        gettext_noop("请补正申请材料"),
        gettext_noop("办件%(number)s需要补正材料：%(detail)s。请在%(due)s前补正，逾期未补正的，申请视为撤回。"),
    ),
    MessageKind.DECIDED: (
        gettext_noop("您的申请已办结"),
        gettext_noop("办件%(number)s已作出决定：%(detail)s。决定书已送达“我的文书”。"),
    ),
    MessageKind.DEEMED_WITHDRAWN: (
        gettext_noop("申请视为撤回"),
        gettext_noop("办件%(number)s未在补正期限内补正材料，申请视为撤回。"),
    ),
}


def case_recipients(case) -> list:
    """Everyone who acts for the case's subject today within the authorisation's scope."""
    procedure = policy.case_procedure(case)
    today = timezone.localdate()
    users = {
        a.user
        for a in SubjectAuthorisation.objects.filter(
            subject_id=case.subject_id,
            status=SubjectAuthorisation.Status.ACTIVE,
            revoked_at__isnull=True,
            valid_from__lte=today,
            user__is_active=True,
        )
        .select_related("user")
        .exclude(valid_until__lt=today)
        if a.covers(procedure)
    }
    # Not the applicant as such: an agent whose authorisation was revoked or ran out hears nothing more.
    return sorted(users, key=lambda u: u.pk)


def case_link(case) -> str:
    from workflows.procedures import PROCEDURES

    procedure = PROCEDURES.get(policy.case_procedure(case) or "")
    if procedure and procedure.applicant_url_name:
        try:
            return reverse(procedure.applicant_url_name, args=[case.pk])
        except NoReverseMatch:
            return ""
    return ""


def message_case_event(*, case, kind: str, actor=SYSTEM_ACTOR, detail: str = "", due: dt.date | None = None):
    """Tell everyone acting for ``case``'s subject that ``kind`` happened. Call inside the service's
    transaction; the dedupe key makes a retried service or a re-run sweep tell nobody twice."""
    title_msgid, body_msgid = CASE_EVENTS[kind]
    number = case.tracking_number or ""
    params = {"number": number, "detail": detail, "due": due.isoformat() if due else ""}
    title, body = bilingual(title_msgid), bilingual(body_msgid, **params)
    ct = ContentType.objects.get_for_model(case)
    for user in case_recipients(case):
        message_send(
            user=user,
            kind=kind,
            dedupe_key=f"case:{ct.pk}:{case.pk}:{kind}:{due or ''}",
            title=title,
            body=body,
            link=case_link(case),
            tracking_number=number,
            actor=actor,
        )


def message_notice_issued(*, notice) -> None:
    """A new 文书 in the inbox: its addressee user and everyone acting for its addressee subject."""
    users = set()
    if notice.addressee_user_id and notice.addressee_user.is_active:
        users.add(notice.addressee_user)
    if notice.addressee_subject_id:
        today = timezone.localdate()
        for a in (
            SubjectAuthorisation.objects.filter(
                subject_id=notice.addressee_subject_id,
                status=SubjectAuthorisation.Status.ACTIVE,
                revoked_at__isnull=True,
                valid_from__lte=today,
                user__is_active=True,
            )
            .exclude(valid_until__lt=today)
            .select_related("user")
        ):
            users.add(a.user)
    title = bilingual(gettext_noop("您收到一份新文书"))
    body = bilingual(
        gettext_noop("%(title)s（%(number)s）已送达，请在“我的文书”中查看。"),
        title=notice.kind_title,
        number=notice.number,
    )
    for user in sorted(users, key=lambda u: u.pk):
        if user.role != "applicant":
            continue
        message_send(
            user=user,
            kind=MessageKind.NOTICE,
            dedupe_key=f"notice:{notice.pk}",
            title=title,
            body=body,
            link=reverse("notices:detail", args=[notice.pk]),
            actor="system:notices",
        )


# --- deadlines that are the applicant's ------------------------------------------------------------------

# The clocks that run against the applicant (not the authority): 补正 window, 陈述申辩 window.
APPLICANT_CLOCK_PURPOSES = ("repair.supplement_window", "commitment.hearing")
REMINDER_WORKING_DAYS = 2


def deadline_reminder_candidates(today: dt.date):
    """The applicant's running windows closing within REMINDER_WORKING_DAYS working days of ``today``.

    The due moment is the end of the due day (workflows.services.clocks), so the same days bound ``due_at``:
    PostgreSQL then reads the windows through clock_open_purpose_due_idx (purpose, due moment), not every
    running window of those purposes."""
    horizon = get_calendar().add_working_days(today, REMINDER_WORKING_DAYS)
    return Clock.objects.filter(
        purpose__in=APPLICANT_CLOCK_PURPOSES,
        stopped_at__isnull=True,
        is_paused=False,
        due_date__gte=today,
        due_date__lte=horizon,
        due_at__gte=dt.datetime.combine(today, dt.time.min, tzinfo=LEGAL_TZ),
        due_at__lt=dt.datetime.combine(horizon + dt.timedelta(days=1), dt.time.min, tzinfo=LEGAL_TZ),
    )


def deadline_reminders_send(*, today: dt.date | None = None) -> int:
    """Tell the applicant 2 working days before a window of theirs closes (issue 12). One message per clock
    and due date: a window moved by a calendar change is announced again, a re-run sweep tells nobody twice."""
    today = today or timezone.localdate()
    sent = 0
    for clock in deadline_reminder_candidates(today).select_related("content_type"):
        case = clock.case
        if case is None or not hasattr(case, "subject_id"):
            continue
        title = bilingual(gettext_noop("期限即将届满"))
        body = bilingual(
            gettext_noop("办件%(number)s的“%(label)s”将于%(due)s届满，请及时办理。"),
            number=case.tracking_number or "",
            label=clock.label,
            due=clock.due_date.isoformat(),
        )
        key = f"deadline:{clock.pk}:{clock.due_date.isoformat()}"
        with transaction.atomic():
            for user in case_recipients(case):
                if Message.objects.filter(user=user, dedupe_key=key).exists():
                    continue
                message_send(
                    user=user,
                    kind=MessageKind.DEADLINE,
                    dedupe_key=key,
                    title=title,
                    body=body,
                    link=case_link(case),
                    tracking_number=case.tracking_number or "",
                )
                sent += 1
    return sent


# --- one-time codes --------------------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def phone_code_send(*, user: User, phone: str, id_number: str = "", actor=SYSTEM_ACTOR) -> PhoneCode:
    """A fresh 6-digit code to ``phone`` by SMS (through the outbox, after commit); earlier codes lapse."""
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        row = PhoneCode.objects.create(
            user=user,
            phone=phone,
            id_number=id_number,
            code_hash=_code_hash(code),
            expires_at=now + dt.timedelta(minutes=settings.PHONE_CODE_MINUTES),
        )
        text = bilingual(
            gettext_noop("【信用事项办理平台】您的注册验证码为%(code)s，%(minutes)s分钟内有效。"),
            code=code,
            minutes=settings.PHONE_CODE_MINUTES,
        )
        outbox_enqueue(
            topic="message.sms",
            aggregate=row,
            payload={"phone": phone, "text": text.zh},
            dedupe_key=f"phonecode:{row.pk}",
            actor=actor,
            channel=OutboxEvent.Channel.SMS,
        )
        transaction.on_commit(lambda: _kick(OutboxEvent.Channel.SMS))
    return row


def phone_code_check(*, user: User, code: str) -> PhoneCode | None:
    """The code row, once, for the right unexpired code; every wrong try counts, and too many end the code."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            return None
        if hmac.compare_digest(row.code_hash, _code_hash(code.strip())):
            row.used_at = now
            row.save(update_fields=["used_at"])
            return row
        row.attempts += 1
        if row.attempts >= settings.PHONE_CODE_ATTEMPTS:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        return None


def phone_sms_send(*, phone: str, text: Text, dedupe_key: str, aggregate, actor=SYSTEM_ACTOR) -> None:
    """An SMS to a number that has no account to put a site message in (e.g. "already registered")."""
    with transaction.atomic():
        outbox_enqueue(
            topic="message.sms",
            aggregate=aggregate,
            payload={"phone": phone, "text": f"【信用事项办理平台】{text.zh}"},
            dedupe_key=dedupe_key,
            actor=actor,
            channel=OutboxEvent.Channel.SMS,
        )
        transaction.on_commit(lambda: _kick(OutboxEvent.Channel.SMS))
