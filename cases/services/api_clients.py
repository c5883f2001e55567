"""API clients of an organisation: issue, revoke, authenticate; the audit row of every call.

A key is ``ck_<prefix>_<secret>``; only SHA-256(secret) is stored (a leaked database does not leak keys) and
the plain key is returned once. The departments' former commitment tokens had the same form; commitment
uploads now come from clients with the ``commitments:write`` scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import ApiClient, ApiScope, Organisation, Role, User
from cases.services.audit import audit_log

# What each kind of organisation may be given: records and commitments are a department's own business
# ("谁认定、谁修复"), the event feed and webhooks are the credit platform's.
SCOPES_BY_KIND = {
    Organisation.Kind.DEPARTMENT: {
        ApiScope.RECORDS_READ,
        ApiScope.RECORDS_WRITE,
        ApiScope.CASES_READ,
        ApiScope.COMMITMENTS_WRITE,
    },
    Organisation.Kind.CREDIT_CENTRE: {
        ApiScope.RECORDS_READ,
        ApiScope.CASES_READ,
        ApiScope.EVENTS_READ,
        ApiScope.WEBHOOKS,
    },
}
# The role the client's service account holds, so that cases.policy scopes its reads like a person's.
SERVICE_ROLE = {
    Organisation.Kind.DEPARTMENT: Role.DEPT_HANDLER,
    Organisation.Kind.CREDIT_CENTRE: Role.PLATFORM_REVIEWER,
}
KEY_PREFIX = "ck"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_client_issue(
    *,
    actor,
    organisation: Organisation,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
    rate_per_minute: int = 600,
) -> tuple[ApiClient, str]:
    """Issue a client; returns it with its plain key, which is never stored and cannot be shown again."""
    if not policy.is_administrator(actor):
        raise PermissionDenied(_("只有系统管理员可以签发接口密钥。"))
    allowed = SCOPES_BY_KIND.get(organisation.kind)
    if not allowed:
        raise ValidationError({"organisation": _("该类型的机构不能申请接口密钥。")}, code="kind")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in ApiScope.values]
    if unknown or not scopes:
        raise ValidationError({"scopes": _("请选择有效的权限范围。")}, code="scopes")
    refused = [s for s in scopes if s not in allowed]
    if refused:
        raise ValidationError(
            {"scopes": _("该机构不能获得以下权限范围：%(scopes)s") % {"scopes": "、".join(refused)}}, code="scopes"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("有效期必须晚于现在。")}, code="expired")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        user = _service_account(organisation=organisation, prefix=prefix, name=name)
        client = ApiClient.objects.create(
            organisation=organisation,
            name=name.strip()[:80],
            prefix=prefix,
            secret_sha256=_digest(secret),
            scopes=scopes,
            user=user,
            expires_at=expires_at,
            rate_per_minute=rate_per_minute,
            created_by=actor,
        )
        audit_log(
            actor=actor,
            action="api_client.issued",
            obj=client,
            data={"organisation": organisation.pk, "prefix": prefix, "scopes": scopes, "expires_at": expires_at},
        )
    return client, f"{KEY_PREFIX}_{prefix}_{secret}"


def _service_account(*, organisation: Organisation, prefix: str, name: str) -> User:
    user = User(
        username=f"api-{prefix}",
        role=SERVICE_ROLE[organisation.kind],
        organisation=organisation,
        display_name=f"{name.strip()[:55]}（接口）",
    )
    user.set_unusable_password()  # a service account never logs in to the pages
    user.save()
    return user


def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    if not policy.is_administrator(actor):
        raise PermissionDenied(_("只有系统管理员可以吊销接口密钥。"))
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_log(actor=actor, action="api_client.revoked", obj=locked, data={"prefix": locked.prefix})
    return locked


def api_client_authenticate(key: str) -> ApiClient | None:
    """The client a key belongs to, if the key is right, unrevoked, unexpired and its organisation active."""
    parts = (key or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    client = (
        ApiClient.objects.select_related("organisation", "user", "user__organisation").filter(prefix=parts[1]).first()
    )
    if client is None or not hmac.compare_digest(client.secret_sha256, _digest(parts[2])) or not client.is_usable:
        return None
    now = timezone.now()
    # At most one write a minute per client: a busy client must not turn every call into an UPDATE.
    if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def api_call_audit(*, client: ApiClient, method: str, path: str, status: int, idempotency_key: str = "") -> None:
    """Every call is on the record with the client that made it (DESIGN.md, "Audit")."""
    with transaction.atomic():
        audit_log(
            actor=client.user,
            action="api.call",
            obj=client,
            data={"method": method, "path": path[:300], "status": status, "idempotency_key": idempotency_key[:255]},
        )
