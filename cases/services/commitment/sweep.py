"""The verification-scheduling sweep (核查安排): set-based SQL over every commitment due for screening.

Each in-force commitment of a matter is screened once, on or after its decision date (the signing date when
the department has not recorded a decision). Screening draws it for sampling when the matter says so and opens
a CommitmentVerification with its own clock for the department when it must be checked: every one for
"逐项核查", the drawn ones for "按比例抽查", none for "不设核查".

The draw is deterministic and auditable: ``md5("<matter seed>:<commitment id>")``, its first 32 bits read as
a fraction of 2³² — selected when below the matter's ratio. The value is stored on the commitment, so anyone
can recompute and check both the draw and the selection (the same formula is
:func:`sample_draw` in Python).

On PostgreSQL, no Python loop per row: one UPDATE … RETURNING marks the batch, one INSERT … SELECT opens the
checks, one INSERT … SELECT starts their clocks with due dates computed per distinct (start date, budget,
unit) — a few hundred combinations at most — by the same working-day code every other clock uses.

On any other database (the embedded SQLite default of ``make demo``) the same sweep runs through the ORM in
batches: the same selection in id order, the same draw (:func:`sample_draw`), the same checks and clocks with
due dates from the same per-(start, budget, unit) derivation, the same single audit event and counts. It is
meant for demo volumes; production runs on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Commitment, CommitmentMatter, CommitmentVerification, VerificationState
from cases.services.audit import audit_log
from workflows import rules
from workflows.calendar import LEGAL_TZ, WorkCalendar, end_of_day, get_calendar
from workflows.deadlines import derive
from workflows.ladder import next_escalation_at
from workflows.models import Clock

SYSTEM_ACTOR = "system:commitment-sweep"
# Runs that screen at least this many commitments refresh the table's planner statistics (see below).
ANALYZE_AFTER = 10_000
# Commitments per batch on the portable (non-PostgreSQL) path.
PORTABLE_BATCH = 500
CLOCK_PURPOSE = "commitment.verify"
CLOCK_CITATION = "国办发〔2020〕42号；承诺事项核查办法"
DRAW_FORMULA = "md5(seed:id)[0:8]/2^32 < ratio"


def sample_draw(seed: str, commitment_id: int) -> float:
    return int(hashlib.md5(f"{seed}:{commitment_id}".encode()).hexdigest()[:8], 16) / 4294967296.0


def clock_dues(
    combos: Iterable[tuple[dt.date, int, str]], calendar: WorkCalendar
) -> dict[tuple[dt.date, int, str], tuple[dt.date, dt.datetime, bool]]:
    """(start date, budget, unit) → (due date, due moment, provisional) of a verification clock, each distinct
    combination derived once by the working-day code every clock uses."""
    dues = {}
    for start, budget, unit in combos:
        d = derive(unit=unit, budget=budget, extension_days=0, start_date=start, pauses=(), calendar=calendar)
        dues[(start, budget, unit)] = (d.due_date, end_of_day(d.due_date), d.provisional)
    return dues


@dataclass
class SweepResult:
    screened: int = 0
    opened: int = 0
    sampled_out: int = 0


# The commitments due for screening, through commitment_unscreened_idx (unscreened, in force).
DUE_SQL = """
    SELECT c.id FROM cases_commitment c
    JOIN cases_commitmentmatter m ON m.id = c.commitment_matter_id
    WHERE c.screened_at IS NULL AND c.status = 'in_force' AND c.commitment_matter_id IS NOT NULL
      AND COALESCE(c.decision_date, (c.signed_at AT TIME ZONE 'Asia/Shanghai')::date) <= %(today)s
    ORDER BY c.id
    {limit}
    FOR UPDATE OF c SKIP LOCKED
"""

ANY_DUE_SQL = """
    SELECT 1 FROM cases_commitment c
    WHERE c.screened_at IS NULL AND c.status = 'in_force' AND c.commitment_matter_id IS NOT NULL
      AND COALESCE(c.decision_date, (c.signed_at AT TIME ZONE 'Asia/Shanghai')::date) <= %(today)s
    LIMIT 1
"""

_MARK = (
    """
WITH due AS ("""
    + DUE_SQL
    + """), marked AS (
    UPDATE cases_commitment c
    SET screened_at = %(now)s,
        sample_draw = CASE WHEN m.verification = 'sample' THEN
            ('x' || substr(md5(m.sample_seed || ':' || c.id::text), 1, 8))::bit(32)::bigint / 4294967296.0
        END
    FROM due, cases_commitmentmatter m
    WHERE c.id = due.id AND m.id = c.commitment_matter_id
    RETURNING c.id, c.subject_id, c.department_id, c.sample_draw,
              COALESCE(c.decision_date, (c.signed_at AT TIME ZONE 'Asia/Shanghai')::date) AS start_date,
              m.verification, m.sample_ratio, m.verify_within, m.verify_unit
)
INSERT INTO commitment_sweep
SELECT id, subject_id, department_id, start_date, verify_within, verify_unit,
       CASE WHEN verification = 'all' THEN 'scheduled' ELSE 'sampled' END,
       verification = 'all' OR (verification = 'sample' AND sample_draw < sample_ratio)
FROM marked
"""
)


def verifications_schedule_due(*, today: dt.date | None = None, limit: int | None = None) -> SweepResult:
    """Screen every commitment due (optionally at most ``limit``) and open the checks it needs."""
    now = timezone.now()
    today = today or timezone.localtime(now, LEGAL_TZ).date()
    if connection.vendor != "postgresql":
        return _schedule_portable(today=today, now=now, limit=limit)
    result = SweepResult()
    with transaction.atomic(), connection.cursor() as cur:
        # Nothing due (every morning but a few): one probe of commitment_unscreened_idx, no temporary tables.
        cur.execute(ANY_DUE_SQL, {"today": today})
        if cur.fetchone() is None:
            return result
        # Dropped explicitly too: ON COMMIT DROP does not fire when the caller's transaction is still open.
        cur.execute("DROP TABLE IF EXISTS commitment_sweep; DROP TABLE IF EXISTS commitment_sweep_due")
        cur.execute("""CREATE TEMP TABLE commitment_sweep (
            id bigint PRIMARY KEY, subject_id bigint, department_id bigint, start_date date, budget int,
            unit varchar(2), reason varchar(10), selected boolean) ON COMMIT DROP""")
        cur.execute(
            _MARK.format(limit="LIMIT %(limit)s" if limit else ""), {"today": today, "now": now, "limit": limit}
        )
        result.screened = cur.rowcount
        if not result.screened:
            cur.execute("DROP TABLE commitment_sweep")
            return result
        cur.execute("ANALYZE commitment_sweep")
        cur.execute("SELECT DISTINCT start_date, budget, unit FROM commitment_sweep WHERE selected")
        combos = cur.fetchall()
        rule_set = rules.ruleset_in_force(now)
        cal = get_calendar()
        # Each clock's first escalation moment (workflows.ladder), per distinct due date like the due dates.
        dues = [
            (*combo, *due, next_escalation_at(due[0], rule_set.pk, cal=cal))
            for combo, due in clock_dues(combos, cal).items()
        ]
        cur.execute("""CREATE TEMP TABLE commitment_sweep_due (start_date date, budget int, unit varchar(2),
            due_date date, due_at timestamptz, provisional boolean, next_escalation_at timestamptz)
            ON COMMIT DROP""")
        if dues:
            cur.executemany("INSERT INTO commitment_sweep_due VALUES (%s, %s, %s, %s, %s, %s, %s)", dues)
        cur.execute(
            """
            INSERT INTO cases_commitmentverification
                (subject_id, handling_organisation_id, rule_set_id, received_at, received_on, created_at,
                 commitment_id, reason, state, finding, serious_consequences)
            SELECT subject_id, department_id, %(rule_set)s, %(now)s, start_date, %(now)s, id, reason, 'open', '',
                   false
            FROM commitment_sweep WHERE selected
            ON CONFLICT DO NOTHING""",
            {"rule_set": rule_set.pk, "now": now},
        )
        result.opened = cur.rowcount
        result.sampled_out = result.screened - result.opened
        ct = ContentType.objects.get_for_model(CommitmentVerification)
        cur.execute(
            """
            INSERT INTO workflows_clock
                (content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget, citation,
                 started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, is_paused,
                 due_date, due_at, provisional, stop_reason, created_at, next_escalation_at)
            SELECT %(ct)s, v.id, s.department_id, %(purpose)s, %(label)s, 'legal', s.unit, s.budget, %(citation)s,
                   (s.start_date::timestamp AT TIME ZONE 'Asia/Shanghai'), 'immediate', s.start_date, 0, 0, '',
                   false, d.due_date, d.due_at, d.provisional, '', %(now)s, d.next_escalation_at
            FROM commitment_sweep s
            JOIN cases_commitmentverification v ON v.commitment_id = s.id AND v.state = 'open'
                 AND v.created_at = %(now)s
            JOIN commitment_sweep_due d ON d.start_date = s.start_date AND d.budget = s.budget AND d.unit = s.unit
            WHERE s.selected""",
            {"ct": ct.pk, "purpose": CLOCK_PURPOSE, "label": _("核查期限"), "citation": CLOCK_CITATION, "now": now},
        )
        if cur.rowcount != result.opened:
            raise RuntimeError(f"verification sweep: {result.opened} checks opened but {cur.rowcount} clocks")
        cur.execute("DROP TABLE commitment_sweep; DROP TABLE commitment_sweep_due")
        if result.screened >= ANALYZE_AFTER:
            # A large run turns most unscreened commitments screened; until the table is analysed again the
            # planner still expects them unscreened and answers the next (usually empty) sweep by walking the
            # whole table instead of the small commitment_unscreened_idx. ANALYZE inside this transaction
            # samples the rows as this transaction leaves them and takes a fraction of a second per million.
            cur.execute("ANALYZE cases_commitment")
        _audit_run(today, result)
    return result


def _audit_run(today: dt.date, result: SweepResult) -> None:
    # One audit event for the run: the draw is reproducible from the stored values and the seed, so the
    # trail needs the run's parameters and counts, not a row per commitment.
    audit_log(
        actor=SYSTEM_ACTOR,
        action="verification.sweep",
        object_type="cases.commitment",
        data={
            "today": today,
            "screened": result.screened,
            "opened": result.opened,
            "sampled_out": result.sampled_out,
            "draw": DRAW_FORMULA,
        },
    )


def _schedule_portable(*, today: dt.date, now: dt.datetime, limit: int | None) -> SweepResult:
    """The sweep through the ORM, in batches of PORTABLE_BATCH, for databases other than PostgreSQL.

    Mirrors the SQL above step by step. No row locks (SKIP LOCKED): the embedded database lets one transaction
    write at a time, and settings begin SQLite transactions IMMEDIATE, holding that lock throughout."""
    result = SweepResult()
    # COALESCE(decision_date, signing date in Beijing) <= today, written so the database can answer it: a
    # commitment without a decision date is due once it was signed before the start of tomorrow, Beijing time.
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=LEGAL_TZ)
    due = (
        Commitment.objects.filter(
            screened_at__isnull=True, status=Commitment.Status.IN_FORCE, commitment_matter__isnull=False
        )
        .filter(Q(decision_date__lte=today) | Q(decision_date__isnull=True, signed_at__lt=tomorrow))
        .select_related("commitment_matter")
        .order_by("pk")
    )
    cal = get_calendar()
    dues: dict = {}
    rule_set = None
    ct = ContentType.objects.get_for_model(CommitmentVerification)
    label = _("核查期限")
    with transaction.atomic():
        while limit is None or result.screened < limit:
            size = PORTABLE_BATCH if limit is None else min(PORTABLE_BATCH, limit - result.screened)
            # Each batch marks its rows screened, so the same query gives the next batch.
            batch = list(due[:size])
            if not batch:
                break
            selected = []
            for c in batch:
                matter = c.commitment_matter
                c.screened_at = now
                c.sample_draw = (
                    sample_draw(matter.sample_seed, c.pk)
                    if matter.verification == CommitmentMatter.Verification.SAMPLE
                    else None
                )
                # As in the SQL: a double compared with the ratio, every commitment of an "all" matter.
                if matter.verification == CommitmentMatter.Verification.ALL or (
                    matter.verification == CommitmentMatter.Verification.SAMPLE
                    and c.sample_draw < float(matter.sample_ratio)
                ):
                    selected.append(c)
            Commitment.objects.bulk_update(batch, ["screened_at", "sample_draw"])
            result.screened += len(batch)
            # ON CONFLICT DO NOTHING: a commitment that already has an open check (started by hand) keeps it.
            busy = set(
                CommitmentVerification.objects.filter(
                    commitment__in=[c.pk for c in selected], state=VerificationState.OPEN
                ).values_list("commitment_id", flat=True)
            )
            selected = [c for c in selected if c.pk not in busy]
            if not selected:
                continue
            if rule_set is None:
                rule_set = rules.ruleset_in_force(now)
            starts = {c.pk: c.decision_date or timezone.localtime(c.signed_at, LEGAL_TZ).date() for c in selected}
            checks = CommitmentVerification.objects.bulk_create(
                [
                    CommitmentVerification(
                        subject_id=c.subject_id,
                        handling_organisation_id=c.department_id,
                        rule_set=rule_set,
                        received_at=now,
                        received_on=starts[c.pk],
                        commitment=c,
                        reason=(
                            CommitmentVerification.Reason.SCHEDULED
                            if c.commitment_matter.verification == CommitmentMatter.Verification.ALL
                            else CommitmentVerification.Reason.SAMPLED
                        ),
                        state=VerificationState.OPEN,
                        finding="",
                        serious_consequences=False,
                    )
                    for c in selected
                ]
            )
            combos = {
                c.pk: (starts[c.pk], c.commitment_matter.verify_within, c.commitment_matter.verify_unit)
                for c in selected
            }
            dues.update(clock_dues(set(combos.values()) - dues.keys(), cal))
            clocks = []
            for c, check in zip(selected, checks, strict=True):
                m = c.commitment_matter
                start = starts[c.pk]
                due_date, due_at, provisional = dues[combos[c.pk]]
                clocks.append(
                    Clock(
                        content_type=ct,
                        object_id=check.pk,
                        organisation_id=c.department_id,
                        purpose=CLOCK_PURPOSE,
                        label=label,
                        kind=Clock.Kind.LEGAL,
                        unit=m.verify_unit,
                        budget=m.verify_within,
                        citation=CLOCK_CITATION,
                        started_at=dt.datetime.combine(start, dt.time(), tzinfo=LEGAL_TZ),
                        start_rule=Clock.StartRule.IMMEDIATE,
                        start_date=start,
                        extension_cap=0,
                        extension_days=0,
                        extension_reason="",
                        is_paused=False,
                        due_date=due_date,
                        due_at=due_at,
                        provisional=provisional,
                        stop_reason="",
                        next_escalation_at=next_escalation_at(due_date, rule_set.pk, cal=cal),
                    )
                )
            clocks = Clock.objects.bulk_create(clocks)
            # auto_now_add stamps each row as it is built; the SQL stamps the run's moment on both.
            CommitmentVerification.objects.filter(pk__in=[v.pk for v in checks]).update(created_at=now)
            Clock.objects.filter(pk__in=[k.pk for k in clocks]).update(created_at=now)
            result.opened += len(checks)
        result.sampled_out = result.screened - result.opened
        if result.screened:
            _audit_run(today, result)
    return result


def verification_clock(verification) -> Clock | None:
    return (
        Clock.objects.filter(
            content_type=ContentType.objects.get_for_model(CommitmentVerification),
            object_id=verification.pk,
            purpose="commitment.verify",
        )
        .order_by("-pk")
        .first()
    )
