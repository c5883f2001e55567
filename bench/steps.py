"""Per-step measurement and the data shared by the end-to-end procedure benchmarks (bench_repair,
bench_objection).

``run_one(item, measure)`` drives one case through its steps, wrapping each in ``with measure("step"):``;
``timed`` times every step over many cases, ``counted`` counts each step's SQL queries over a few, and
``print_step_table`` shows both side by side. ``department``, ``user_maker``, ``applicant_with_records`` and
``penalty_records`` make the people, subject and records a run drives its cases on.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager


def timed(steps, run_one, items) -> tuple[dict[str, list[float]], float]:
    """Seconds per step for every item, and the wall time of the whole run."""
    per_step: dict[str, list[float]] = {name: [] for name in steps}

    @contextmanager
    def measure(name):
        start = time.perf_counter()
        yield
        per_step[name].append(time.perf_counter() - start)

    start = time.perf_counter()
    for item in items:
        run_one(item, measure)
    return per_step, time.perf_counter() - start


def counted(steps, run_one, items) -> dict[str, list[int]]:
    """SQL queries per step for every item (django's CaptureQueriesContext)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {name: [] for name in steps}

    @contextmanager
    def measure(name):
        with CaptureQueriesContext(connection) as ctx:
            yield
        counts[name].append(len(ctx.captured_queries))

    for item in items:
        run_one(item, measure)
    return counts


def print_step_table(steps, per_step: dict[str, list[float]], counts: dict[str, list[int]]) -> None:
    print()
    print(f"{'step':<10}{'SQL queries':>12}{'median ms':>12}{'p95 ms':>10}")
    total_q = 0
    for name in steps:
        qs = counts[name]
        q = statistics.median(qs)
        total_q += q
        spread = "" if min(qs) == max(qs) else f" ({min(qs)}–{max(qs)})"
        times = sorted(per_step[name])
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"{name:<10}{int(q):>12}{1000 * statistics.median(times):>12.2f}{1000 * p95:>10.2f}{spread}")
    print(f"{'total':<10}{int(total_q):>12}{1000 * sum(statistics.median(per_step[n]) for n in steps):>12.2f}")


def timed_run(steps, run_one, items, *, noun: str, path: str) -> tuple[dict[str, list[float]], dict]:
    """``timed`` over ``items``, printed as throughput (``noun``: what one item is, ``path``: its steps in
    words); returns the seconds per step and the figures for the JSON."""
    per_step, elapsed = timed(steps, run_one, items)
    n = len(items)
    print(f"{n} {noun}s, {path}, one at a time on PostgreSQL:")
    print(f"  {elapsed:.2f} s, {n / elapsed:.1f} {noun}s/s, {1000 * elapsed / n:.1f} ms per {noun}")
    return per_step, {"cases": n, "cases_per_s": round(n / elapsed, 2)}


def counted_run(steps, run_one, items, per_step: dict[str, list[float]], *, noun: str) -> dict:
    """``counted`` over ``items``, printed beside the times of ``per_step``; returns the query figures."""
    counts = counted(steps, run_one, items)
    print_step_table(steps, per_step, counts)
    print(f"(queries: median of {len(items)} {noun}s counted with CaptureQueriesContext; times: the timed run)")
    return {
        "queries_per_case": int(sum(statistics.median(counts[name]) for name in steps)),
        "queries_per_step": {name: int(statistics.median(counts[name])) for name in steps},
    }


def migrated_bench_database(*, rule_sets: bool = True) -> bool:
    """Refuse (False, with a word on stderr) a database whose name lacks "bench" unless BENCH_ALLOW_ANY_DB=1:
    a benchmark leaves its rows behind. Otherwise migrate it and load the rule sets."""
    import os
    import sys

    from django.conf import settings
    from django.core.management import call_command

    name = settings.DATABASES["default"]["NAME"]
    if "bench" not in name and os.environ.get("BENCH_ALLOW_ANY_DB") != "1":
        print(f"refusing to write to {name!r}: use a database named *bench* (or BENCH_ALLOW_ANY_DB=1)", file=sys.stderr)
        return False
    if os.environ.get("BENCH_WORKER") == "1":
        # A worker of a scaling run, started with the others on the database its parent has just migrated:
        # migrating again, all at once, would only race on the post-migrate DDL (trigger installs deadlock).
        return True
    call_command("migrate", verbosity=0, interactive=False)
    if rule_sets:
        call_command("load_rule_sets", verbosity=0)
    return True


def setup_procedure_bench(prefix: str):
    """Common start of a procedure benchmark: check the database is a PostgreSQL bench database, keep uploads
    and PDFs in a temporary folder, set Django up, migrate, load the rule sets, and keep notice rendering out
    of the timed path (the notice row is requested as usual, its job is not queued — bench_notices measures
    rendering). Returns the temporary storage folder, or None when the database is not one to write to."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to the bench PostgreSQL database.", file=sys.stderr)
        return None
    storage_root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["PRIVATE_STORAGE_ROOT"] = str(storage_root)
    os.environ["Q_SYNC"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    if not migrated_bench_database():
        return None
    from notices import services as notice_services

    notice_services._enqueue_render = lambda notice_id: None
    return storage_root


def write_json(name: str, figures: dict) -> None:
    """bench/results/<stamp>/<name>.json (stamp: BENCH_STAMP, set by run_all.py, else now)."""
    import datetime as dt
    import json
    import os
    from pathlib import Path

    stamp = os.environ.get("BENCH_STAMP") or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(__file__).resolve().parent / "results" / stamp / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {out}")


def department(name: str, notice_prefix: str):
    """A department of the run's own (organisations are named per run, so runs never share one)."""
    from cases.models import Organisation

    return Organisation.objects.create(name=name, kind=Organisation.Kind.DEPARTMENT, notice_prefix=notice_prefix)


def user_maker(prefix: str):
    """``user(name, role, organisation=None)``: a user named ``<prefix>-<name>`` who cannot log in (the
    benchmark calls the services directly)."""
    from cases.models import User

    def user(name: str, role, organisation=None):
        made = User(username=f"{prefix}-{name}", role=role, organisation=organisation, display_name=name)
        made.set_unusable_password()
        made.save()
        return made

    return user


def enterprise(name: str, seed: int, legal_representative: str = "张三"):
    """An enterprise subject with a valid USCC derived from ``seed``."""
    from cases.models import Subject, SubjectKind
    from tests.factories import make_uscc

    return Subject.objects.create(
        kind=SubjectKind.ENTERPRISE,
        name=name,
        uscc=make_uscc(seed % 10**8),
        legal_representative=legal_representative,
    )


def represented_enterprise(applicant, name: str, seed: int):
    """An enterprise ``applicant`` acts for as its legal representative."""
    import datetime as dt

    from cases.models import SubjectAuthorisation

    subject = enterprise(name, seed)
    SubjectAuthorisation.objects.create(
        user=applicant,
        subject=subject,
        basis=SubjectAuthorisation.Basis.LEGAL_REPRESENTATIVE,
        valid_from=dt.date(2020, 1, 1),
    )
    return subject


def applicant_with_records(user, provider, n: int, *, subject_name: str, tag: str):
    """The applicant of a procedure run (made by ``user(name, role)``), the enterprise it represents and
    ``n`` of that enterprise's penalty records from ``provider``, decided long enough ago that the minimum
    display period has passed whenever this runs."""
    from cases.models import Role

    applicant = user("applicant", Role.APPLICANT)
    subject = represented_enterprise(applicant, subject_name, int(tag[:7], 16))
    records = penalty_records(
        subject, provider, n, title="未按规定公示年度报告", number_prefix=f"郑市监处罚〔2025〕{tag}"
    )
    return applicant, subject, records


def penalty_records(subject, provider, n: int, *, title: str, number_prefix: str, spread_days: int = 0, **fields):
    """``n`` displayed administrative-penalty records of ``subject`` from ``provider``, decided in January 2025
    (``spread_days`` spreads the dates over that many days), displayed until 2030; ``fields`` override."""
    import datetime as dt

    from cases.models import CreditRecord, Severity

    fields = {"display_min_until": dt.date(2025, 4, 10), "display_max_until": dt.date(2030, 1, 10), **fields}
    records = []
    for i in range(n):
        shift = dt.timedelta(days=i % spread_days if spread_days else 0)
        records.append(
            CreditRecord(
                subject=subject,
                kind="admin_penalty",
                severity=Severity.ORDINARY,
                title=f"{title}{i}",
                decision_number=f"{number_prefix}-{i}号",
                provider=provider,
                decision_date=dt.date(2025, 1, 10) + shift,
                publication_date=dt.date(2025, 1, 15) + shift,
                **fields,
            )
        )
    return CreditRecord.objects.bulk_create(records)
