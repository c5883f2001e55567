"""Bulk registration of commitments a department received elsewhere: a CSV/XLSX file or its own system over
the JSON API (PROCEDURES.md §3: "departments register commitments in bulk (file import and API)").

All or nothing: every row is validated first; one bad row and nothing is written, and the department gets
every row's errors at once (row number, column, what to fix). A clean file is written in one transaction —
missing subjects created with bulk inserts, the commitments by PostgreSQL COPY — and reported to the
platform in chunks, each chunk one outbox event with its 7-working-day clock (seed 003 item 6). On any other
database (the embedded SQLite of ``make demo``) the same rows are written with the ORM's bulk_create instead;
validation, errors, texts and reports are the same code.

API tokens: a department's system authenticates with ``Authorization: Bearer ck_<prefix>_<secret>``; only
SHA-256 of the secret is stored (the token is shown once when issued), compared in constant time.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.identifiers import id_number_is_valid, mask_id_number, uscc_is_valid, validate_id_number, validate_uscc
from cases.models import (
    ApiClient,
    Commitment,
    CommitmentImport,
    CommitmentMatter,
    CommitmentType,
    CreditRecord,
    Organisation,
    Subject,
    SubjectKind,
)
from cases.models.commitment import SIMPLIFIED_TYPES
from cases.models.records import PUBLIC_STATES, DisplayState, RecordKind, Severity
from cases.services.audit import audit_log
from cases.services.commitment.lifecycle import REPORT_CITATION, TOPIC_BATCH, _follow_due, report_budget
from cases.services.outbox import outbox_enqueue
from cases.services.subjects import normalise_code
from cases.services.tables import decode_csv
from workflows.calendar import LEGAL_TZ

MAX_ROWS = 200_000
# Rows per statement where the rows are written with the ORM (not PostgreSQL).
_PORTABLE_BATCH = 500
REPORT_CHUNK = 1000

# Column headers accepted in files (Chinese, as the template has them) and keys in the API.
COLUMNS = {
    "subject_name": ("主体名称",),
    "identifier": ("统一社会信用代码/身份证号", "统一社会信用代码", "身份证号"),
    "matter_code": ("事项编码",),
    "signer_name": ("签署人",),
    "signer_capacity": ("签署身份",),
    "signed_on": ("签署日期",),
    "decision_date": ("行政决定日期",),
    "decision_number": ("决定文书号",),
    "source_reference": ("来源办件",),
}
REQUIRED = ("subject_name", "identifier", "matter_code", "signer_name", "signer_capacity", "signed_on")
TEMPLATE_HEADERS = [names[0] for names in COLUMNS.values()]
_HEADER_TO_KEY = {name: key for key, names in COLUMNS.items() for name in (key, *names)}


class ImportRefused(ValidationError):
    """The whole import refused: carries every row's errors."""

    def __init__(self, errors: list[RowError]):
        self.row_errors = errors
        super().__init__(
            _("导入未执行：%(n)d处错误，请修改后重新提交（所有行均未写入）。") % {"n": len(errors)}, code="rows_invalid"
        )


@dataclass(frozen=True)
class RowError:
    row: int  # as the person sees it: the file's line (header = 1) or the API array index + 1
    column: str
    message: str


@dataclass
class ImportResult:
    batch: CommitmentImport | None  # None when every row was registered before: nothing new was written
    created: int
    subjects_created: int
    events: int = 0
    # Rows already registered by an earlier import (same subject, matter, signing day and source reference):
    # importing a file again creates nothing new (idempotent).
    duplicates: int = 0


@dataclass
class _Row:
    line: int
    subject_name: str
    identifier: str
    kind: str
    matter: CommitmentMatter
    signer_name: str
    capacity: str
    signed_on: dt.date
    decision_date: dt.date | None
    decision_number: str
    source_reference: str
    subject_id: int | None = None


# --- reading files ---------------------------------------------------------------------------------------


def _refuse_nul(lines, *, first_line: int = 1, per_cell: bool = False) -> None:
    """PostgreSQL cannot store a NUL character: name the line instead of failing on the save."""
    for number, line in enumerate(lines, start=first_line):
        if "\x00" in line:
            raise ValidationError(
                _("第%(line)d行含有空字符（NUL），请删除后重新导入。") % {"line": first_line if per_cell else number},
                code="nul",
            )


def read_rows(uploaded) -> list[dict]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file as dicts keyed by column key."""
    name = (getattr(uploaded, "name", "") or "").lower()
    data = uploaded.read()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception as exc:  # a corrupt or mislabelled file
            raise ValidationError(_("无法读取Excel文件：%(e)s") % {"e": exc}, code="bad_file") from None
        rows = sheet.iter_rows(values_only=True)
    elif name.endswith(".csv"):
        text = decode_csv(data)
        _refuse_nul(text.splitlines())
        rows = csv.reader(io.StringIO(text))
    else:
        raise ValidationError(_("只支持 .csv 或 .xlsx 文件。"), code="bad_type")
    header = next(rows, None)
    if not header:
        raise ValidationError(_("文件为空。"), code="empty")
    keys = [_HEADER_TO_KEY.get(str(h or "").strip()) for h in header]
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in keys]
    if missing:
        raise ValidationError(_("缺少列：%(cols)s") % {"cols": "、".join(missing)}, code="missing_columns")
    out = []
    for values in rows:
        if values is not None:
            _refuse_nul([v for v in values if isinstance(v, str)], first_line=len(out) + 2, per_cell=True)
        if values is None or all(v in (None, "") for v in values):
            out.append(None)  # keep line numbers right; blank lines are skipped
            continue
        out.append({k: v for k, v in zip(keys, values, strict=False) if k})
    return out


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    return dt.date.fromisoformat(text)


_UNPARSED = object()
_BAD_DATE = object()


# --- validation ------------------------------------------------------------------------------------------


def _identify(code: str) -> tuple[str, str]:
    """(subject kind, error message): a valid 身份证号 is a person, a valid 统一社会信用代码 an organisation.

    A code of 17 digits and a check character can pass both checks (about one in 340 ID numbers is also a
    valid USCC); it is read as an ID number, the shape people's numbers always have. An organisation whose code
    happens to look like that is matched by its existing subject row first (see commitments_import).
    """
    # Fast path: the checks without their messages (nearly every code in a file is valid); the validators below
    # run only for a code that fails, to name the rule it breaks.
    if id_number_is_valid(code):
        return SubjectKind.INDIVIDUAL, ""
    if uscc_is_valid(code):
        return SubjectKind.ENTERPRISE, ""
    id_error = None
    if len(code) == 18 and code[:17].isdigit():
        try:
            validate_id_number(code)
            return SubjectKind.INDIVIDUAL, ""
        except ValidationError as exc:
            id_error = exc
    try:
        validate_uscc(code)
        return SubjectKind.ENTERPRISE, ""
    except ValidationError as uscc_error:
        if id_error is not None:
            return "", _("既不是有效的统一社会信用代码（%(uscc)s），也不是有效的身份证号（%(id)s）") % {
                "uscc": uscc_error.messages[0],
                "id": id_error.messages[0],
            }
        return "", uscc_error.messages[0]


def validate_rows(
    *, department: Organisation, raw_rows: list[dict | None], today: dt.date, first_line: int = 2
) -> tuple[list[_Row], list[RowError]]:
    matters = {m.code: m for m in CommitmentMatter.objects.filter(department=department).select_related("department")}
    errors: list[RowError] = []
    good: list[_Row] = []
    seen: dict[tuple, int] = {}
    label = {k: v[0] for k, v in COLUMNS.items()}
    # The capacity labels are lazy translations: resolved once here (in the active language, as comparing the
    # lazy strings would), not once per row.
    capacities = {str(c.label): c.value for c in Commitment.Capacity} | {c.value: c.value for c in Commitment.Capacity}
    date_texts: dict[str, object] = {}
    for index, raw in enumerate(raw_rows):
        line = index + first_line
        if raw is None:
            continue
        row_errors: list[RowError] = []

        def err(column, message, _line=line, _errs=row_errors):
            _errs.append(RowError(_line, label.get(column, column), message))

        values = {}
        for k in COLUMNS:
            value = raw.get(k)
            values[k] = value.strip() if value.__class__ is str else _text(value)  # CSV cells are str
        for key in REQUIRED:
            if not values[key]:
                err(key, _("必填"))
        code = normalise_code(values["identifier"])
        kind = ""
        if code:
            kind, message = _identify(code)
            if message:
                err("identifier", message)
        matter = matters.get(values["matter_code"])
        if values["matter_code"] and matter is None:
            err("matter_code", _("本部门没有编码为“%(code)s”的承诺事项") % {"code": values["matter_code"]})
        elif matter is not None and (not matter.is_active or matter.type == CommitmentType.REPAIR):
            err("matter_code", _("该事项已停用或为信用修复型，不能导入"))
        capacity = capacities.get(values["signer_capacity"])
        if values["signer_capacity"] and capacity is None:
            err("signer_capacity", _("应为“法定代表人”“受托代理人”或“本人”"))
        elif capacity == Commitment.Capacity.SELF and kind and kind != SubjectKind.INDIVIDUAL:
            err("signer_capacity", _("单位的承诺应由法定代表人或受托代理人签署"))
        dates = {}
        for key in ("signed_on", "decision_date"):
            value = raw.get(key)
            # A file has few distinct dates: each text is parsed once.
            parsed = date_texts.get(value, _UNPARSED) if value.__class__ is str else _UNPARSED
            if parsed is _UNPARSED:
                try:
                    parsed = _date(value)
                except (ValueError, TypeError):
                    parsed = _BAD_DATE
                if value.__class__ is str:
                    date_texts[value] = parsed
            if parsed is _BAD_DATE:
                err(key, _("日期格式应为YYYY-MM-DD"))
                parsed = None
            dates[key] = parsed
        if dates.get("signed_on") and dates["signed_on"] > today:
            err("signed_on", _("签署日期不能晚于今天"))
        if dates.get("signed_on") and dates.get("decision_date") and dates["decision_date"] < dates["signed_on"]:
            err("decision_date", _("行政决定日期不能早于签署日期"))
        for key, limit in (
            ("subject_name", 200),
            ("signer_name", 60),
            ("decision_number", 80),
            ("source_reference", 40),
        ):
            if len(values[key]) > limit:
                err(key, _("超过%(n)d个字符") % {"n": limit})
        if not row_errors:
            dedupe = (code, values["matter_code"], dates["signed_on"], values["source_reference"])
            if dedupe in seen:
                err("identifier", _("与第%(line)d行重复") % {"line": seen[dedupe]})
            else:
                seen[dedupe] = line
        if row_errors:
            errors.extend(row_errors)
            continue
        good.append(
            _Row(
                line=line,
                subject_name=values["subject_name"],
                identifier=code,
                kind=kind,
                matter=matter,
                signer_name=values["signer_name"],
                capacity=capacity,
                signed_on=dates["signed_on"],
                decision_date=dates["decision_date"],
                decision_number=values["decision_number"],
                source_reference=values["source_reference"],
            )
        )
    return good, errors


def _blocked_subjects(subject_ids: list[int]) -> dict[int, str]:
    """Subjects that may not use 告知承诺 (Henan Art 32(1)), with the reason — two set-based queries."""
    blocked: dict[int, str] = {}
    serious = (
        CreditRecord.objects.filter(subject_id__in=subject_ids, display_state__in=PUBLIC_STATES)
        .filter(Q(severity=Severity.SERIOUS) | Q(kind=RecordKind.SERIOUS_DISHONESTY))
        .values_list("subject_id", "title")
    )
    for sid, title in serious:
        blocked.setdefault(
            sid, _("该主体有正在公示的严重失信信息“%(title)s”，信用修复前不适用告知承诺") % {"title": title}
        )
    false = (
        Commitment.objects.filter(subject_id__in=subject_ids, status=Commitment.Status.FALSE)
        .exclude(breach_record__display_state__in=[DisplayState.REPAIRED, DisplayState.REVOKED, DisplayState.EXPIRED])
        .values_list("subject_id", flat=True)
    )
    for sid in false:
        blocked.setdefault(sid, _("该主体曾作出虚假承诺，修复前不适用告知承诺"))
    return blocked


# --- import ----------------------------------------------------------------------------------------------

# pg_advisory_xact_lock(namespace, department): one import at a time per department, so two imports of the
# same file (a double click, an API client's retry) cannot both find their rows new; the second waits and then
# finds them registered. The unique index commitment_imported_once is the guarantee underneath.
_IMPORT_LOCK_NAMESPACE = 0x43494D50  # "CIMP"


def _signed_at(day: dt.date) -> dt.datetime:
    """An imported commitment is signed "on a day": noon of that day in legal time."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=LEGAL_TZ)


def _already_imported(rows: list[_Row]) -> set[tuple[int, int, dt.datetime, str]]:
    """(subject, matter, signed_at, source reference) of the earlier imports among these rows' keys.

    Only subjects already registered can have them, so a file of new subjects costs nothing here."""
    subject_ids = sorted({r.subject_id for r in rows if r.subject_id is not None})
    if not subject_ids:
        return set()
    matter_ids = sorted({r.matter.pk for r in rows})
    columns = ("subject_id", "commitment_matter_id", "signed_at", "source_reference")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                # Probing the unique index commitment_imported_once subject by subject (a join with the list,
                # not "= ANY", which the planner may answer by scanning a matter's every commitment).
                f"""SELECT {", ".join("c." + c for c in columns)}
                    FROM unnest(%s::bigint[]) AS s(id) JOIN cases_commitment c ON c.subject_id = s.id
                    WHERE c.commitment_matter_id = ANY(%s::bigint[]) AND c.import_batch_id IS NOT NULL""",
                ["{" + ",".join(map(str, subject_ids)) + "}", "{" + ",".join(map(str, matter_ids)) + "}"],
            )
            return set(cur.fetchall())
    return {
        key
        for i in range(0, len(subject_ids), _PORTABLE_BATCH)
        for key in Commitment.objects.filter(
            subject_id__in=subject_ids[i : i + _PORTABLE_BATCH],
            commitment_matter_id__in=matter_ids,
            import_batch__isnull=False,
        ).values_list(*columns)
    }


def _copy_value(value) -> str:
    return "\\N" if value is None else _esc(value)


def _esc(value) -> str:
    """A value in COPY text format (str.replace returns the string itself when there is nothing to replace,
    which is almost always)."""
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _text_array(values) -> str:
    """A PostgreSQL text[] literal: one parameter the server reads as a value, where psycopg2's ARRAY[...] of
    100,000 elements is an expression the server parses and evaluates element by element."""
    return (
        "{"
        + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


class _SubjectText:
    """What render_commitment_text reads from a subject, without a model instance per row."""

    __slots__ = ("name", "public_identifier")

    def __init__(self, name: str, public_identifier: str):
        self.name = name
        self.public_identifier = public_identifier


def _subjects_insert(new: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Create the missing subjects (identifier → (kind, name)) in one INSERT; returns identifier → id.

    The columns the import does not know get the model's defaults (blank text, no organisation)."""
    kinds, names, usccs, id_numbers = [], [], [], []
    for code, (kind, name) in new.items():
        kinds.append(kind)
        names.append(name)
        usccs.append(None if kind == SubjectKind.INDIVIDUAL else code)
        id_numbers.append(code if kind == SubjectKind.INDIVIDUAL else None)
    if connection.vendor != "postgresql":
        created = Subject.objects.bulk_create(
            [
                Subject(kind=kind, name=name, uscc=uscc, id_number=id_number)
                for kind, name, uscc, id_number in zip(kinds, names, usccs, id_numbers, strict=True)
            ],
            batch_size=_PORTABLE_BATCH,
        )
        return {s.uscc or s.id_number: s.pk for s in created}
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO cases_subject (kind, name, uscc, id_number, legal_representative, address, district,
                                       created_at)
            SELECT n.kind, n.name, n.uscc, n.id_number, '', '', '', %s
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY
                 AS n(kind, name, uscc, id_number, position)
            ORDER BY n.position
            ON CONFLICT DO NOTHING
            RETURNING id, COALESCE(uscc, id_number)""",
            [timezone.now(), _text_array(kinds), _text_array(names), _text_array(usccs), _text_array(id_numbers)],
        )
        return {code: pk for pk, code in cur.fetchall()}


def _subjects_existing(codes: set[str]) -> tuple[dict[str, int], dict[int, tuple[str, str | None]]]:
    """Subjects already registered under these codes: (code → id, id → (name, uscc) as registered)."""
    existing: dict[str, int] = {}
    registered: dict[int, tuple[str, str | None]] = {}
    postgresql = connection.vendor == "postgresql"
    array = _text_array(codes) if postgresql else None
    ordered = sorted(codes)
    with connection.cursor() as cur:
        for column in ("uscc", "id_number"):  # read second, a subject with it as ID number wins
            if postgresql:
                # One array parameter per query: an ORM IN list of 100,000 codes costs more to build than to run.
                cur.execute(
                    f"SELECT {column}, id, name, uscc FROM cases_subject WHERE {column} = ANY(%s::text[])", [array]
                )
                found = cur.fetchall()
            else:
                found = [
                    row
                    for i in range(0, len(ordered), _PORTABLE_BATCH)
                    for row in Subject.objects.filter(
                        **{f"{column}__in": ordered[i : i + _PORTABLE_BATCH]}
                    ).values_list(column, "id", "name", "uscc")
                ]
            for code, pk, name, uscc in found:
                existing[code] = pk
                registered[pk] = (name, uscc)
    return existing, registered


_COPY_COLUMNS = (
    "subject_id",
    "type",
    "matter",
    "department_id",
    "text",
    "text_sha256",
    "signer_name",
    "signer_capacity",
    "signed_at",
    "status",
    "source_reference",
    "commitment_matter_id",
    "channel",
    "decision_date",
    "decision_number",
    "registered_by_id",
    "import_batch_id",
    "follow_due_date",
)


def commitments_import(
    *,
    actor,
    department: Organisation,
    raw_rows: list[dict | None],
    source: str,
    filename: str = "",
    sha256: str = "",
    api_client: ApiClient | None = None,
) -> ImportResult:
    """Validate every row, then write all of them or none. Raises ImportRefused with the per-row errors."""
    if api_client is None:
        _require_department(actor, department)
    if len(raw_rows) > MAX_ROWS:
        raise ValidationError(_("单次最多导入%(n)d行。") % {"n": MAX_ROWS}, code="too_many")
    today = timezone.localdate()
    rows, errors = validate_rows(
        department=department,
        raw_rows=raw_rows,
        today=today,
        first_line=1 if source == CommitmentImport.Source.API else 2,
    )
    if not rows and not errors:
        raise ValidationError(_("文件中没有数据行。"), code="empty")
    from cases.services.commitment.lifecycle import render_commitment_text

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK_NAMESPACE, department.pk])
        # registered: id → (name, uscc) as the subject is registered
        existing, registered = _subjects_existing({r.identifier for r in rows})
        for r in rows:
            r.subject_id = existing.get(r.identifier)
        # Idempotency: a row registered by an earlier import is skipped, not written twice (the department
        # re-sends a file, an API client retries after a timeout).
        duplicates = 0
        if not errors:
            already = _already_imported(rows)
            if already:
                kept = [
                    r
                    for r in rows
                    if (r.subject_id, r.matter.pk, _signed_at(r.signed_on), r.source_reference) not in already
                ]
                duplicates, rows = len(rows) - len(kept), kept
                if not rows:
                    return ImportResult(batch=None, created=0, subjects_created=0, duplicates=duplicates)
        known = [r.subject_id for r in rows if r.subject_id and r.matter.type in SIMPLIFIED_TYPES]
        blocked = _blocked_subjects(known) if known else {}
        for r in rows:
            if r.subject_id in blocked and r.matter.type in SIMPLIFIED_TYPES:
                errors.append(RowError(r.line, COLUMNS["identifier"][0], blocked[r.subject_id]))
        if errors:
            errors.sort(key=lambda e: e.row)
            raise ImportRefused(errors)
        # New subjects: one per identifier, named as on its first row.
        new: dict[str, tuple[str, str]] = {}
        for r in rows:
            if r.subject_id is None and r.identifier not in new:
                new[r.identifier] = (r.kind, r.subject_name)
        subjects_created = 0
        if new:
            created_subjects = _subjects_insert(new)
            subjects_created = len(created_subjects)
            for code, pk in created_subjects.items():
                existing[code] = pk
                kind, name = new[code]
                registered[pk] = (name, None if kind == SubjectKind.INDIVIDUAL else code)
            if subjects_created < len(new):
                # Registered meanwhile by someone else (another department's import, a registration): theirs.
                found, found_registered = _subjects_existing(set(new) - set(created_subjects))
                existing.update(found)
                registered.update(found_registered)
        batch = CommitmentImport.objects.create(
            department=department,
            source=source,
            filename=filename[:200],
            sha256=sha256,
            rows=len(rows),
            created_by=actor if getattr(actor, "pk", None) else None,
            api_client=api_client,
        )
        user_id = actor.pk if getattr(actor, "pk", None) else None
        channel = Commitment.Channel.API if source == CommitmentImport.Source.API else Commitment.Channel.IMPORTED
        # One COPY line per row, built with plain string operations: the values that vary per matter, date or
        # subject are prepared once; only the free text is escaped (COPY text format).
        null = "\\N"
        status, department_id, batch_id = str(Commitment.Status.IN_FORCE), str(department.pk), str(batch.pk)
        channel, registered_by = str(channel), null if user_id is None else str(user_id)
        matter_cols: dict[int, tuple[str, str]] = {}
        # (signed_at, follow-up date as COPY text, signed_at in UTC as reported, and both as values)
        day_cols: dict[tuple[int, dt.date], tuple[str, str, str, dt.datetime, dt.date | None]] = {}
        subjects: dict[int, _SubjectText] = {}
        copy = connection.vendor == "postgresql"
        lines = []  # COPY lines (PostgreSQL) or unsaved Commitment rows (elsewhere)
        reported = []  # each row's report but its id
        for r in rows:
            matter = r.matter
            sid = existing[r.identifier]
            subject = subjects.get(sid)
            if subject is None:
                # The text names the subject as its first row in the file does.
                subject = subjects[sid] = _SubjectText(
                    r.subject_name, mask_id_number(r.identifier) if r.kind == SubjectKind.INDIVIDUAL else r.identifier
                )
            text = render_commitment_text(matter=matter, subject=subject, signer=r.signer_name, on=r.signed_on)
            cols = matter_cols.get(matter.pk)
            if cols is None:
                cols = matter_cols[matter.pk] = (
                    f"{_esc(matter.type)}\t{_esc(matter.title)}\t{department_id}",
                    str(matter.pk),
                )
            day = day_cols.get((matter.pk, r.signed_on))
            if day is None:
                follow = _follow_due(matter, r.signed_on)
                signed_at = _signed_at(r.signed_on)
                day = day_cols[(matter.pk, r.signed_on)] = (
                    signed_at.isoformat(),
                    null if follow is None else follow.isoformat(),
                    signed_at.astimezone(dt.UTC).isoformat(),  # as the database gives it back
                    signed_at,
                    follow,
                )
            sha = hashlib.sha256(text.encode()).hexdigest()
            name, uscc = registered[sid]
            reported.append((name, uscc or "", matter.type, matter.code, day[2], sha))
            if not copy:
                lines.append(
                    Commitment(
                        subject_id=sid,
                        type=matter.type,
                        matter=matter.title,
                        department_id=department.pk,
                        text=text,
                        text_sha256=sha,
                        signer_name=r.signer_name,
                        signer_capacity=r.capacity,
                        signed_at=day[3],
                        status=status,
                        source_reference=r.source_reference,
                        commitment_matter_id=matter.pk,
                        channel=channel,
                        decision_date=r.decision_date,
                        decision_number=r.decision_number,
                        registered_by_id=user_id,
                        import_batch_id=batch.pk,
                        follow_due_date=day[4],
                    )
                )
                continue
            lines.append(
                "\t".join(
                    (
                        str(sid),
                        cols[0],
                        _esc(text),
                        sha,
                        _esc(r.signer_name),
                        _esc(r.capacity),
                        day[0],
                        status,
                        _esc(r.source_reference),
                        cols[1],
                        channel,
                        null if r.decision_date is None else r.decision_date.isoformat(),
                        _esc(r.decision_number),
                        registered_by,
                        batch_id,
                        day[1],
                    )
                )
            )
        with connection.cursor() as cur:
            if copy:
                lines.append("")
                cur.copy_expert(
                    f"COPY cases_commitment ({', '.join(_COPY_COLUMNS)}) FROM STDIN", io.StringIO("\n".join(lines))
                )
            else:
                Commitment.objects.bulk_create(lines, batch_size=_PORTABLE_BATCH)
            del lines
            # COPY draws the identity values row by row in the order it reads the lines (bulk_create inserts in
            # list order), so the batch's ids in ascending order are its rows' ids in file order.
            cur.execute("SELECT id FROM cases_commitment WHERE import_batch_id = %s ORDER BY id", [batch.pk])
            ids = [pk for (pk,) in cur.fetchall()]
        if len(ids) != len(reported):
            raise RuntimeError(f"commitment import: {len(reported)} rows copied but {len(ids)} stored")
        audit_log(
            actor=actor if user_id else f"api:{api_client.prefix}",
            action="commitment.imported",
            obj=batch,
            data={
                "rows": len(rows),
                "subjects_created": subjects_created,
                "source": source,
                "filename": filename,
                "sha256": sha256,
                "department": department.pk,
                "duplicates_skipped": duplicates,
            },
        )
        events = _report_batch(
            batch=batch,
            actor=actor if user_id else f"api:{api_client.prefix}",
            rows=[[pk, *row] for pk, row in zip(ids, reported, strict=True)],
        )
    return ImportResult(
        batch=batch, created=len(rows), subjects_created=subjects_created, events=events, duplicates=duplicates
    )


def _report_batch(*, batch: CommitmentImport, actor, rows: list[list]) -> int:
    """Report the batch to the platform in chunks; each chunk is one outbox event with its own clock.

    ``rows``: per commitment in id order, [id, subject's registered name, its 统一社会信用代码 or "", type,
    matter code, signed_at (UTC, ISO 8601), SHA-256 of the text] — persons are reported by the platform's own
    matching, never by raw ID number here."""
    now = timezone.now()
    budget = report_budget(now)
    events = 0
    for start in range(0, len(rows), REPORT_CHUNK):
        chunk = rows[start : start + REPORT_CHUNK]
        outbox_enqueue(
            topic=TOPIC_BATCH,
            aggregate=batch,
            dedupe_key=f"{TOPIC_BATCH}:{batch.pk}:{start // REPORT_CHUNK}",
            payload={"batch": batch.pk, "department": batch.department_id, "commitments": chunk},
            limit_budget=budget,
            limit_citation=REPORT_CITATION,
            organisation=batch.department,
            actor=actor,
            occurred_at=now,
        )
        events += 1
    return events


def _require_department(actor, department: Organisation) -> None:
    if not (policy.is_department(actor) and policy.acting_organisation_id(actor) == department.pk):
        raise PermissionDenied(_("只有本部门工作人员可以批量登记承诺。"))


def sha256_of(uploaded) -> str:
    uploaded.seek(0)
    digest = hashlib.sha256(uploaded.read()).hexdigest()
    uploaded.seek(0)
    return digest


__all__ = [
    "ImportRefused",
    "RowError",
    "ImportResult",
    "read_rows",
    "commitments_import",
    "TEMPLATE_HEADERS",
]
