"""Every scheduled sweep reads only what is due: PostgreSQL's plan for each sweep's query, on tables big enough
and analysed so that the planner's choice means something, uses the sweep's partial index and never reads the
whole table (issue 15 item 4). The figures are in bench/bench_sweeps.py; here only the plans."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from bench import sweep_rows
from cases.services.commitment.follow_up import _late_commitments
from cases.services.commitment.sweep import ANY_DUE_SQL, DUE_SQL
from cases.services.escalation import escalation_due_sql
from cases.services.messages import deadline_reminder_candidates
from cases.services.repair import deemed_withdrawn_candidates, records_expiry_candidates
from tests.factories import EnterpriseFactory, OrganisationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]

CLOCKS = 200_000
RECORDS = 60_000
COMMITMENTS = 60_000
LABEL = "sweep plan test"


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """A city's tables once the sweeps have caught up (bench/sweep_rows.py), analysed; made once for the module
    (committed, then deleted)."""
    with django_db_blocker.unblock():
        org = OrganisationFactory()
        subject = EnterpriseFactory()
        with connection.cursor() as cur:
            sweep_rows.insert_clocks(cur, rows=CLOCKS, label=LABEL)
            sweep_rows.insert_records(cur, provider=org.pk, subject=subject.pk, rows=RECORDS, title=LABEL)
            sweep_rows.insert_commitments(
                cur, department=org.pk, subject=subject.pk, matter=None, rows=COMMITMENTS, title=LABEL
            )
            cur.execute("ANALYZE workflows_clock; ANALYZE cases_creditrecord; ANALYZE cases_commitment")
    yield org
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute("DELETE FROM workflows_clock WHERE label = %s", [LABEL])
        cur.execute("DELETE FROM cases_creditrecord WHERE title = %s", [LABEL])
        # A signed commitment is immutable (its trigger refuses deletes); these rows were never signed by anyone.
        cur.execute("SET session_replication_role = replica")
        cur.execute("DELETE FROM cases_commitment WHERE matter = %s", [LABEL])
        cur.execute("SET session_replication_role = origin")
        subject.delete()
        org.delete()


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _plan(sql: str, params) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cur.fetchone()[0]
    return list(_nodes(raw[0]["Plan"]))


def _queryset_plan(qs) -> list[dict]:
    sql, params = qs.query.sql_with_params()
    return _plan(sql, params)


def _assert_reads_through(nodes: list[dict], index: str, table: str) -> None:
    used = {n.get("Index Name") for n in nodes}
    assert index in used, f"{index} not used: {[(n['Node Type'], n.get('Index Name')) for n in nodes]}"
    seq = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table]
    assert not seq, f"whole-table read of {table}"


def test_the_escalation_sweep_reads_only_the_clocks_whose_moment_has_come(city):
    sql, params = escalation_due_sql(now=timezone.now(), limit=2000)
    _assert_reads_through(_plan(sql, params), "clock_next_escalation_idx", "workflows_clock")


def test_the_deemed_withdrawn_sweep_reads_only_ended_supplement_windows(city):
    nodes = _queryset_plan(deemed_withdrawn_candidates(timezone.now()).values_list("object_id", flat=True))
    _assert_reads_through(nodes, "clock_open_purpose_due_idx", "workflows_clock")


def test_the_expiry_sweep_reads_only_records_past_their_display_period(city):
    nodes = _queryset_plan(records_expiry_candidates(timezone.localdate()).values_list("pk", flat=True))
    _assert_reads_through(nodes, "record_expiry_idx", "cases_creditrecord")


def test_the_verification_sweep_reads_only_unscreened_commitments(city):
    for sql in (ANY_DUE_SQL, DUE_SQL.format(limit="")):
        nodes = _plan(sql, {"today": timezone.localdate()})
        _assert_reads_through(nodes, "commitment_unscreened_idx", "cases_commitment")


def test_the_follow_up_sweep_reads_only_documents_still_awaited(city):
    qs = _late_commitments(timezone.localdate() + dt.timedelta(days=1)).order_by("follow_due_date", "pk")
    nodes = _queryset_plan(qs.values_list("pk", flat=True)[:1000])
    _assert_reads_through(nodes, "commitment_follow_late_idx", "cases_commitment")


def test_the_deadline_reminders_read_only_windows_closing_soon(city):
    nodes = _queryset_plan(deadline_reminder_candidates(timezone.localdate()))
    _assert_reads_through(nodes, "clock_open_purpose_due_idx", "workflows_clock")
