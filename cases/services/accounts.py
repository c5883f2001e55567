"""Registration and authorisation: how a person gets in, and acts for a subject (issue 12, item 1).

- A citizen registers with name, 居民身份证号码 (GB 11643-1999, checked), mobile and password; the account
  opens only with the one-time code sent to that mobile (SMS channel, cases.services.messages).
- The account is then matched to the credit subject of that number. Whatever the outcome — new subject,
  existing subject linked, or a number already claimed or under another name — the page answers the same and
  the outcome arrives as a site message, so typing a number never reveals whether it is on file.
- An enterprise's 法定代表人 registers the enterprise (统一社会信用代码, GB 32100-2015) and grants 经办人 (other
  registered users) a scope (one procedure or all) and an end date, and revokes them. Someone who is not the
  legal representative acts only on a 授权委托书 the credit centre approves.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import policy
from cases.identifiers import normalize_id_number, normalize_uscc
from cases.models import Attachment, MessageKind, Role, Subject, SubjectAuthorisation, SubjectKind, User
from cases.services.attachments import attachment_add
from cases.services.audit import audit_log
from cases.services.messages import bilingual, message_send, phone_code_check, phone_code_send, phone_sms_send

Basis = SubjectAuthorisation.Basis
Status = SubjectAuthorisation.Status
Scope = SubjectAuthorisation.Scope


def _tell(user, key: str, title: str, body: str, link: str = "", **params) -> None:
    message_send(
        user=user,
        kind=MessageKind.ACCOUNT,
        dedupe_key=key,
        title=bilingual(title),
        body=bilingual(body, **params),
        link=link,
    )


# --- citizens --------------------------------------------------------------------------------------------


def account_register(*, name: str, id_number: str, phone: str, password: str, email: str = "") -> None:
    """Start a registration: an inactive account and a code to ``phone``. Same outcome for the caller
    whether or not the mobile or the number is known (a mobile already registered gets an SMS saying so).

    Idempotent: registering again before confirming replaces the details and sends a fresh code.
    """
    id_number = normalize_id_number(id_number)
    name = name.strip()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=phone).first()
        if user is not None and user.is_active:
            phone_sms_send(
                phone=phone,
                text=bilingual(
                    gettext_noop("该手机号已注册。如忘记密码，请使用“找回密码”；如非本人操作，请忽略本短信。")
                ),
                dedupe_key=f"already-registered:{phone}:{timezone.now():%Y%m%d%H}",
                aggregate=user,
            )
            return
        if user is None:
            user = User(username=phone, role=Role.APPLICANT, is_active=False)
        user.display_name, user.phone, user.email = name, phone, email.strip()
        user.set_password(password)
        user.save()
        audit_log(actor="system:registration", action="account.register", obj=user, data={"phone": phone[-4:]})
        phone_code_send(user=user, phone=phone, id_number=id_number, actor="system:registration")


def account_confirm(*, phone: str, code: str) -> User | None:
    """Open the account when ``code`` is the one sent to ``phone``; match it to its subject. None: wrong code."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=phone, is_active=False).first()
        if user is None:
            return None
        row = phone_code_check(user=user, code=code)
        if row is None:
            return None
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_log(actor=user, action="account.confirm", obj=user)
        _link_citizen(user, row.id_number)
    return user


def _link_citizen(user: User, id_number: str) -> None:
    subject = Subject.objects.select_for_update().filter(id_number=id_number).first()
    claimed = (
        subject is not None
        and SubjectAuthorisation.objects.filter(subject=subject, basis=Basis.SELF, revoked_at__isnull=True)
        .exclude(user=user)
        .exists()
    )
    if subject is None:
        subject = Subject.objects.create(kind=SubjectKind.INDIVIDUAL, name=user.display_name, id_number=id_number)
    elif claimed or subject.name != user.display_name:
        # Someone else's account holds this number, or the name on file differs: nothing is linked, and only
        # the account holder (who has proved the mobile) learns it, from a message.
        audit_log(actor=user, action="account.link_refused", obj=user, data={"subject": subject.pk})
        _tell(
            user,
            "account:link-refused",
            gettext_noop("身份信息未能自动关联"),
            gettext_noop(
                "您填写的身份信息未能与信用主体自动关联。请携带居民身份证到信用中心窗口办理，或通过统一身份认证登录。"
            ),
        )
        return
    SubjectAuthorisation.objects.update_or_create(
        user=user,
        subject=subject,
        defaults={
            "basis": Basis.SELF,
            "scope": Scope.ALL,
            "status": Status.ACTIVE,
            "valid_from": timezone.localdate(),
            "valid_until": None,
            "revoked_at": None,
        },
    )
    audit_log(actor=user, action="account.linked", obj=subject, data={"user": user.pk})
    _tell(
        user,
        "account:linked",
        gettext_noop("注册成功"),
        gettext_noop("您的账户已与本人信用信息关联，可以在个人中心查看和办理。"),
    )


# --- enterprises -----------------------------------------------------------------------------------------


def enterprise_register(
    *,
    actor: User,
    uscc: str,
    name: str,
    capacity: str,
    legal_representative: str = "",
    attorney=None,
) -> None:
    """Register ``actor`` as acting for the enterprise ``uscc``: as its 法定代表人 (``capacity`` "legal_rep")
    or on a 授权委托书 (``capacity`` "agent", ``attorney`` an upload the credit centre reviews).

    The caller shows the same answer whatever happens; the outcome arrives as a message.
    """
    if not policy.is_applicant(actor):
        raise PermissionDenied(_("只有申请人账户可以登记企业。"))
    uscc, name = normalize_uscc(uscc), name.strip()
    legal_representative = (legal_representative or "").strip()
    with transaction.atomic():
        subject = Subject.objects.select_for_update().filter(uscc=uscc).first()
        if subject is None:
            subject = Subject.objects.create(
                kind=SubjectKind.ENTERPRISE,
                name=name,
                uscc=uscc,
                legal_representative=actor.display_name if capacity == "legal_rep" else legal_representative,
            )
            audit_log(actor=actor, action="subject.register", obj=subject, data={"uscc": uscc})
        existing = SubjectAuthorisation.objects.select_for_update().filter(user=actor, subject=subject).first()
        if existing and existing.status in (Status.ACTIVE, Status.PENDING) and existing.revoked_at is None:
            if existing.status == Status.PENDING or existing.basis in (Basis.LEGAL_REPRESENTATIVE, Basis.SELF):
                return  # a repeated submission: nothing new to do
        if capacity == "legal_rep":
            if subject.legal_representative != actor.display_name or subject.name != name:
                audit_log(actor=actor, action="subject.claim_refused", obj=subject)
                _tell(
                    actor,
                    f"enterprise:{subject.pk}:refused:{timezone.now():%Y%m%d%H%M}",
                    gettext_noop("企业登记未通过"),
                    gettext_noop(
                        "您填写的企业名称或法定代表人与登记信息不一致，未能以法定代表人身份关联该企业。"
                        "如您受企业委托办理，请选择“受托经办人”并上传授权委托书。"
                    ),
                )
                return
            _authorise(actor, subject, basis=Basis.LEGAL_REPRESENTATIVE, status=Status.ACTIVE, granted_by=actor)
            _tell(
                actor,
                f"enterprise:{subject.pk}:legal_rep",
                gettext_noop("企业登记成功"),
                gettext_noop("您已作为法定代表人关联%(name)s，可以在个人中心为其授权经办人。"),
                name=subject.name,
            )
            return
        if attorney is None:
            raise ValidationError({"attorney": _("受托经办人须上传授权委托书。")})
        auth = _authorise(actor, subject, basis=Basis.AGENT, status=Status.PENDING, granted_by=None)
        attachment_add(actor=actor, case=auth, purpose=Attachment.Purpose.POWER_OF_ATTORNEY, uploaded=attorney)
        _tell(
            actor,
            f"authorisation:{auth.pk}:submitted:{auth.requested_at:%Y%m%d%H%M%S}",
            gettext_noop("授权委托书已提交"),
            gettext_noop("您以受托经办人身份提交的授权委托书已提交信用中心审核，审核结果将以消息通知您。"),
        )


def _authorise(user, subject, *, basis, status, granted_by, scope=Scope.ALL, valid_until=None):
    auth, _created = SubjectAuthorisation.objects.update_or_create(
        user=user,
        subject=subject,
        defaults={
            "basis": basis,
            "scope": scope,
            "status": status,
            "valid_from": timezone.localdate(),
            "valid_until": valid_until,
            "revoked_at": None,
            "granted_by": granted_by,
            "reviewed_by": None,
            "reviewed_at": None,
            "review_note": "",
            "requested_at": timezone.now(),
        },
    )
    audit_log(
        actor=granted_by or user,
        action="authorisation.grant" if status == Status.ACTIVE else "authorisation.request",
        obj=auth,
        data={"user": user.pk, "subject": subject.pk, "basis": basis, "scope": scope, "until": valid_until},
    )
    return auth


def authorisation_review(*, actor, authorisation: SubjectAuthorisation, approve: bool, note: str = "") -> None:
    """The credit centre approves or refuses a 授权委托书 (a refusal states its reason)."""
    if not policy.can_review_authorisations(actor):
        raise PermissionDenied(_("只有信用中心工作人员可以审核授权委托书。"))
    if not approve and not note.strip():
        raise ValidationError({"note": _("不予通过时请写明理由。")})
    with transaction.atomic():
        auth = (
            SubjectAuthorisation.objects.select_for_update().select_related("subject", "user").get(pk=authorisation.pk)
        )
        if auth.status != Status.PENDING:
            raise ValidationError(_("该授权已审核，请勿重复操作。"))
        auth.status = Status.ACTIVE if approve else Status.REFUSED
        auth.reviewed_by, auth.reviewed_at, auth.review_note = actor, timezone.now(), note.strip()[:300]
        auth.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        audit_log(actor=actor, action=f"authorisation.{auth.status}", obj=auth, data={"note": auth.review_note})
        if approve:
            _tell(
                auth.user,
                f"authorisation:{auth.pk}:approved:{auth.reviewed_at:%Y%m%d%H%M%S}",
                gettext_noop("授权委托书审核通过"),
                gettext_noop("您可以代%(name)s办理信用事项。"),
                name=auth.subject.name,
            )
        else:
            _tell(
                auth.user,
                f"authorisation:{auth.pk}:refused:{auth.reviewed_at:%Y%m%d%H%M%S}",
                gettext_noop("授权委托书审核未通过"),
                gettext_noop("您代%(name)s提交的授权委托书未通过审核，理由：%(note)s"),
                name=auth.subject.name,
                note=auth.review_note,
            )


# --- 经办人 ------------------------------------------------------------------------------------------------


def agent_grant(
    *, actor, subject: Subject, phone: str, name: str, scope: str, valid_until: dt.date
) -> SubjectAuthorisation:
    """The legal representative authorises a registered colleague (matched by mobile and name)."""
    if not policy.is_legal_representative(actor, subject):
        raise PermissionDenied(_("只有法定代表人可以授权经办人。"))
    if valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("授权截止日期不能早于今天。")})
    target = User.objects.filter(username=phone.strip(), display_name=name.strip(), is_active=True).first()
    if target is None or target.role != Role.APPLICANT:
        raise ValidationError({"phone": _("未找到手机号与姓名均一致的已注册用户，请确认对方已完成注册。")})
    if target.pk == actor.pk:
        raise ValidationError({"phone": _("不能授权给自己。")})
    with transaction.atomic():
        current = SubjectAuthorisation.objects.select_for_update().filter(user=target, subject=subject).first()
        if current and current.basis in (Basis.LEGAL_REPRESENTATIVE, Basis.SELF) and current.revoked_at is None:
            raise ValidationError({"phone": _("对方已是该主体的法定代表人，无需授权。")})
        if (
            current
            and current.status == Status.ACTIVE
            and current.revoked_at is None
            and (current.scope, current.valid_until) == (scope, valid_until)
        ):
            return current  # the same grant submitted twice
        auth = _authorise(
            target,
            subject,
            basis=Basis.EMPLOYEE,
            status=Status.ACTIVE,
            granted_by=actor,
            scope=scope,
            valid_until=valid_until,
        )
        _tell(
            target,
            f"authorisation:{auth.pk}:granted:{auth.requested_at:%Y%m%d%H%M%S}",
            gettext_noop("您已被授权为经办人"),
            gettext_noop("%(name)s授权您办理：%(scope)s，有效期至%(until)s。"),
            name=subject.name,
            scope=str(Scope(scope).label),
            until=valid_until.isoformat(),
        )
    return auth


def agent_revoke(*, actor, authorisation: SubjectAuthorisation) -> None:
    if not policy.is_legal_representative(actor, authorisation.subject):
        raise PermissionDenied(_("只有法定代表人可以撤销授权。"))
    with transaction.atomic():
        auth = (
            SubjectAuthorisation.objects.select_for_update().select_related("subject", "user").get(pk=authorisation.pk)
        )
        if auth.user_id == actor.pk or auth.basis in (Basis.LEGAL_REPRESENTATIVE, Basis.SELF):
            raise ValidationError(_("法定代表人本人的授权不能在此撤销。"))
        if auth.revoked_at is not None:
            return
        auth.revoked_at = timezone.now()
        auth.save(update_fields=["revoked_at"])
        audit_log(actor=actor, action="authorisation.revoke", obj=auth, data={"user": auth.user_id})
        _tell(
            auth.user,
            f"authorisation:{auth.pk}:revoked:{auth.revoked_at:%Y%m%d%H%M%S}",
            gettext_noop("经办人授权已撤销"),
            gettext_noop("%(name)s已撤销对您的经办人授权。"),
            name=auth.subject.name,
        )


def validate_registration_password(password: str, user: User | None = None) -> None:
    validate_password(password, user)
