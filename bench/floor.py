"""The raw-SQL floor of a credit-repair case (issue 15): the same legal writes as the services make — case row,
attachment, commitment, tracking number, clocks, activities, process and tasks, notices, record change, outbox
event, audit chain (head locked, event inserted, head moved) — one transaction per step as from the web, in
plain SQL over one psycopg2 connection, on scratch tables shaped like the real ones. No ORM, no viewflow, no
checks beyond what the database does: the cost PostgreSQL itself puts on the case.
"""

from __future__ import annotations

import json

TABLES = """
CREATE TABLE IF NOT EXISTS bench_floor_case (id bigserial PRIMARY KEY, state text NOT NULL, number text,
    subject_id bigint, record_id bigint, organisation_id bigint, statement text, received_at timestamptz,
    decided_at timestamptz, data jsonb);
CREATE TABLE IF NOT EXISTS bench_floor_attachment (id bigserial PRIMARY KEY, case_id bigint, purpose text,
    name text, sha256 text, size int, uploaded_at timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_commitment (id bigserial PRIMARY KEY, case_id bigint, signer text,
    text text, signed_at timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_sequence (scope text, year int, last_value int, PRIMARY KEY (scope, year));
CREATE TABLE IF NOT EXISTS bench_floor_clock (id bigserial PRIMARY KEY, case_id bigint, purpose text,
    budget int, started_at timestamptz, due_at timestamptz, stopped_at timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_activity (id bigserial PRIMARY KEY, case_id bigint, kind text, text text,
    at timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_process (id bigserial PRIMARY KEY, case_id bigint, status text,
    finished timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_task (id bigserial PRIMARY KEY, process_id bigint, node text,
    status text, owner_id bigint, created timestamptz, finished timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_notice (id bigserial PRIMARY KEY, case_id bigint, kind text, trigger text,
    context jsonb, status text, UNIQUE (case_id, kind, trigger));
CREATE TABLE IF NOT EXISTS bench_floor_record_change (id bigserial PRIMARY KEY, record_id bigint, field text,
    old_value text, new_value text, at timestamptz);
CREATE TABLE IF NOT EXISTS bench_floor_outbox (id bigserial PRIMARY KEY, dedupe_key text UNIQUE, topic text,
    payload jsonb, clock_id bigint);
CREATE TABLE IF NOT EXISTS bench_floor_audit (seq bigint PRIMARY KEY, at timestamptz, action text,
    object_id text, data jsonb, prev_hash text, hash text);
CREATE TABLE IF NOT EXISTS bench_floor_head (id int PRIMARY KEY, last_seq bigint, last_hash text);
INSERT INTO bench_floor_head VALUES (1, 0, '') ON CONFLICT DO NOTHING;
"""


def connect(settings_dict):
    import psycopg2

    return psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
    )


def create_tables(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(TABLES)
    conn.commit()


def _audit(cur, actions: list[str], case_id: int) -> None:
    """One batch per transaction, as the services do: lock the head, insert the events, move the head."""
    cur.execute("SELECT last_seq, last_hash FROM bench_floor_head WHERE id = 1 FOR UPDATE")
    seq, prev = cur.fetchone()
    rows = []
    for action in actions:
        seq += 1
        rows.append((seq, action, str(case_id), json.dumps({"case": case_id}), prev, f"{seq:064d}"))
        prev = f"{seq:064d}"
    args = ",".join(cur.mogrify("(%s, now(), %s, %s, %s, %s, %s)", r).decode() for r in rows)
    cur.execute(f"INSERT INTO bench_floor_audit (seq, at, action, object_id, data, prev_hash, hash) VALUES {args}")
    cur.execute("UPDATE bench_floor_head SET last_seq = %s, last_hash = %s WHERE id = 1", [seq, prev])


def one_case(conn, record_id: int, measure=None) -> None:
    from contextlib import nullcontext

    measure = measure or (lambda name: nullcontext())
    cur = conn.cursor()
    with measure("draft"):
        cur.execute(
            "INSERT INTO bench_floor_case (state, subject_id, record_id, organisation_id, statement, data) "
            "VALUES ('draft', 1, %s, 1, %s, '{}') RETURNING id",
            [record_id, "已缴清罚款并完成整改。"],
        )
        case_id = cur.fetchone()[0]
        _audit(cur, ["repair.draft"], case_id)
        conn.commit()
    with measure("attach"):
        cur.execute("SELECT id FROM bench_floor_case WHERE id = %s FOR UPDATE", [case_id])
        cur.execute(
            "INSERT INTO bench_floor_attachment (case_id, purpose, name, sha256, size, uploaded_at) "
            "VALUES (%s, 'proof', 'proof.pdf', %s, 40, now())",
            [case_id, "0" * 64],
        )
        _audit(cur, ["attachment.upload"], case_id)
        conn.commit()
    with measure("sign"):
        cur.execute("SELECT id FROM bench_floor_case WHERE id = %s FOR UPDATE", [case_id])
        cur.execute(
            "INSERT INTO bench_floor_commitment (case_id, signer, text, signed_at) VALUES (%s, '张三', '承诺', now())",
            [case_id],
        )
        _audit(cur, ["commitment.sign"], case_id)
        conn.commit()
    with measure("submit"):
        cur.execute(
            "INSERT INTO bench_floor_sequence VALUES ('repair', 2026, 1) ON CONFLICT (scope, year) "
            "DO UPDATE SET last_value = bench_floor_sequence.last_value + 1 RETURNING last_value"
        )
        number = cur.fetchone()[0]
        cur.execute(
            "UPDATE bench_floor_case SET state = 'submitted', number = %s, received_at = now() "
            "WHERE id = %s AND state = 'draft' RETURNING id",
            [f"XF2026{number:06d}", case_id],
        )
        cur.execute(
            "INSERT INTO bench_floor_clock (case_id, purpose, budget, started_at, due_at) VALUES "
            "(%s, 'acceptance', 3, now(), now() + interval '3 days'), (%s, 'decision', 10, now(), now() + interval '14 days')",
            [case_id, case_id],
        )
        cur.execute("INSERT INTO bench_floor_activity (case_id, kind, at) VALUES (%s, 'submitted', now())", [case_id])
        cur.execute("INSERT INTO bench_floor_process (case_id, status) VALUES (%s, 'NEW') RETURNING id", [case_id])
        process_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO bench_floor_task (process_id, node, status, created) VALUES (%s, 'acceptance', 'NEW', now())",
            [process_id],
        )
        _audit(cur, ["repair.submitted", "clock.start", "clock.start"], case_id)
        conn.commit()
    for step, node, nxt, state_from, state_to, extra in (
        ("accept", "acceptance", "review", "submitted", "accepted", "accept"),
        ("propose", "review", "signoff", "accepted", "signoff", None),
        ("signoff", "signoff", None, "signoff", "approved", "decide"),
    ):
        with measure(step):
            cur.execute("SELECT id FROM bench_floor_process WHERE id = %s FOR UPDATE", [process_id])
            cur.execute(
                "UPDATE bench_floor_task SET status = 'DONE', owner_id = 1, finished = now() "
                "WHERE process_id = %s AND node = %s AND status = 'NEW' RETURNING id",
                [process_id, node],
            )
            cur.execute(
                "UPDATE bench_floor_case SET state = %s WHERE id = %s AND state = %s RETURNING id",
                [state_to, case_id, state_from],
            )
            cur.execute(
                "INSERT INTO bench_floor_activity (case_id, kind, at) VALUES (%s, %s, now())", [case_id, state_to]
            )
            actions = [f"repair.{state_to}"]
            if extra == "accept":
                cur.execute(
                    "UPDATE bench_floor_clock SET stopped_at = now() WHERE case_id = %s AND purpose = 'acceptance'",
                    [case_id],
                )
                cur.execute(
                    "INSERT INTO bench_floor_notice (case_id, kind, trigger, context, status) "
                    "VALUES (%s, 'repair_accepted', 'accept', '{}', 'pending') ON CONFLICT DO NOTHING",
                    [case_id],
                )
                actions += ["clock.stop", "notice.requested"]
            if extra == "decide":
                cur.execute(
                    "UPDATE bench_floor_clock SET stopped_at = now() WHERE case_id = %s AND purpose = 'decision'",
                    [case_id],
                )
                cur.execute(
                    "INSERT INTO bench_floor_record_change (record_id, field, old_value, new_value, at) "
                    "VALUES (%s, 'display_state', 'displayed', 'repaired', now())",
                    [record_id],
                )
                cur.execute(
                    "INSERT INTO bench_floor_notice (case_id, kind, trigger, context, status) "
                    "VALUES (%s, 'repair_granted', 'decide', '{}', 'pending') ON CONFLICT DO NOTHING",
                    [case_id],
                )
                cur.execute(
                    "INSERT INTO bench_floor_clock (case_id, purpose, budget, started_at) VALUES (%s, 'sync', 3, now()) "
                    "RETURNING id",
                    [case_id],
                )
                clock_id = cur.fetchone()[0]
                cur.execute(
                    "INSERT INTO bench_floor_outbox (dedupe_key, topic, payload, clock_id) "
                    "VALUES (%s, 'repair.granted', '{}', %s) ON CONFLICT DO NOTHING",
                    [f"floor-{case_id}", clock_id],
                )
                cur.execute(
                    "UPDATE bench_floor_process SET status = 'DONE', finished = now() WHERE id = %s", [process_id]
                )
                actions += ["clock.stop", "record.repaired", "notice.requested", "outbox.enqueue", "clock.start"]
            if nxt:
                cur.execute(
                    "INSERT INTO bench_floor_task (process_id, node, status, created) VALUES (%s, %s, 'NEW', now())",
                    [process_id, nxt],
                )
            _audit(cur, actions, case_id)
            conn.commit()
