"""Rows for the idle-sweep benchmark (bench/bench_sweeps.py) and the sweep-plan test (tests/test_sweep_plans.py):
clocks, credit records and commitments in the shape a city's database has once the sweeps have caught up —
nothing due — inserted with INSERT … SELECT generate_series.

Clocks: 90% stopped long ago; of the open ones a third overdue (their ladder fired up to today, the next rung
stored in ``next_escalation_at`` days ahead), 1% paused; supplement windows (视为撤回) all still running.
Records: displayed, their maximum display period ending in the future, or already expired. Commitments: all
screened; the 容缺受理 ones' documents handed in on time, due later, or late with their check already open.
"""

from __future__ import annotations

CLOCK_PURPOSES = (
    "rectification.deadline",
    "repair.decision",
    "repair.acceptance",
    "objection.provider",
    "commitment.verify",
    "record.disclosure",
    "repair.supplement_window",
)

CLOCKS = """
INSERT INTO workflows_clock (
    content_type_id, object_id, organisation_id, purpose, label, kind, unit, budget, citation,
    started_at, start_rule, start_date, extension_cap, extension_days, extension_reason, extended_at,
    is_paused, due_date, due_at, provisional, stopped_at, stop_reason, created_at, next_escalation_at)
SELECT
    (%(cts)s::int[])[1 + (i / 10) %% %(n_purposes)s], i, NULL, t.purpose, %(label)s, 'legal', 'wd', 10, '',
    t.due - interval '20 days', 'receipt', ((t.due - interval '20 days') AT TIME ZONE 'Asia/Shanghai')::date,
    10, 0, '', NULL,
    t.paused,
    (t.due AT TIME ZONE 'Asia/Shanghai')::date, t.due, false,
    CASE WHEN t.open THEN NULL ELSE t.due - interval '2 days' END,
    '', t.due - interval '20 days',
    CASE WHEN t.open AND NOT t.paused AND t.purpose NOT IN ('record.disclosure', 'repair.supplement_window')
         THEN date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
              + (1 + (i %% 20)) * interval '1 day' END AT TIME ZONE 'Asia/Shanghai'
FROM generate_series(1::bigint, %(rows)s::bigint) AS i
CROSS JOIN LATERAL (
    SELECT
        (i %% 10 = 0) AS open,
        (i %% 1000 = 0) AS paused,
        (%(purposes)s::text[])[1 + (i / 10) %% %(n_purposes)s] AS purpose
) AS p
CROSS JOIN LATERAL (
    SELECT p.open, p.paused, p.purpose,
        CASE WHEN NOT p.open THEN now() - (((i * 7919) %% 730) + 1) * interval '1 day'
             -- a running supplement window has not ended (else the case would have been deemed withdrawn)
             -- and none closes within the 2 working days of the applicant's reminder
             WHEN p.purpose = 'repair.supplement_window' THEN now() + (6 + i %% 5) * interval '1 day'
             -- open clocks: due between 30 days ago and 60 days ahead
             ELSE now() + (((i * 7919) %% 90) - 30) * interval '1 day' END AS due
) AS t
"""

RECORDS = """
INSERT INTO cases_creditrecord (kind, severity, title, decision_number, content, legal_basis, provider_id,
    sector, decision_date, publication_date, display_min_until, display_max_until, repairable,
    obligations_performed, display_state, updated_at, subject_id)
SELECT 'admin_penalty', 'ordinary', %(title)s, '', '', '', %(provider)s, '', d.decided, d.decided,
    d.decided + 90, d.decided + 365 * 3, true, true,
    CASE WHEN d.decided + 365 * 3 < (now() AT TIME ZONE 'Asia/Shanghai')::date THEN 'expired' ELSE 'displayed' END, now(), %(subject)s
FROM generate_series(1, %(rows)s) AS i
CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date - (i %% 2000) AS decided) AS d
"""

COMMITMENTS = """
INSERT INTO cases_commitment (type, matter, text, text_sha256, signer_name, signer_capacity, signed_at, status,
    source_reference, department_id, subject_id, channel, decision_number, commitment_matter_id, decision_date,
    screened_at, follow_due_date, follow_received_at, follow_late_opened_at)
SELECT CASE WHEN i %% 5 = 0 THEN 'tolerance' ELSE 'approval' END, %(title)s, '', repeat('0', 64), '张三', 'legal',
    now() - (i %% 700) * interval '1 day', 'in_force', '', %(department)s, %(subject)s, 'online', '', %(matter)s,
    (now() AT TIME ZONE 'Asia/Shanghai')::date - (i %% 700), now() - (i %% 700) * interval '1 day',
    CASE WHEN i %% 5 = 0 THEN (now() AT TIME ZONE 'Asia/Shanghai')::date - (i %% 700) + 10 END,
    -- documents due before today: half handed in on time, half never (their lateness check opened the next day)
    CASE WHEN i %% 10 = 0 AND t.late THEN now() - (i %% 700) * interval '1 day' + interval '5 days' END,
    CASE WHEN i %% 10 = 5 AND t.late THEN now() - (i %% 700) * interval '1 day' + interval '11 days' END
FROM generate_series(1, %(rows)s) AS i
CROSS JOIN LATERAL (SELECT (i %% 700) > 10 AS late) AS t
"""


def clock_content_types() -> list[int]:
    """The content type of each of CLOCK_PURPOSES: the case model its procedure keeps clocks on."""
    from django.contrib.contenttypes.models import ContentType

    from cases.models import CommitmentVerification, CreditRecord, ObjectionCase, RectificationCase, RepairApplication

    models = {
        "rectification": RectificationCase,
        "repair": RepairApplication,
        "objection": ObjectionCase,
        "commitment": CommitmentVerification,
        "record": CreditRecord,
    }
    return [ContentType.objects.get_for_model(models[p.split(".")[0]]).pk for p in CLOCK_PURPOSES]


def insert_clocks(cursor, *, rows: int, label: str) -> int:
    purposes = list(CLOCK_PURPOSES)
    cursor.execute(
        CLOCKS,
        {"cts": clock_content_types(), "rows": rows, "label": label, "purposes": purposes, "n_purposes": len(purposes)},
    )
    return cursor.rowcount


def insert_records(cursor, *, provider: int, subject: int, rows: int, title: str) -> int:
    cursor.execute(RECORDS, {"provider": provider, "subject": subject, "rows": rows, "title": title})
    return cursor.rowcount


def insert_commitments(cursor, *, department: int, subject: int, matter: int | None, rows: int, title: str) -> int:
    cursor.execute(
        COMMITMENTS, {"department": department, "subject": subject, "matter": matter, "rows": rows, "title": title}
    )
    return cursor.rowcount
