"""The verification-scheduling sweep (核查安排): set-based SQL over every commitment due for screening.

Each in-force commitment of a matter is screened once, on or after its decision date (the signing date when
the department has not recorded a decision). Screening draws it for sampling when the matter says so and opens
a CommitmentVerification with its own clock for the department when it must be checked: every one for
"逐项核查", the drawn ones for "按比例抽查", none for "不设核查".

The draw is deterministic and auditable: ``md5("<matter seed>:<commitment id>")``, its first 32 bits read as
a fraction of 2³² — selected when below the matter's ratio. The value is stored on the commitment, so anyone
can recompute and check both the draw and the selection (the same formula is
:func:`sample_draw` in Python).

No Python loop per row: one UPDATE … RETURNING marks the batch, one INSERT … SELECT opens the checks, one
INSERT … SELECT starts their clocks with due dates computed per distinct (start date, budget, unit) — a few
hundred combinations at most — by the same working-day code every other clock uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CommitmentVerification
from cases.services.audit import audit_log
from workflows import rules
from workflows.calendar import LEGAL_TZ, end_of_day, get_calendar
from workflows.deadlines import derive
from workflows.models import Clock

SYSTEM_ACTOR = "system:commitment-sweep"
# Runs that screen at least this many commitments refresh the table's planner statistics (see below).
ANALYZE_AFTER = 10_000


def sample_draw(seed: str, commitment_id: int) -> float:
    return int(hashlib.md5(f"{seed}:{commitment_id}".encode()).hexdigest()[:8], 16) / 4294967296.0


@dataclass
class SweepResult:
    screened: int = 0
    opened: int = 0
    sampled_out: int = 0


_MARK = """
WITH due AS (
    SELECT c.id FROM cases_commitment c
    JOIN cases_commitmentmatter m ON m.id = c.commitment_matter_id
    WHERE c.screened_at IS NULL AND c.status = 'in_force' AND c.commitment_matter_id IS NOT NULL
      AND COALESCE(c.decision_date, (c.signed_at AT TIME ZONE 'Asia/Shanghai')::date) <= %(today)s
    ORDER BY c.id
    {limit}
    FOR UPDATE OF c SKIP LOCKED
), marked AS (
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


def verifications_schedule_due(*, today: dt.date | None = None, limit: int | None = None) -> SweepResult:
    """Screen every commitment due (optionally at most ``limit``) and open the checks it needs."""
    now = timezone.now()
    today = today or timezone.localtime(now, LEGAL_TZ).date()
    result = SweepResult()
    with transaction.atomic(), connection.cursor() as cur:
        # Dropped explicitly too: ON COMMIT DROP does not fire when the caller's transaction is still open.
        cur.execute("DROP TABLE IF EXISTS commitment_sweep; DROP TABLE IF EXISTS commitment_sweep_due")
        cur.execute("""CREATE TEMP TABLE commitment_sweep (
            id bigint PRIMARY KEY, subject_id bigint, department_id bigint, start_date date, budget int,
            unit varchar(2), reason varchar(10), selected boolean) ON COMMIT DROP""")
        cur.execute(_MARK.format(limit="LIMIT %(limit)s" if limit else ""),
                    {"today": today, "now": now, "limit": limit})
        result.screened = cur.rowcount
        if not result.screened:
            cur.execute("DROP TABLE commitment_sweep")
            return result
        cur.execute("ANALYZE commitment_sweep")
        cur.execute("SELECT DISTINCT start_date, budget, unit FROM commitment_sweep WHERE selected")
        combos = cur.fetchall()
        cal = get_calendar()
        dues = []
        for start, budget, unit in combos:
            d = derive(unit=unit, budget=budget, extension_days=0, start_date=start, pauses=(), calendar=cal)
            dues.append((start, budget, unit, d.due_date, end_of_day(d.due_date), d.provisional))
        cur.execute("""CREATE TEMP TABLE commitment_sweep_due (start_date date, budget int, unit varchar(2),
            due_date date, due_at timestamptz, provisional boolean) ON COMMIT DROP""")
        if dues:
            cur.executemany("INSERT INTO commitment_sweep_due VALUES (%s, %s, %s, %s, %s, %s)", dues)
        rule_set = rules.ruleset_in_force(now)
        cur.execute("""
            INSERT INTO cases_commitmentverification
                (subject_id, handling_organisation_id, rule_set_id, received_at, received_on, created_at,
                 commitment_id, reason, state, finding, serious_consequences)
            SELECT subject_id, department_id, %(rule_set)s, %(now)s, start_date, %(now)s, id, reason, 'open', '',
                   false
            FROM commitment_sweep WHERE selected
            ON CONFLICT DO NOTHING""", {"rule_set": rule_set.pk, "now": now})
        result.opened = cur.rowcount
        result.sampled_out = result.screened - result.opened
        ct = ContentType.objects.get_for_model(CommitmentVerification)
        cur.execute("""
            INSERT INTO workflows_clock
                (content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget, citation,
                 started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, is_paused,
                 due_date, due_at, provisional, stop_reason, created_at)
            SELECT %(ct)s, v.id, s.department_id, %(purpose)s, %(label)s, 'legal', s.unit, s.budget, %(citation)s,
                   (s.start_date::timestamp AT TIME ZONE 'Asia/Shanghai'), 'immediate', s.start_date, 0, 0, '',
                   false, d.due_date, d.due_at, d.provisional, '', %(now)s
            FROM commitment_sweep s
            JOIN cases_commitmentverification v ON v.commitment_id = s.id AND v.state = 'open'
                 AND v.created_at = %(now)s
            JOIN commitment_sweep_due d ON d.start_date = s.start_date AND d.budget = s.budget AND d.unit = s.unit
            WHERE s.selected""",
                    {"ct": ct.pk, "purpose": "commitment.verify", "label": _("核查期限"),
                     "citation": "国办发〔2020〕42号；承诺事项核查办法", "now": now})
        if cur.rowcount != result.opened:
            raise RuntimeError(f"verification sweep: {result.opened} checks opened but {cur.rowcount} clocks")
        cur.execute("DROP TABLE commitment_sweep; DROP TABLE commitment_sweep_due")
        if result.screened >= ANALYZE_AFTER:
            # A large run turns most unscreened commitments screened; until the table is analysed again the
            # planner still expects them unscreened and answers the next (usually empty) sweep by walking the
            # whole table instead of the small commitment_unscreened_idx. ANALYZE inside this transaction
            # samples the rows as this transaction leaves them and takes a fraction of a second per million.
            cur.execute("ANALYZE cases_commitment")
        # One audit event for the run: the draw is reproducible from the stored values and the seed, so the
        # trail needs the run's parameters and counts, not a row per commitment.
        audit_log(actor=SYSTEM_ACTOR, action="verification.sweep", object_type="cases.commitment",
                  data={"today": today, "screened": result.screened, "opened": result.opened,
                        "sampled_out": result.sampled_out, "draw": "md5(seed:id)[0:8]/2^32 < ratio"})
    return result


def verification_clock(verification) -> Clock | None:
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(CommitmentVerification),
                                 object_id=verification.pk, purpose="commitment.verify")
            .order_by("-pk").first())
