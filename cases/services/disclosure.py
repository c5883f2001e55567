"""双公示: departments enter their administrative licensing and penalty decisions, which the platform
publishes; each decision carries its reporting clock from the decision date; the department corrects or
revokes its own record, and revocation and expiry are reported to the city credit platform.

Limits (rule-set parameters, with their citations):
- ``disclosure.publish_wd`` / ``disclosure.publish_days``: "各单位在做出决定之日起7个工作日或11个自然日内将
  “双公示”信息报送至郑州市信用平台" (郑东新区社会信用体系建设2022年工作要点, item 4); the 2016 Zhengzhou work plan
  (郑州市创建国家社会信用体系建设示范城市工作方案, task table 二.1) gives the 7 working days alone. The seed says
  *or*: a report is in time if it meets either count, so the deadline is the later of the two dates
  (normally the 11 calendar days; across a long holiday the 7 working days).
- ``objection.revocation_wd``: information whose basis was revoked is removed within 1 working day of the
  update (河南省社会信用条例 Art 42); expiry (display stops at the end of the maximum period) is reported
  within the same limit.

The report itself is an outbox event whose legal clock is the 双公示 clock: it stops when the platform has
received the decision, so a decision entered late, or stuck in delivery, shows as a late publication.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.identifiers import normalize_id_number, normalize_uscc, validate_id_number, validate_uscc
from cases.models import CreditRecord, Organisation, RecordKind, Subject
from cases.models.records import DISCLOSURE_PURPOSE
from cases.services.audit import audit_log
from cases.services.outbox import outbox_enqueue
from cases.services.records import record_create, record_revoke, record_update_fields
from cases.services.subjects import subject_create_enterprise, subject_create_person
from cases.services.tables import decode_csv
from workflows.calendar import get_calendar
from workflows.deadlines import derive
from workflows.models import Clock
from workflows.rules import (
    DISCLOSURE_PUBLISH_DAYS,
    DISCLOSURE_PUBLISH_WD,
    OBJECTION_REVOCATION_WD,
    rule_param_detail,
    ruleset_in_force,
)
from workflows.services.clocks import clock_start

INTAKE_KINDS = (RecordKind.ADMINISTRATIVE_PENALTY, RecordKind.ADMINISTRATIVE_LICENSE)
# What a department may correct on its own decision (the subject is not among them: a decision entered
# against the wrong subject is revoked and entered again).
CORRECTABLE_FIELDS = ("title", "decision_number", "content", "legal_basis", "severity", "sector", "decision_date")


@dataclass(frozen=True)
class DisclosureLimit:
    unit: str
    budget: int
    due_date: dt.date
    citation: str


def disclosure_limit(decision_date: dt.date) -> DisclosureLimit:
    """The 双公示 limit of a decision under the rule set in force on its date: the later of the 7 working
    days and the 11 calendar days (the seed's "或"), with both citations."""
    rule_set = ruleset_in_force(decision_date)
    cal = get_calendar()
    options = []
    for key in (DISCLOSURE_PUBLISH_WD, DISCLOSURE_PUBLISH_DAYS):
        param = rule_param_detail(rule_set, key)
        derived = derive(
            unit=param.unit,
            budget=int(param.value),
            extension_days=0,
            start_date=decision_date,
            pauses=[],
            calendar=cal,
        )
        options.append((derived.due_date, param))
    due, chosen = max(options, key=lambda o: o[0])
    citation = "；".join(dict.fromkeys(p.citation for _d, p in options))
    return DisclosureLimit(unit=chosen.unit, budget=int(chosen.value), due_date=due, citation=citation)


def _department_of(actor) -> Organisation:
    if not policy.is_department(actor):
        raise PermissionDenied(_("只有行业主管部门可以报送本部门的行政许可、行政处罚决定。"))
    org_id = policy.acting_organisation_id(actor)
    if org_id is None:
        raise PermissionDenied(_("您的账号未关联有效的行业主管部门。"))
    return Organisation.objects.get(pk=org_id)


def _require_provider(actor, record: CreditRecord) -> Organisation:
    org = _department_of(actor)
    if record.provider_id != org.pk:
        raise PermissionDenied(_("只能更正或撤销本部门作出的决定信息。"))
    return org


def _payload(record: CreditRecord) -> dict:
    # No personal identifiers beyond what the platform publishes: an individual's ID number is masked.
    subject = record.subject
    return {
        "record": record.pk,
        "kind": record.kind,
        "title": record.title,
        "decision_number": record.decision_number,
        "decision_date": record.decision_date.isoformat(),
        "severity": record.severity,
        "provider": record.provider.name,
        "subject": subject.name,
        "uscc": subject.uscc or "",
        "display_state": record.display_state,
    }


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _subject_for(*, actor, name: str, identifier: str) -> Subject:
    """The subject by its 统一社会信用代码 or 身份证号, created when the platform does not know it yet."""
    name = (name or "").strip()
    code = (identifier or "").strip().upper()
    if not name:
        raise _field_error("subject_name", _("请填写当事人名称或姓名。"), "name_required")
    if not code:
        raise _field_error("identifier", _("请填写统一社会信用代码或身份证号。"), "identifier_required")
    is_person = len(code) == 18 and code[:17].isdigit()
    try:
        (validate_id_number if is_person else validate_uscc)(code)
    except ValidationError as exc:
        if is_person:
            # Seventeen digits and a check character may also be an organisation's code.
            try:
                validate_uscc(code)
                is_person = False
            except ValidationError:
                raise _field_error("identifier", exc.messages[0], "bad_identifier") from None
        else:
            raise _field_error("identifier", exc.messages[0], "bad_identifier") from None
    lookup = {"id_number": normalize_id_number(code)} if is_person else {"uscc": normalize_uscc(code)}
    subject = Subject.objects.filter(**lookup).first()
    if subject is not None:
        if subject.name != name:
            raise _field_error(
                "subject_name",
                _("该证件号码对应的信用主体为“%(known)s”，与填写的“%(given)s”不一致，请核对。")
                % {"known": subject.name, "given": name},
                "name_mismatch",
            )
        return subject
    if is_person:
        return subject_create_person(actor=actor, name=name, id_number=code)
    return subject_create_enterprise(actor=actor, name=name, uscc=code)


def _start_report(*, record: CreditRecord, organisation: Organisation, actor):
    limit = disclosure_limit(record.decision_date)
    event = outbox_enqueue(
        topic="record.published",
        aggregate=record,
        payload=_payload(record),
        dedupe_key=f"record.published:{record.pk}",
        organisation=organisation,
        actor=actor,
    )
    if event.clock_id is None:
        # "自作出决定之日起": day 0 is the decision date itself, whatever day of the week it was.
        event.clock = clock_start(
            case=record,
            purpose=DISCLOSURE_PURPOSE,
            label=_("双公示信息报送"),
            budget=limit.budget,
            unit=limit.unit,
            kind=Clock.Kind.LEGAL,
            received_at=record.decision_date,
            start_rule=Clock.StartRule.IMMEDIATE,
            organisation=organisation,
            citation=limit.citation,
            actor=actor,
        )
        event.save(update_fields=["clock"])
    return event


def record_intake(
    *,
    actor,
    kind: str,
    subject_name: str,
    identifier: str,
    title: str,
    decision_number: str,
    decision_date: dt.date,
    severity: str = "",
    sector: str = "",
    content: str = "",
    legal_basis: str = "",
) -> CreditRecord:
    """A department enters one of its licensing or penalty decisions. Idempotent: the same decision
    (department, kind, decision number, subject) entered twice — a double click, a re-sent form — returns the
    record already entered."""
    organisation = _department_of(actor)
    if kind not in INTAKE_KINDS:
        raise _field_error("kind", _("只能报送行政许可或行政处罚决定。"), "bad_kind")
    decision_number = (decision_number or "").strip()
    if not decision_number:
        raise _field_error("decision_number", _("请填写决定文书号。"), "number_required")
    today = timezone.localdate()
    if not isinstance(decision_date, dt.date):
        raise _field_error("decision_date", _("请填写决定日期。"), "date_required")
    if decision_date > today:
        raise _field_error("decision_date", _("决定日期不能晚于今天。"), "future_date")
    if kind == RecordKind.ADMINISTRATIVE_PENALTY and not severity:
        raise _field_error("severity", _("行政处罚信息必须填写失信程度。"), "severity_required")
    if kind == RecordKind.ADMINISTRATIVE_LICENSE:
        severity, sector = "", ""
    with transaction.atomic():
        # One department's entries are serialised, so a double submission cannot create two records.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        subject = _subject_for(actor=actor, name=subject_name, identifier=identifier)
        existing = CreditRecord.objects.filter(
            provider=organisation, kind=kind, decision_number=decision_number
        ).first()
        if existing is not None:
            if existing.subject_id == subject.pk:
                return existing
            raise _field_error(
                "decision_number",
                _("本部门已报送过决定文书号为“%(number)s”的决定（当事人：%(subject)s）。")
                % {"number": decision_number, "subject": existing.subject.name},
                "duplicate_number",
            )
        record = record_create(
            actor=actor,
            subject=subject,
            kind=kind,
            severity=severity,
            sector=sector,
            title=title,
            provider=organisation,
            decision_date=decision_date,
            publication_date=today,
            decision_number=decision_number,
            content=content,
            legal_basis=legal_basis,
            repairable=kind == RecordKind.ADMINISTRATIVE_PENALTY,
        )
        event = _start_report(record=record, organisation=organisation, actor=actor)
        audit_log(
            actor=actor,
            action="record.intake",
            obj=record,
            data={"kind": kind, "decision_number": decision_number, "outbox": event.pk, "clock": event.clock_id},
        )
    return record


def record_correct(*, actor, record: CreditRecord, changes: dict, reason: str) -> CreditRecord:
    """The department corrects its own decision field by field (old and new values kept, with the reason);
    the corrected decision is reported to the platform."""
    _require_provider(actor, record)
    not_allowed = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if not_allowed:
        raise ValidationError(_("不能更正字段：%(f)s") % {"f": "、".join(not_allowed)}, code="not_correctable")
    if "decision_date" in changes and changes["decision_date"] and changes["decision_date"] > timezone.localdate():
        raise _field_error("decision_date", _("决定日期不能晚于今天。"), "future_date")
    if record.kind == RecordKind.ADMINISTRATIVE_LICENSE:
        changes = {k: v for k, v in changes.items() if k not in ("severity", "sector")}
    with transaction.atomic():
        before = record.changes.count()
        updated = record_update_fields(actor=actor, record=record, changes=changes, reason=reason)
        after = updated.changes.count()
        if after > before:
            outbox_enqueue(
                topic="record.corrected",
                aggregate=updated,
                payload={**_payload(updated), "reason": reason.strip()},
                dedupe_key=f"record.corrected:{updated.pk}:{after}",
                organisation=updated.provider,
                actor=actor,
            )
    return updated


def _report_removal(*, record: CreditRecord, topic: str, actor, reason: str) -> None:
    """Revocation and expiry reach the platform within 1 working day (河南省社会信用条例 Art 42): an outbox event
    with its legal clock, owned by the provider."""
    rule_set = ruleset_in_force(timezone.localdate())
    param = rule_param_detail(rule_set, OBJECTION_REVOCATION_WD)
    outbox_enqueue(
        topic=topic,
        aggregate=record,
        payload={**_payload(record), "reason": reason},
        dedupe_key=f"{topic}:{record.pk}",
        limit_budget=int(param.value),
        limit_unit=param.unit or Clock.Unit.WORKING_DAYS,
        limit_citation=param.citation,
        organisation=record.provider,
        actor=actor,
    )


def record_revoke_by_provider(*, actor, record: CreditRecord, reason: str) -> CreditRecord:
    """Henan Art 42: the department that provided the information revokes it (its basis was revoked) and
    the platform is told within 1 working day."""
    _require_provider(actor, record)
    with transaction.atomic():
        revoked = record_revoke(actor=actor, record=record, reason=reason)
        _report_removal(record=revoked, topic="record.revoked", actor=actor, reason=reason.strip())
    return revoked


def record_report_expiry(*, record: CreditRecord, actor=None, reason: str = "") -> None:
    """Called by the expiry sweep in the transaction that stopped the display."""
    _report_removal(record=record, topic="record.expired", actor=actor, reason=reason)


# --- import --------------------------------------------------------------------------------------------------
COLUMNS = {
    "kind": ("决定类别", "kind"),
    "subject_name": ("当事人名称", "subject_name"),
    "identifier": ("统一社会信用代码/身份证号", "统一社会信用代码", "身份证号", "identifier"),
    "title": ("事项名称", "title"),
    "decision_number": ("决定文书号", "decision_number"),
    "decision_date": ("决定日期", "decision_date"),
    "severity": ("失信程度", "severity"),
    "content": ("主要内容", "content"),
    "legal_basis": ("依据", "legal_basis"),
}
REQUIRED_COLUMNS = ("kind", "subject_name", "identifier", "title", "decision_number", "decision_date")
TEMPLATE_HEADERS = [names[0] for names in COLUMNS.values()]
_HEADER_TO_KEY = {name: key for key, names in COLUMNS.items() for name in names}
# Values people type in the spreadsheet → codes.
KIND_WORDS = {
    "行政处罚": RecordKind.ADMINISTRATIVE_PENALTY,
    "行政处罚信息": RecordKind.ADMINISTRATIVE_PENALTY,
    "行政许可": RecordKind.ADMINISTRATIVE_LICENSE,
    "行政许可信息": RecordKind.ADMINISTRATIVE_LICENSE,
    RecordKind.ADMINISTRATIVE_PENALTY: RecordKind.ADMINISTRATIVE_PENALTY,
    RecordKind.ADMINISTRATIVE_LICENSE: RecordKind.ADMINISTRATIVE_LICENSE,
}
SEVERITY_WORDS = {
    "轻微": "minor",
    "一般": "ordinary",
    "严重": "serious",
    **{code: code for code in ("minor", "ordinary", "serious")},
}
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file (the header is line 1)
    column: str
    message: str


class ImportRefused(ValidationError):
    """Nothing was written: carries every row's errors."""

    def __init__(self, errors: list[RowError]):
        self.row_errors = errors
        super().__init__(
            _("导入未执行：共%(n)d处错误，请修改后重新提交（所有行均未写入）。") % {"n": len(errors)},
            code="rows_invalid",
        )


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(uploaded) -> list[tuple[int, dict]]:
    """(line, row) pairs of a CSV (UTF-8 with or without BOM, or GB18030) or XLSX file, blank lines skipped."""
    name = (getattr(uploaded, "name", "") or "").lower()
    data = uploaded.read()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            rows = list(
                load_workbook(io.BytesIO(data), read_only=True, data_only=True).active.iter_rows(values_only=True)
            )
        except Exception:  # noqa: BLE001 — a corrupt or mislabelled file, told to the person as such
            raise ValidationError(_("无法读取该Excel文件，请确认是 .xlsx 格式。"), code="bad_file") from None
    elif name.endswith(".csv"):
        text = decode_csv(data)
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise ValidationError(_("只支持 .csv 或 .xlsx 文件。"), code="bad_type")
    if not rows:
        raise ValidationError(_("文件为空。"), code="empty")
    keys = [_HEADER_TO_KEY.get(_cell(h)) for h in rows[0]]
    missing = [COLUMNS[k][0] for k in REQUIRED_COLUMNS if k not in keys]
    if missing:
        raise ValidationError(_("缺少列：%(cols)s") % {"cols": "、".join(missing)}, code="missing_columns")
    out = []
    for line, values in enumerate(rows[1:], start=2):
        if values is None or all(_cell(v) == "" for v in values):
            continue
        out.append((line, {k: _cell(v) for k, v in zip(keys, values, strict=False) if k}))
    if not out:
        raise ValidationError(_("文件中没有数据行。"), code="no_rows")
    if len(out) > MAX_ROWS:
        raise ValidationError(_("一次最多导入%(n)d行，请分批导入。") % {"n": MAX_ROWS}, code="too_many_rows")
    return out


# Errors raised on the subject's own fields are shown under the file's columns.
_FIELD_COLUMN = {"uscc": "identifier", "id_number": "identifier", "name": "subject_name"}


def _column_label(field: str) -> str:
    field = _FIELD_COLUMN.get(field, field)
    return COLUMNS.get(field, (field,))[0] if field != "__all__" else ""


def records_import(*, actor, uploaded) -> list[CreditRecord]:
    """All or nothing: every row is entered through ``record_intake`` in one transaction; any error in any
    row rolls everything back and is reported with its line and column."""
    _department_of(actor)
    rows = read_rows(uploaded)
    errors: list[RowError] = []
    created: list[CreditRecord] = []
    seen: dict[tuple[str, str], int] = {}
    with transaction.atomic():
        for line, row in rows:
            kind = KIND_WORDS.get(row.get("kind", ""))
            if kind is None:
                errors.append(RowError(line, _column_label("kind"), _("决定类别应为“行政许可”或“行政处罚”。")))
                continue
            number = row.get("decision_number", "")
            if (kind, number) in seen:
                errors.append(
                    RowError(
                        line, _column_label("decision_number"), _("与第%(n)d行重复。") % {"n": seen[(kind, number)]}
                    )
                )
                continue
            seen[(kind, number)] = line
            severity = SEVERITY_WORDS.get(row.get("severity", ""), row.get("severity", ""))
            if severity and severity not in ("minor", "ordinary", "serious"):
                errors.append(RowError(line, _column_label("severity"), _("失信程度应为轻微、一般或严重。")))
                continue
            try:
                decision_date = dt.date.fromisoformat(row.get("decision_date", "").replace("/", "-"))
            except ValueError:
                errors.append(RowError(line, _column_label("decision_date"), _("日期格式应为YYYY-MM-DD。")))
                continue
            try:
                with transaction.atomic():
                    created.append(
                        record_intake(
                            actor=actor,
                            kind=kind,
                            subject_name=row.get("subject_name", ""),
                            identifier=row.get("identifier", ""),
                            title=row.get("title", ""),
                            decision_number=number,
                            decision_date=decision_date,
                            severity=severity,
                            content=row.get("content", ""),
                            legal_basis=row.get("legal_basis", ""),
                        )
                    )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, messages in exc.message_dict.items():
                        for message in messages:
                            errors.append(RowError(line, _column_label(field), message))
                else:
                    errors.extend(RowError(line, "", m) for m in exc.messages)
        if errors:
            raise ImportRefused(errors)
        audit_log(
            actor=actor,
            action="record.import",
            object_type="record_import",
            data={"file": getattr(uploaded, "name", ""), "rows": len(rows), "records": [r.pk for r in created]},
        )
    return created
