"""信用报告, the reads (issue 12 item 7): what a report on a subject contains, and how many free reports the
subject has had this year.

河南省社会信用条例 Art 40: the subject may know how its information was collected and used, the sources and
the reasons for changes, and a report states who used or looked up the information. So the report lists:
the records shown publicly (with their source), the records no longer shown and why (the record's own change
history), open objections and repairs, commitments and whether they were kept, and the 个人信息查询使用登记
entries (cases.services.privacy) naming the organisation and role that looked.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import policy
from cases.models import (
    AuditEvent,
    Commitment,
    CreditRecord,
    CreditReport,
    ObjectionCase,
    RecordChange,
    RepairApplication,
    Subject,
    SubjectAuthorisation,
)
from cases.models.objection import OPEN_STATES as OBJECTION_OPEN
from cases.models.records import PUBLIC_STATES
from cases.models.repair import OPEN_STATES as REPAIR_OPEN

# The 个人信息查询使用登记 entries that cases.services.privacy writes (the same action name).
PERSONAL_DATA_VIEW = "personal_data.view"


def report_subjects_for_user(*, user):
    """The subjects ``user`` may obtain a report for: those it acts for today in all matters (Art 40: the subject
    itself — its legal representative or a person it authorised for everything, not a 经办人 for one procedure)."""
    if not policy.is_applicant(user):
        return Subject.objects.none()
    ids = policy.active_authorisations(user, procedure=SubjectAuthorisation.Scope.ALL).values("subject_id")
    return Subject.objects.filter(pk__in=ids).order_by("name")


def reports_this_year(*, subject: Subject, year: int | None = None) -> int:
    return CreditReport.objects.filter(subject=subject, year=year or timezone.localdate().year).count()


def reports_this_year_by_subject(*, subject_ids, year: int) -> dict[int, int]:
    rows = (
        CreditReport.objects.filter(subject_id__in=subject_ids, year=year)
        .values("subject_id")
        .annotate(n=Count("id"))
        .values_list("subject_id", "n")
    )
    return dict(rows)


def reports_for_subjects(*, subject_ids) -> list[CreditReport]:
    return list(
        CreditReport.objects.filter(subject_id__in=subject_ids)
        .select_related("subject", "requested_by")
        .order_by("-created_at", "-id")
    )


def _day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _open_cases(cases) -> list[dict]:
    """The report's lines for the subject's open objections or repairs, the earliest received first."""
    return [
        {
            "tracking_number": case.tracking_number,
            "record": case.record.title,
            "state": case.get_state_display(),
            "received_on": _day(case.received_on),
        }
        for case in cases.select_related("record").order_by("received_at")
    ]


def credit_report_content(*, subject: Subject, as_of: dt.datetime | None = None) -> dict:
    """The report's facts as plain data (stored in the notice, which freezes them at issue). Labels are in
    Chinese: the issued document is the legal original, whatever language the requester reads."""
    as_of = as_of or timezone.now()
    with translation.override("zh-hans"):
        records = list(
            CreditRecord.objects.filter(subject=subject)
            .select_related("provider")
            .prefetch_related(
                Prefetch(
                    "changes",
                    queryset=RecordChange.objects.filter(field="display_state").order_by("-changed_at", "-id"),
                    to_attr="display_changes",
                )
            )
            .order_by("-decision_date", "-id")
        )
        shown, hidden = [], []
        for r in records:
            row = {
                "kind": r.get_kind_display(),
                "severity": r.get_severity_display(),
                "title": r.title,
                "decision_number": r.decision_number,
                "provider": r.provider.name,
                "decision_date": _day(r.decision_date),
                "publication_date": _day(r.publication_date),
                "display_until": _day(r.display_max_until),
                "state": r.get_display_state_display(),
            }
            if r.display_state in PUBLIC_STATES:
                shown.append(row)
            else:
                last = r.display_changes[0] if r.display_changes else None
                row["reason"] = last.reason if last else r.get_display_state_display()
                row["changed_on"] = _day(last.changed_at) if last else ""
                row["case_reference"] = last.case_reference if last else ""
                hidden.append(row)
        objections = _open_cases(ObjectionCase.objects.filter(subject=subject, state__in=OBJECTION_OPEN))
        repairs = _open_cases(RepairApplication.objects.filter(subject=subject, state__in=REPAIR_OPEN))
        commitments = [
            {
                "type": c.get_type_display(),
                "matter": c.matter,
                "department": c.department.name if c.department_id else "",
                "signed_on": _day(c.signed_at.date() if c.signed_at else None),
                "status": c.get_status_display(),
            }
            for c in Commitment.objects.filter(subject=subject).select_related("department").order_by("-signed_at")
        ]
        lookups = [
            {
                "at": _day(e.at),
                "organisation": e.actor.organisation.name
                if e.actor_id and e.actor.organisation_id
                else (_("信用主体本人或其授权人员") if e.actor_id and e.actor.role == "applicant" else "—"),
                "role": e.actor.get_role_display() if e.actor_id else e.actor_label,
                "purpose": (e.data or {}).get("reason") or _("依职责查询"),
            }
            for e in AuditEvent.objects.filter(
                action=PERSONAL_DATA_VIEW, object_type=Subject._meta.label_lower, object_id=str(subject.pk)
            )
            .select_related("actor", "actor__organisation")
            .order_by("seq")
        ]
        return {
            "subject_name": subject.name,
            "subject_kind": subject.get_kind_display(),
            "subject_identifier": subject.public_identifier,
            "as_of": _day(as_of),
            "shown": shown,
            "hidden": hidden,
            "objections": objections,
            "repairs": repairs,
            "commitments": commitments,
            "lookups": lookups,
        }
