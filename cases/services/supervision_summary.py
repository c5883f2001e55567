"""Upkeep of the supervisor's dashboard summary (cases.models.supervision, issue 15 item 3).

Why database triggers, and not calls in the services: a figure moves whenever a case enters or leaves an open
state, changes hands, or one of its legal clocks starts, stops, pauses, resumes, is extended or recomputed —
by the services, the sweeps, the calendar recompute (a bulk UPDATE of every open clock), the commitment import
(COPY) and raw guarded UPDATEs of the hot path alike. A trigger sees every one of those writes, in the
transaction that makes it, and is rolled back with it; a Python hook would have to be repeated on each path
and would silently drift when a new path forgets it. The same statements run as PostgreSQL PL/pgSQL
functions and as SQLite triggers (the embedded demo), generated here from the procedure registry so a
procedure registered later is summarised without a change (the triggers are installed after every migrate).

Writers never share a row: each change *appends* its signed deltas (``n = -1`` at the old key, ``+1`` at the
new one, nothing when both keys agree), and ``consolidate()`` folds the ledger into one row per key from time
to time (scheduled, and after a rebuild). A case's figure depends on its own row and its own clocks only, so
the clock trigger takes the case's row lock (``FOR NO KEY UPDATE``, what the services' ``select_for_update``
already hold) before it reads the case's other clocks: two transactions changing the same case's clocks then
compute their deltas one after the other, while different cases never wait for each other.

Clocks never move from one case to another (content type and object id are set at creation), which the clock
trigger relies on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction

from cases.models import (
    SupervisionClearing,
    SupervisionDisclosure,
    SupervisionLateness,
    SupervisionOpen,
    SupervisionTimeUsed,
)
from cases.models.records import DISCLOSURE_PURPOSE
from workflows.calendar import LEGAL_TZ
from workflows.models import Clock
from workflows.procedures import PROCEDURES

PREFIX = "supsum_"
CLOCK = Clock._meta.db_table
OPEN = SupervisionOpen._meta.db_table
TIME = SupervisionTimeUsed._meta.db_table
CLEARING = SupervisionClearing._meta.db_table
LATENESS = SupervisionLateness._meta.db_table
DISCLOSURE = SupervisionDisclosure._meta.db_table
RECTIFICATION = "rectification"


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in(values) -> str:
    return "IN (" + ", ".join(_lit(v) for v in values) + ")"


def _all_purposes() -> list[str]:
    return [p for proc in PROCEDURES.values() for p in proc.clock_purposes]


@dataclass
class Dialect:
    vendor: str

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    def distinct(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def micros(self, row: str) -> str:
        """Microseconds from ``started_at`` to ``stopped_at`` of a clock row."""
        if self.pg:
            return f"(extract(epoch FROM ({row}.stopped_at - {row}.started_at)) * 1000000)::bigint"
        return f"CAST(round((julianday({row}.stopped_at) - julianday({row}.started_at)) * 86400000000.0) AS INTEGER)"

    def local_date(self, expr: str, zone: str | None = None) -> str:
        """The calendar day of a moment in the city's time zone (the dashboard's month ends are local days)."""
        zone = zone or settings.TIME_ZONE
        if self.pg:
            return f"({expr} AT TIME ZONE {_lit(zone)})::date"
        # SQLite stores UTC text and knows no zones: the zone's current offset (Asia/Shanghai has no DST).
        offset = dt.datetime.now(dt.UTC).astimezone(ZoneInfo(zone)).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        return f"date({expr}, '{minutes:+d} minutes')"


# --- the statements ---------------------------------------------------------------------------------------------
def _qual(row: str, proc) -> str:
    """A running legal clock of the procedure: what the dashboard's overdue and ageing figures look at."""
    return (
        f"({row}.stopped_at IS NULL AND NOT {row}.is_paused AND {row}.kind = 'legal' "
        f"AND {row}.purpose {_in(proc.clock_purposes)})"
    )


def _ct(proc) -> str:
    meta = proc.model._meta
    return f"(SELECT id FROM django_content_type WHERE app_label = {_lit(meta.app_label)} AND model = {_lit(meta.model_name)})"


def _oldest(proc, case_id: str, *, exclude: str | None = None, extra: str | None = None) -> str:
    """The case's oldest running legal due moment, optionally without one clock and with one clock row."""
    cond = [f"c.content_type_id = {_ct(proc)}", f"c.object_id = {case_id}", _qual("c", proc)]
    if exclude:
        cond.append(f"c.id <> {exclude}")
    parts = [f"SELECT c.due_at AS d FROM {CLOCK} c WHERE {' AND '.join(cond)}"]
    if extra:
        parts.append(f"SELECT {extra}.due_at WHERE {_qual(extra, proc)}")
    return f"(SELECT min(q.d) FROM ({' UNION ALL '.join(parts)}) q)"


def _open_from_clock(proc, op: str) -> str:
    """The case's key before and after one clock row changes (the table still holds the old row: BEFORE)."""
    row = "OLD" if op == "DELETE" else "NEW"
    terms = []
    if op in ("UPDATE", "DELETE"):
        terms.append(f"SELECT -1 AS n, {_oldest(proc, row + '.object_id', exclude=row + '.id', extra='OLD')} AS due")
    else:
        terms.append(f"SELECT -1 AS n, {_oldest(proc, row + '.object_id')} AS due")
    if op in ("UPDATE", "INSERT"):
        exclude = "NEW.id" if op == "UPDATE" else None
        terms.append(f"SELECT 1 AS n, {_oldest(proc, row + '.object_id', exclude=exclude, extra='NEW')} AS due")
    else:
        terms.append(f"SELECT 1 AS n, {_oldest(proc, row + '.object_id', exclude='OLD.id')} AS due")
    table = proc.model._meta.db_table
    return (
        f"INSERT INTO {OPEN} (procedure, organisation_id, oldest_due, n) "
        f"SELECT {_lit(proc.code)}, k.handling_organisation_id, d.due, sum(d.n) "
        f"FROM {table} k, ({' UNION ALL '.join(terms)}) d "
        f"WHERE k.id = {row}.object_id AND k.state {_in(proc.open_states)} "
        f"GROUP BY k.handling_organisation_id, d.due HAVING sum(d.n) <> 0"
    )


def _open_from_case(proc, op: str) -> str:
    """The case's key before and after its own row changes (its clocks do not change in this statement)."""
    row = "OLD" if op == "DELETE" else "NEW"
    sides = []
    if op in ("UPDATE", "DELETE"):
        sides.append(f"SELECT OLD.handling_organisation_id AS org, -1 AS n WHERE OLD.state {_in(proc.open_states)}")
    if op in ("UPDATE", "INSERT"):
        sides.append(f"SELECT NEW.handling_organisation_id AS org, 1 AS n WHERE NEW.state {_in(proc.open_states)}")
    return (
        f"INSERT INTO {OPEN} (procedure, organisation_id, oldest_due, n) "
        f"SELECT {_lit(proc.code)}, s.org, d.due, sum(s.n) "
        f"FROM ({' UNION ALL '.join(sides)}) s, (SELECT {_oldest(proc, row + '.id')} AS due) d "
        f"GROUP BY s.org, d.due HAVING sum(s.n) <> 0"
    )


def _row_delta(table: str, keys: dict, values: dict, cond: str, op: str) -> str:
    """Append the change one row makes to a summary keyed on that row alone: its old contribution (OLD, when
    the row existed) subtracted, its new one (NEW, when it exists) added, nothing where they cancel. ``keys``,
    ``values`` and ``cond`` are expressions of a row named ``{r}``."""
    sides = []
    for row, sign in (("OLD", -1), ("NEW", 1)):
        if (row == "OLD" and op == "INSERT") or (row == "NEW" and op == "DELETE"):
            continue
        cols = [f"{expr.format(r=row)} AS {name}" for name, expr in keys.items()]
        cols += [f"{sign} * ({expr.format(r=row)}) AS {name}" for name, expr in values.items()]
        sides.append(f"SELECT {', '.join(cols)} WHERE {cond.format(r=row)}")
    names = ", ".join(keys)
    sums = ", ".join(f"sum(s.{v})" for v in values)
    nonzero = " OR ".join(f"sum(s.{v}) <> 0" for v in values)
    return (
        f"INSERT INTO {table} ({names}, {', '.join(values)}) "
        f"SELECT {', '.join('s.' + k for k in keys)}, {sums} FROM ({' UNION ALL '.join(sides)}) s "
        f"GROUP BY {', '.join('s.' + k for k in keys)} HAVING {nonzero}"
    )


def _purposes_in() -> str:
    return _in(_all_purposes()) if _all_purposes() else "IN ('')"


def _time_spec(d: Dialect) -> tuple:
    """办理用时: ended clocks of the registered purposes (any kind), per organisation × purpose × label."""
    return (
        TIME,
        {"organisation_id": "{r}.organisation_id", "purpose": "{r}.purpose", "label": "{r}.label"},
        {"n": "1", "micros": d.micros("{r}")},
        "{r}.stopped_at IS NOT NULL AND {r}.purpose " + _purposes_in(),
    )


def _lateness_spec(d: Dialect) -> tuple:
    """办理时效: ended legal clocks with an organisation, per organisation × case type × start day × end day
    (the case types are filtered when read, as the direct query filters them)."""
    return (
        LATENESS,
        {
            "organisation_id": "{r}.organisation_id",
            "content_type_id": "{r}.content_type_id",
            "start_date": "{r}.start_date",
            "end_day": d.local_date("{r}.stopped_at", LEGAL_TZ.key),
        },
        {"n": "1", "on_time": "CASE WHEN {r}.due_at IS NULL OR {r}.stopped_at <= {r}.due_at THEN 1 ELSE 0 END"},
        "{r}.kind = 'legal' AND {r}.stopped_at IS NOT NULL AND {r}.organisation_id IS NOT NULL "
        "AND {r}.purpose " + _purposes_in(),
    )


def _disclosure_spec(d: Dialect) -> tuple:
    """双公示: every disclosure clock with an organisation, by outcome; the open ones at their due moment."""
    return (
        DISCLOSURE,
        {
            "organisation_id": "{r}.organisation_id",
            "outcome": (
                "CASE WHEN {r}.stopped_at IS NULL THEN 'open' WHEN {r}.stopped_at <= {r}.due_at THEN 'on_time' "
                "WHEN {r}.stopped_at > {r}.due_at THEN 'late' ELSE 'ended' END"
            ),
            "due_at": "CASE WHEN {r}.stopped_at IS NULL THEN {r}.due_at END",
        },
        {"n": "1"},
        "{r}.purpose = " + _lit(DISCLOSURE_PURPOSE) + " AND {r}.organisation_id IS NOT NULL",
    )


def _clearing_spec(d: Dialect) -> tuple:
    """清零/零增长: substantiated 政务失信 cases per local day substantiated × day closed."""
    return (
        CLEARING,
        {"verified_on": d.local_date("{r}.verified_at"), "closed_on": d.local_date("{r}.closed_at")},
        {"n": "1"},
        "{r}.record_id IS NOT NULL AND {r}.verified_at IS NOT NULL",
    )


def _clock_specs(d: Dialect) -> list[tuple]:
    return [_time_spec(d), _lateness_spec(d), _disclosure_spec(d)]


# --- triggers ---------------------------------------------------------------------------------------------------
@dataclass
class Unit:
    """Statements run FOR EACH ROW on ``table`` at ``timing`` ``op``; ``branch`` limits them to one procedure's
    clocks (a content type) and ``guard`` to the rows that matter to it."""

    name: str
    table: str
    timing: str
    op: str
    statements: list[str]
    when: str | None = None
    branch: object = None  # a Procedure, for clock units
    guard: str | None = None
    columns: list[str] = field(default_factory=list)  # UPDATE OF


CLOCK_COLUMNS = [
    "stopped_at",
    "is_paused",
    "due_at",
    "kind",
    "purpose",
    "started_at",
    "start_date",
    "organisation_id",
    "label",
]


def units(d: Dialect) -> list[Unit]:
    out: list[Unit] = []
    changed = " OR ".join(d.distinct(f"OLD.{c}", f"NEW.{c}") for c in CLOCK_COLUMNS)
    # The trigger's WHEN is evaluated by the database itself, before any function runs: a clock change that
    # moves no figure (most of them, for most tables) costs a comparison, not a statement.
    for spec in _clock_specs(d):
        cond = spec[3]
        for op in ("INSERT", "UPDATE", "DELETE"):
            matters = {
                "INSERT": cond.format(r="NEW"),
                "DELETE": cond.format(r="OLD"),
                "UPDATE": f"(({cond.format(r='OLD')}) OR ({cond.format(r='NEW')})) AND ({changed})",
            }[op]
            out.append(
                Unit(
                    f"clock_{spec[0].removeprefix('cases_supervision')}_{op.lower()}",
                    CLOCK,
                    "BEFORE",
                    op,
                    [_row_delta(*spec, op=op)],
                    when=matters,
                )
            )
    running = (
        "({r}.stopped_at IS NULL AND NOT {r}.is_paused AND {r}.kind = 'legal' AND {r}.purpose " + _purposes_in() + ")"
    )
    open_changed = " OR ".join(
        d.distinct(f"OLD.{c}", f"NEW.{c}") for c in ("stopped_at", "is_paused", "due_at", "kind", "purpose")
    )
    running_when = {
        "INSERT": running.format(r="NEW"),
        "DELETE": running.format(r="OLD"),
        "UPDATE": f"({running.format(r='OLD')} OR {running.format(r='NEW')}) AND ({open_changed})",
    }
    for proc in PROCEDURES.values():
        table = proc.model._meta.db_table
        open_ = _in(proc.open_states)
        if proc.clock_purposes:
            for op in ("INSERT", "UPDATE", "DELETE"):
                guard = {"INSERT": _qual("NEW", proc), "DELETE": _qual("OLD", proc)}.get(
                    op, f"({_qual('OLD', proc)} OR {_qual('NEW', proc)})"
                )
                out.append(
                    Unit(
                        f"clock_{proc.code}_{op.lower()}",
                        CLOCK,
                        "BEFORE",
                        op,
                        [_open_from_clock(proc, op)],
                        when=running_when[op],
                        branch=proc,
                        guard=guard,
                    )
                )
        case_when = {
            "INSERT": f"NEW.state {open_}",
            "DELETE": f"OLD.state {open_}",
            "UPDATE": (
                f"(OLD.state {open_}) <> (NEW.state {open_}) OR "
                f"(NEW.state {open_} AND {d.distinct('OLD.handling_organisation_id', 'NEW.handling_organisation_id')})"
            ),
        }
        for op in ("INSERT", "UPDATE", "DELETE"):
            out.append(
                Unit(
                    f"{proc.code}_{op.lower()}",
                    table,
                    "AFTER",
                    op,
                    [_open_from_case(proc, op)],
                    when=case_when[op],
                    columns=["state", "handling_organisation_id"] if op == "UPDATE" else [],
                )
            )
        if proc.code == RECTIFICATION:
            for op in ("INSERT", "UPDATE", "DELETE"):
                out.append(
                    Unit(
                        f"{proc.code}_clearing_{op.lower()}",
                        table,
                        "AFTER",
                        op,
                        [_row_delta(*_clearing_spec(d), op=op)],
                        columns=["record_id", "verified_at", "closed_at"] if op == "UPDATE" else [],
                    )
                )
    return out


def _header(u: Unit, name: str) -> str:
    of = f" OF {', '.join(u.columns)}" if u.op == "UPDATE" and u.columns and not u.branch else ""
    return f"CREATE TRIGGER {name} {u.timing} {u.op}{of} ON {u.table} FOR EACH ROW"


def _pg_statements(d: Dialect) -> list[str]:
    out = []
    grouped: dict[tuple, list[Unit]] = {}
    for u in units(d):
        if u.branch is not None:
            grouped.setdefault((u.table, u.timing, u.op), []).append(u)
            continue
        fn = PREFIX + u.name
        ret = "OLD" if u.op == "DELETE" else "NEW"
        body = ";\n  ".join(u.statements)
        out.append(
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
            f"BEGIN\n  {body};\n  RETURN {ret};\nEND $f$"
        )
        when = f" WHEN ({u.when})" if u.when else ""
        out.append(f"{_header(u, fn)}{when} EXECUTE FUNCTION {fn}()")
    # One function per clock operation, branching on the clock's case model: a single content-type lookup.
    for (table, timing, op), group in grouped.items():
        fn = f"{PREFIX}clock_cases_{op.lower()}"
        row = "OLD" if op == "DELETE" else "NEW"
        branches = []
        for u in group:
            proc = u.branch
            meta = proc.model._meta
            case_table = meta.db_table
            stmts = ";\n    ".join(
                [f"PERFORM 1 FROM {case_table} WHERE id = {row}.object_id FOR NO KEY UPDATE", *u.statements]
            )
            branches.append(
                f"IF m = {_lit(meta.app_label + '.' + meta.model_name)} THEN\n    IF {u.guard} THEN\n    {stmts};\n    END IF;"
            )
        chain = "\n  ELS".join(branches) + "\n  END IF;"
        out.append(
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
            f"DECLARE m text;\nBEGIN\n"
            f"  SELECT app_label || '.' || model INTO m FROM django_content_type WHERE id = {row}.content_type_id;\n"
            f"  {chain}\n  RETURN {row};\nEND $f$"
        )
        when = f" WHEN ({group[0].when})" if group[0].when else ""
        out.append(f"CREATE TRIGGER {fn} {timing} {op} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {fn}()")
    return out


def _sqlite_statements(d: Dialect) -> list[str]:
    out = []
    for u in units(d):
        conds = []
        if u.branch is not None:
            row = "OLD" if u.op == "DELETE" else "NEW"
            conds.append(f"{row}.content_type_id = {_ct(u.branch)}")
            conds.append(u.guard)
        if u.when:
            conds.append(f"({u.when})")
        when = f" WHEN {' AND '.join(conds)}" if conds else ""
        body = "; ".join(u.statements)
        out.append(f"{_header(u, PREFIX + u.name)}{when} BEGIN {body}; END")
    return out


def _drop_statements(conn) -> list[str]:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname LIKE %s",
                [PREFIX + "%"],
            )
            drops = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in cursor.fetchall()]
            cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE %s", [PREFIX + "%"])
            return drops + [f"DROP FUNCTION IF EXISTS {name}()" for (name,) in cursor.fetchall()]
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?", [PREFIX + "%"])
        return [f"DROP TRIGGER IF EXISTS {name}" for (name,) in cursor.fetchall()]


def trigger_sql(vendor: str) -> list[str]:
    d = Dialect(vendor)
    return _pg_statements(d) if d.pg else _sqlite_statements(d)


def install_triggers(conn=None) -> None:
    conn = conn or default_connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for statement in [*_drop_statements(conn), *trigger_sql(conn.vendor)]:
            cursor.execute(statement)


# --- rebuild and consolidation ----------------------------------------------------------------------------------
def _rebuild_rows(table: str, keys: dict, values: dict, cond: str, *, source: str) -> str:
    exprs = [expr.format(r="x") for expr in keys.values()]
    sums = [f"sum({expr.format(r='x')})" for expr in values.values()]
    return (
        f"INSERT INTO {table} ({', '.join(keys)}, {', '.join(values)}) "
        f"SELECT {', '.join(exprs + sums)} FROM {source} x WHERE {cond.format(r='x')} GROUP BY {', '.join(exprs)}"
    )


def rebuild_sql(vendor: str) -> list[str]:
    """The summary computed from scratch: the same figures the dashboard's direct queries group."""
    d = Dialect(vendor)
    out = []
    for proc in PROCEDURES.values():
        table = proc.model._meta.db_table
        od = "NULL"
        join = ""
        if proc.clock_purposes:
            join = (
                f"LEFT JOIN (SELECT c.object_id, min(c.due_at) AS oldest FROM {CLOCK} c "
                f"WHERE c.content_type_id = {_ct(proc)} AND {_qual('c', proc)} GROUP BY c.object_id) od "
                f"ON od.object_id = k.id"
            )
            od = "od.oldest"
        out.append(
            f"INSERT INTO {OPEN} (procedure, organisation_id, oldest_due, n) "
            f"SELECT {_lit(proc.code)}, k.handling_organisation_id, {od}, count(*) FROM {table} k {join} "
            f"WHERE k.state {_in(proc.open_states)} GROUP BY k.handling_organisation_id, {od}"
        )
        if proc.code == RECTIFICATION:
            out.append(_rebuild_rows(*_clearing_spec(d), source=table))
    for spec in _clock_specs(d):
        out.append(_rebuild_rows(*spec, source=CLOCK))
    return out


def rebuild(conn=None) -> None:
    """Empty the summary and compute it again, in one transaction. On PostgreSQL the summary tables are locked
    first: a writer that changed a clock before the lock commits before the rebuild reads (its deltas are then
    thrown away with the rest and its change counted by the rebuild); one that comes after waits and appends
    its deltas on top of the rebuilt figures."""
    conn = conn or default_connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {', '.join(_KEYS)} IN ACCESS EXCLUSIVE MODE")
        for table in _KEYS:
            cursor.execute(f"DELETE FROM {table}")
        for statement in rebuild_sql(conn.vendor):
            cursor.execute(statement)


_KEYS = {
    OPEN: (["procedure", "organisation_id", "oldest_due"], ["n"]),
    TIME: (["organisation_id", "purpose", "label"], ["n", "micros"]),
    CLEARING: (["verified_on", "closed_on"], ["n"]),
    LATENESS: (["organisation_id", "content_type_id", "start_date", "end_day"], ["n", "on_time"]),
    DISCLOSURE: (["organisation_id", "outcome", "due_at"], ["n"]),
}


def consolidate(conn=None) -> None:
    """Fold the ledger into one row per key (rows whose sums are zero disappear).

    PostgreSQL: one statement moves the rows it sees (DELETE … RETURNING) into their sums, so a delta committed
    meanwhile is neither lost nor counted twice, and writers keep appending without waiting. SQLite has one
    writer at a time: sum the rows up to the highest id, then delete those."""
    conn = conn or default_connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for table, (keys, values) in _KEYS.items():
            cols = ", ".join(keys + values)
            sums = ", ".join(f"sum({v})" for v in values)
            nonzero = " OR ".join(f"sum({v}) <> 0" for v in values)
            group = ", ".join(keys)
            if conn.vendor == "postgresql":
                cursor.execute(
                    f"WITH moved AS (DELETE FROM {table} RETURNING {cols}) "
                    f"INSERT INTO {table} ({cols}) SELECT {group}, {sums} FROM moved GROUP BY {group} HAVING {nonzero}"
                )
            else:
                cursor.execute(f"SELECT max(id) FROM {table}")
                (top,) = cursor.fetchone()
                if top is None:
                    continue
                cursor.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {group}, {sums} FROM {table} WHERE id <= %s "
                    f"GROUP BY {group} HAVING {nonzero}",
                    [top],
                )
                cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [top])


def install_after_migrate(sender, using="default", plan=None, **kwargs) -> None:
    """post_migrate: (re)install the triggers from the current procedure registry and rebuild the summary, so
    a database that had cases before the summary existed (or before a procedure was added) starts exact.

    A ``migrate`` that applied nothing (``plan == []``: every node's start, every deploy without a schema
    change) skips the rebuild: it scans every case and holds the summary's lock for seconds at city scale, and
    nothing it would recompute has changed. A flush (no plan) leaves empty tables, where it costs nothing."""
    from django.db import connections

    conn = connections[using]
    if OPEN not in conn.introspection.table_names():
        return
    install_triggers(conn)
    if plan == []:
        return
    rebuild(conn)
    consolidate(conn)
