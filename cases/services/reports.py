"""信用报告, the write (issue 12 item 7): a subject's free credit report, issued as a numbered notice.

河南省社会信用条例 Art 40: twice a year free (rule-set parameter ``report.free_per_year``), counted per subject and
calendar year (Beijing time); a further request is refused with the reason and the date the count starts
again. The report is a notice of kind ``credit_report`` from the credit centre, so it gets a gap-free number,
a verification code and the public verification page like every other document.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import CreditReport, Organisation, Subject
from cases.selectors.reports import credit_report_content
from cases.services.audit import audit_log
from notices.services import notice_request
from workflows import rules

KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class ReportError(ValidationError):
    """A report refused for a reason the person can act on (bilingual, shown on the page)."""


def _issuer() -> Organisation:
    # 河南省社会信用条例 Art 40: the report comes from the body that collects the information — the city credit
    # centre that runs the platform.
    issuer = Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).order_by("pk").first()
    if issuer is None:
        raise ReportError(_("信用中心尚未配置，暂不能出具信用报告，请联系平台管理员。"), code="no_issuer")
    return issuer


def credit_report_request(*, actor, subject: Subject, request_key: str) -> CreditReport:
    """Issue ``subject``'s credit report to ``actor``. The same ``request_key`` returns the same report."""
    if not policy.can_apply_for(actor, subject):
        raise PermissionDenied(_("您无权获取该主体的信用报告。"))
    if not KEY.match(request_key or ""):
        raise ReportError(_("请求标识无效，请刷新页面后重试。"), code="bad_key")
    now = timezone.now()
    year = timezone.localdate(now).year
    issuer = _issuer()
    with transaction.atomic():
        # One request per subject at a time: the yearly count below cannot be raced past the limit.
        Subject.objects.select_for_update().get(pk=subject.pk)
        existing = CreditReport.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.subject_id != subject.pk or existing.requested_by_id != actor.pk:
                raise ReportError(_("请求标识无效，请刷新页面后重试。"), code="bad_key")
            return existing
        rule_set = rules.ruleset_in_force(now)
        free = int(rules.rule_param(rule_set, rules.REPORT_FREE_PER_YEAR))
        used = CreditReport.objects.filter(subject=subject, year=year).count()
        if used >= free:
            raise ReportError(
                _(
                    "%(name)s本年度已免费获取信用报告%(used)d次，已达上限（《河南省社会信用条例》第四十条：每年免费获取二次）。"
                    "%(next)d年1月1日起可再次免费获取；如需查询信用信息，可随时在本平台免费查询。"
                )
                % {"name": subject.name, "used": used, "next": year + 1},
                code="quota",
            )
        report = CreditReport.objects.create(
            subject=subject,
            year=year,
            ordinal=used + 1,
            requested_by=actor,
            request_key=request_key,
            rule_set=rule_set,
        )
        context = credit_report_content(subject=subject, as_of=now)
        context.update({"year": year, "ordinal": report.ordinal, "free_per_year": free})
        notice_request(
            case=report,
            kind="credit_report",
            trigger="issue",
            issuer=issuer,
            addressee_subject=subject,
            addressee_user=actor,
            context=context,
            actor=actor,
        )
        audit_log(
            actor=actor,
            action="credit_report.requested",
            obj=report,
            data={"subject": subject.pk, "year": year, "ordinal": report.ordinal},
        )
    return report
