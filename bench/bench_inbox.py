"""The officers' inbox at 100,000 open tasks: the first page of /inbox/ over HTTP (middleware, session,
selectors, template), against the raw SQL of the same page in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_inbox.py

Issue 13's goal: the first page renders in ≤ 100 ms with ≤ 10 queries. The rows look like a city: 100,000
open viewflow tasks of the repair flow over 11 departments, the measured bureau holding 40% of them (the
worst case is the biggest department), a fifth claimed by someone, due dates from 10 days ago to 30 days
ahead, 2% with no running clock. Tasks and their inbox rows are inserted with INSERT ... SELECT
generate_series (copying one task viewflow made, so every column is what viewflow writes) and deleted at
the end. Measured, each over ``--requests`` requests after a warm-up: the unfiltered first page, "mine", and
a search by 办件编号; for each the p50/p95 wall time, the SQL queries of one request, and the p95 of the
same page's raw SQL (counts per step, the page of 25 rows, the total) run with a cursor — ``raw_ratio`` is
page p95 / raw p95. Writes bench/results/bench_inbox.json. Refuses a database whose name does not contain
"bench" unless BENCH_ALLOW_ANY_DB=1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import steps  # bench/steps.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GOAL_MS = 100
GOAL_QUERIES = 10
RESULT = ROOT / "bench" / "results" / "bench_inbox.json"

# The raw SQL the inbox page needs, written by hand: counts per procedure and step, the first 25 rows by
# deadline with their owners, the total for the pager.
RAW_COUNTS = """
SELECT procedure, node, count(*), count(*) FILTER (WHERE due_at < now()), count(*) FILTER (WHERE owner_id IS NULL),
       count(*) FILTER (WHERE owner_id = %(me)s OR routed_for_id = %(me)s)
FROM cases_inboxitem WHERE organisation_id = %(org)s AND permission IN %(perms)s
GROUP BY procedure, node ORDER BY procedure, node
"""
RAW_PAGE = """
SELECT i.*, u.username, u.display_name FROM cases_inboxitem i LEFT JOIN cases_user u ON u.id = i.owner_id
WHERE i.organisation_id = %(org)s AND i.permission IN %(perms)s {extra}
ORDER BY i.due_at ASC NULLS LAST, i.task_id LIMIT 25
"""
RAW_TOTAL = (
    "SELECT count(*) FROM cases_inboxitem i WHERE i.organisation_id = %(org)s AND i.permission IN %(perms)s {extra}"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to the bench PostgreSQL database.", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.conf import settings

    if not steps.migrated_bench_database(rule_sets=False):
        return 2
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    made = setup(args.tasks)
    try:
        if os.environ.get("BENCH_INBOX_EXPLAIN"):
            explain(made)
        results = measure(made, args.requests)
    finally:
        teardown(made)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten to {RESULT.relative_to(ROOT)}")
    first = results["pages"]["first_page"]
    ok = first["p95_ms"] <= GOAL_MS and first["queries"] <= GOAL_QUERIES
    print(f"goal (first page ≤ {GOAL_MS} ms p95, ≤ {GOAL_QUERIES} queries): {'met' if ok else 'NOT met'}")
    return 0


def setup(n: int) -> dict:
    from django.db import connection, transaction

    from cases.models import InboxItem, Organisation, Role, User
    from cases.task_permissions import DEPT_HANDLER
    from workflows.flows.repair import RepairFlow

    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    orgs = [
        Organisation.objects.create(name=f"收件箱基准局{tag}-{i}", kind=Organisation.Kind.DEPARTMENT) for i in range(11)
    ]
    big = orgs[0]

    def user(name, role):
        u = User(username=f"bench-inbox-{name}-{tag}", role=role, organisation=big, display_name=name)
        u.set_unusable_password()
        u.save()
        return u

    handlers = [user(f"handler{i}", Role.DEPT_HANDLER) for i in range(5)]
    leader = user("leader", Role.DEPT_LEADER)
    with transaction.atomic():
        # One process and one task made by viewflow itself, as the template every inserted row copies.
        from viewflow.workflow.models import Process, Task

        process = Process.objects.create(flow_class=RepairFlow)
        template = Task.objects.create(
            process=process,
            flow_task=RepairFlow.acceptance,
            flow_task_type="HUMAN",
            owner_permission=DEPT_HANDLER,
            owner_permission_obj=big,
        )
        InboxItem.objects.filter(pk=template.pk).delete()
        columns = [
            c.name
            for c in connection.introspection.get_table_description(connection.cursor(), "viewflow_task")
            if c.name != "id"
        ]
        cols = ", ".join(columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO viewflow_task ({cols}) SELECT {cols} FROM viewflow_task t "
                f"CROSS JOIN generate_series(1, %s) WHERE t.id = %s",
                [n, template.pk],
            )
            cursor.execute(
                "SELECT id FROM viewflow_task WHERE process_id = %s AND id <> %s ORDER BY id", [process.pk, template.pk]
            )
            ids = [row[0] for row in cursor.fetchall()]
            first, last = ids[0], ids[-1]
            owners = "ARRAY[" + ",".join(str(h.pk) for h in handlers) + "]::bigint[]"
            org_ids = "ARRAY[" + ",".join(str(o.pk) for o in orgs[1:]) + "]::bigint[]"
            from django.contrib.contenttypes.models import ContentType

            from cases.models import RepairApplication

            ct = ContentType.objects.get_for_model(RepairApplication).pk
            cursor.execute(
                f"""
                INSERT INTO cases_inboxitem (task_id, procedure, node, case_type_id, case_id, tracking_number,
                    subject_name, subject_code, organisation_id, permission, owner_id, routed_for_id, created,
                    due_date, due_at, provisional)
                SELECT t.id, 'repair',
                    (ARRAY['acceptance', 'review'])[1 + t.id %% 2],
                    %(ct)s, t.id,
                    'XF' || lpad((t.id - %(first)s + 1)::text, 10, '0'),
                    '基准企业' || (t.id %% 5000) || '有限公司',
                    '91410100' || lpad((t.id %% 10000000000)::text, 10, '0'),
                    CASE WHEN t.id %% 10 < 4 THEN %(big)s ELSE ({org_ids})[1 + t.id %% 10] END,
                    %(perm)s,
                    CASE WHEN t.id %% 5 = 0 THEN ({owners})[1 + (t.id / 5) %% 5] END,
                    NULL,
                    now() - interval '1 day' * (t.id %% 20),
                    d.due::date, CASE WHEN t.id %% 50 = 7 THEN NULL ELSE d.due END, false
                FROM viewflow_task t
                CROSS JOIN LATERAL (SELECT (now() + interval '1 hour' * ((t.id * 7919) %% 960 - 240)) AS due) d
                WHERE t.id BETWEEN %(first)s AND %(last)s AND t.process_id = %(process)s
                """,
                {"ct": ct, "first": first, "last": last, "big": big.pk, "perm": DEPT_HANDLER, "process": process.pk},
            )
            pass
    # What autovacuum does after a bulk insert: statistics, and the visibility map index-only scans rely on.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_inboxitem")
    mine = InboxItem.objects.filter(organisation=big, owner=handlers[0]).count()
    in_big = InboxItem.objects.filter(organisation=big).count()
    print(
        f"{n:,} open tasks over {len(orgs)} departments; the measured bureau holds {in_big:,}, "
        f"the measured handler {mine:,} ({time.perf_counter() - started:.1f} s to insert)"
    )
    sample = (
        InboxItem.objects.filter(organisation=big).order_by("-task_id").values_list("tracking_number", flat=True)[0]
    )
    return {
        "tag": tag,
        "orgs": orgs,
        "big": big,
        "handler": handlers[0],
        "leader": leader,
        "process": process,
        "sample_number": sample,
        "users": [*handlers, leader],
    }


def _p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(made: dict, requests: int) -> dict:
    from django.db import connection
    from django.test import Client

    from cases.task_permissions import task_permissions_of

    handler = made["handler"]
    client = Client()
    client.force_login(handler)
    perms = tuple(sorted(task_permissions_of(handler)))
    params = {"org": made["big"].pk, "perms": perms, "me": handler.pk}
    pages = {
        "first_page": ({}, ""),
        "mine": ({"who": "mine"}, "AND (i.owner_id = %(me)s OR i.routed_for_id = %(me)s)"),
        "search_number": (
            {"q": made["sample_number"]},
            "AND i.tracking_number = %(number)s",
        ),
    }
    # The machine's load when measured: the times mean little without it (the ratio to raw SQL means more).
    results = {
        "open_tasks": None,
        "goal_ms": GOAL_MS,
        "goal_queries": GOAL_QUERIES,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "pages": {},
    }
    from cases.models import InboxItem

    results["open_tasks"] = InboxItem.objects.count()
    print(f"load average {results['load_average_1min']} on {results['cpus']} CPUs")
    print(f"\n{'page':<16}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}{'raw p95 ms':>12}{'ratio':>8}{'rows':>6}")
    for name, (query, extra) in pages.items():
        p = {**params, "number": made["sample_number"]}
        for _ in range(3):  # warm-up: caches, the calendar, the plan cache
            response = client.get("/inbox/", query)
            assert response.status_code == 200, response.status_code
        executed: list[str] = []

        def log(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(log):
            response = client.get("/inbox/", query)
        n_rows = response.content.decode().count("data-task=")
        if os.environ.get("BENCH_INBOX_EXPLAIN"):
            print("\n".join(f"  {q[:160]}" for q in executed))
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/inbox/", query)
            times.append(1000 * (time.perf_counter() - start))
        raw = []
        with connection.cursor() as cursor:
            for _ in range(requests):
                start = time.perf_counter()
                cursor.execute(RAW_COUNTS, p)
                cursor.fetchall()
                cursor.execute(RAW_PAGE.format(extra=extra), p)
                cursor.fetchall()
                cursor.execute(RAW_TOTAL.format(extra=extra), p)
                cursor.fetchall()
                raw.append(1000 * (time.perf_counter() - start))
        row = {
            "queries": len(executed),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(_p(times, 0.95), 2),
            "raw_p95_ms": round(_p(raw, 0.95), 3),
            "raw_ratio": round(_p(times, 0.95) / _p(raw, 0.95), 1),
            "rows": n_rows,
        }
        results["pages"][name] = row
        print(
            f"{name:<16}{row['queries']:>8}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{row['raw_p95_ms']:>12.2f}{row['raw_ratio']:>8.1f}{n_rows:>6}"
        )
    print("\nqueries: every SQL statement of one request (connection.execute_wrapper); raw = counts + page + total")
    return results


def explain(made: dict) -> None:
    from django.db import connection

    from cases.task_permissions import task_permissions_of

    p = {"org": made["big"].pk, "perms": tuple(sorted(task_permissions_of(made["handler"]))), "me": made["handler"].pk}
    with connection.cursor() as cursor:
        for sql in (RAW_COUNTS, RAW_PAGE.format(extra=""), RAW_TOTAL.format(extra="")):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, p)
            print("\n".join(r[0] for r in cursor.fetchall()), "\n")


def teardown(made: dict) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM cases_inboxitem WHERE task_id IN (SELECT id FROM viewflow_task WHERE process_id = %s)",
            [made["process"].pk],
        )
        cursor.execute("DELETE FROM viewflow_task WHERE process_id = %s", [made["process"].pk])
        cursor.execute("DELETE FROM viewflow_process WHERE id = %s", [made["process"].pk])
    from cases.models import Organisation, User

    User.objects.filter(pk__in=[u.pk for u in made["users"]]).delete()
    Organisation.objects.filter(pk__in=[o.pk for o in made["orgs"]]).delete()


if __name__ == "__main__":
    sys.exit(main())
