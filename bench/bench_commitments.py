"""Credit commitments at volume (PROCEDURES.md §3: "volumes are large"):

1. Bulk import throughput: 100,000 rows (CSV, new subjects) through ``commitments_import`` — read, validate
   every row (identifier check characters, matter, dates, duplicates, eligibility), create the subjects,
   render and hash each text, COPY the commitments, report to the outbox in chunks — against a plain
   PostgreSQL COPY of the same, already rendered rows into the same table (ratio).
2. The verification-scheduling sweep over 1,000,000 commitments (set-based SQL): seconds for one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_commitments.py \
        [--rows 100000] [--sweep-rows 0] [--json]

Figures (``--json`` writes bench/results/<stamp>/commitments.json): ``rows_per_s`` of the import (reading the
CSV included), ``copy_ratio`` = seconds of a plain COPY of the same rendered rows into the same table (rolled
back, so without its deferred foreign-key checks) / seconds of the import — the issue's figure, today's
0.18× — and ``copy_ratio_committed``, the same against a COPY that also runs its foreign-key checks, as a
committed COPY must. ``again_s``: importing the same file a second time (idempotent: nothing is written).

Use a dedicated benchmark database (name containing "bench", or BENCH_ALLOW_ANY_DB=1): the script migrates
it and deletes the rows an earlier run made for its own department (with triggers off for that session,
since signed commitments refuse deletion). BENCH_IMPORT_ROWS / BENCH_SWEEP_ROWS change the sizes
(BENCH_SWEEP_ROWS=0 skips the sweep).
"""

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import steps  # noqa: E402  bench/steps.py (the script's own folder is on sys.path)

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from cases.identifiers import id_check_digit, org_code_check_char, uscc_check_char  # noqa: E402
from cases.models import Commitment, CommitmentMatter, Organisation, Role, User  # noqa: E402
from cases.services.commitment import bulk_import as imp  # noqa: E402
from cases.services.commitment.sweep import verifications_schedule_due  # noqa: E402

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
SWEEP_ROWS = int(os.environ.get("BENCH_SWEEP_ROWS", "1000000"))
DEPT = "基准测试承诺部门"
TEMPLATE = (
    "本单位{subject_name}（{identifier}）就“{matter}”向{department}郑重承诺：所填报信息真实、准确、完整，"
    "已具备法定条件。如有虚假，自愿承担法律责任。签署人：{signer}，{date}"
)


def uscc(n: int) -> str:
    body = f"{n:08d}"[-8:]
    first17 = "91" + "419900" + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def id_number(n: int) -> str:
    first17 = "419900" + f"19{60 + n % 40:02d}0101" + f"{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def setup():
    if not steps.migrated_bench_database():
        sys.exit(2)
    dept, _ = Organisation.objects.get_or_create(name=DEPT, defaults={"kind": Organisation.Kind.DEPARTMENT})
    user, _ = User.objects.get_or_create(
        username="bench-commitments", defaults={"role": Role.DEPT_HANDLER, "organisation": dept}
    )
    cleanup(dept)
    matters = {}
    for code, verification, ratio in (("all", "all", 0), ("sample", "sample", "0.1"), ("none", "none", 0)):
        matters[code], _ = CommitmentMatter.objects.update_or_create(
            department=dept,
            code=f"bench-{code}",
            defaults=dict(
                title=f"基准事项（{code}）",
                type="approval",
                template=TEMPLATE,
                verification=verification,
                sample_ratio=ratio,
                sample_seed=f"bench-{code}",
                verify_within=20,
            ),
        )
    return dept, user, matters


def cleanup(dept):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # signed commitments refuse DELETE
        cur.execute("""DELETE FROM workflows_clock WHERE organisation_id = %s""", [dept.pk])
        cur.execute(
            """DELETE FROM cases_outboxevent WHERE aggregate_type = 'cases.commitmentimport'
                       AND aggregate_id IN (SELECT id::text FROM cases_commitmentimport WHERE department_id = %s)""",
            [dept.pk],
        )
        cur.execute("DELETE FROM cases_commitmentverification WHERE handling_organisation_id = %s", [dept.pk])
        cur.execute("DELETE FROM cases_commitment WHERE department_id = %s", [dept.pk])
        cur.execute("DELETE FROM cases_commitmentimport WHERE department_id = %s", [dept.pk])
        cur.execute("DELETE FROM cases_subject WHERE uscc LIKE '91419900%%' OR id_number LIKE '419900%%'")


def csv_file(n: int) -> SimpleUploadedFile:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(imp.TEMPLATE_HEADERS)
    for i in range(n):
        if i % 10 == 9:
            w.writerow([f"个体户{i}", id_number(i), "bench-all", f"经营者{i}", "本人", "2026-03-02", "", "", f"B{i}"])
        else:
            w.writerow(
                [
                    f"基准企业{i}有限公司",
                    uscc(i),
                    "bench-all",
                    f"代表{i}",
                    "法定代表人",
                    "2026-03-02",
                    "2026-03-03",
                    f"基许〔2026〕{i}号",
                    f"B{i}",
                ]
            )
    return SimpleUploadedFile("bench.csv", out.getvalue().encode("utf-8-sig"))


def bench_import(dept, user) -> dict:
    upload = csv_file(IMPORT_ROWS)
    t0 = time.perf_counter()
    rows = imp.read_rows(upload)
    t_read = time.perf_counter() - t0
    result = imp.commitments_import(actor=user, department=dept, raw_rows=rows, source="file", filename="bench.csv")
    t_ours = time.perf_counter() - t0
    assert result.created == IMPORT_ROWS, result.created

    # The same file again: every row is found registered, nothing is written.
    upload.seek(0)
    t2 = time.perf_counter()
    again = imp.commitments_import(
        actor=user, department=dept, raw_rows=imp.read_rows(upload), source="file", filename="bench.csv"
    )
    t_again = time.perf_counter() - t2
    assert (again.batch, again.created, again.duplicates) == (None, 0, IMPORT_ROWS), again

    # Baseline: the same rows, already rendered, by one plain COPY into the same table (rolled back).
    columns = imp._COPY_COLUMNS
    buf = io.StringIO()
    for values in (
        Commitment.objects.filter(import_batch=result.batch)
        .values_list(*[c.removesuffix("_id") if c.endswith("_id") else c for c in columns])
        .iterator(chunk_size=10000)
    ):
        buf.write("\t".join(imp._copy_value(v) for v in values) + "\n")
    data = buf.getvalue()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # delete them to re-insert by COPY
        cur.execute("DELETE FROM cases_commitment WHERE import_batch_id = %s", [result.batch.pk])
        cur.execute("SET LOCAL session_replication_role = origin")
        t1 = time.perf_counter()
        cur.copy_expert(f"COPY cases_commitment ({', '.join(columns)}) FROM STDIN", io.StringIO(data))
        t_copy = time.perf_counter() - t1
        # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit, which the import pays and the
        # rolled-back COPY above does not. Fired here to show what a committed plain COPY would cost.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        t_copy_fk = time.perf_counter() - t1
        transaction.set_rollback(True)
    print(
        f"bulk import: {IMPORT_ROWS:,} rows (new subjects) in {t_ours:.2f} s = {IMPORT_ROWS / t_ours:,.0f} rows/s "
        f"(reading the CSV {t_read:.2f} s; {result.events} outbox events)"
    )
    print(f"plain COPY of the same rows: {t_copy:.2f} s = {IMPORT_ROWS / t_copy:,.0f} rows/s")
    print(f"ratio ours / plain COPY: {t_ours / t_copy:.1f}x (copy_ratio {t_copy / t_ours:.2f})")
    print(
        f"plain COPY with its foreign-key checks: {t_copy_fk:.2f} s; ratio ours / that: {t_ours / t_copy_fk:.1f}x "
        f"(copy_ratio_committed {t_copy_fk / t_ours:.2f})"
    )
    print(f"the same file again (idempotent, nothing written): {t_again:.2f} s")
    return {
        "rows": IMPORT_ROWS,
        "import_s": round(t_ours, 3),
        "read_csv_s": round(t_read, 3),
        "rows_per_s": round(IMPORT_ROWS / t_ours),
        "copy_s": round(t_copy, 3),
        "copy_rows_per_s": round(IMPORT_ROWS / t_copy),
        "copy_ratio": round(t_copy / t_ours, 3),
        "copy_with_fk_checks_s": round(t_copy_fk, 3),
        "copy_ratio_committed": round(t_copy_fk / t_ours, 3),
        "outbox_events": result.events,
        "again_s": round(t_again, 3),
        "again_created": again.created,
    }


FILL = """
INSERT INTO cases_commitment (subject_id, type, matter, department_id, text, text_sha256, signer_name,
    signer_capacity, signed_at, status, source_reference, commitment_matter_id, channel, decision_date,
    decision_number, follow_due_date)
SELECT s.ids[1 + (i %% array_length(s.ids, 1))], 'approval', '基准事项', %(dept)s, '承诺正文' || i,
       md5(i::text) || md5(i::text), '代表', 'legal_rep',
       timestamptz '2026-03-02 12:00+08' - (i %% 60) * interval '1 day', 'in_force', '',
       CASE WHEN i %% 10 < 5 THEN %(all)s WHEN i %% 10 < 9 THEN %(sample)s ELSE %(none)s END, 'imported',
       date '2026-03-02' - (i %% 60)::int, '', NULL
FROM generate_series(1::bigint, %(rows)s::bigint) AS i,
     (SELECT array_agg(id) AS ids FROM cases_subject WHERE uscc LIKE '91419900%%') AS s
"""


def bench_sweep(dept, matters):
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("DELETE FROM workflows_clock WHERE organisation_id = %s", [dept.pk])
        cur.execute("DELETE FROM cases_commitmentverification WHERE handling_organisation_id = %s", [dept.pk])
        cur.execute("DELETE FROM cases_commitment WHERE department_id = %s", [dept.pk])
        cur.execute("SET session_replication_role = origin")
        t0 = time.perf_counter()
        cur.execute(
            FILL,
            {
                "dept": dept.pk,
                "rows": SWEEP_ROWS,
                "all": matters["all"].pk,
                "sample": matters["sample"].pk,
                "none": matters["none"].pk,
            },
        )
        cur.execute("ANALYZE cases_commitment")
        print(f"(filled {SWEEP_ROWS:,} commitments in {time.perf_counter() - t0:.1f} s)")
    t1 = time.perf_counter()
    result = verifications_schedule_due()
    elapsed = time.perf_counter() - t1
    print(
        f"verification sweep over {SWEEP_ROWS:,} commitments: {elapsed:.1f} s "
        f"({result.screened:,} screened, {result.opened:,} checks opened with clocks, "
        f"{result.sampled_out:,} not drawn or not checked) = {result.screened / elapsed:,.0f} commitments/s"
    )
    for run in ("second", "third"):
        t2 = time.perf_counter()
        again = verifications_schedule_due()
        print(f"{run} run (nothing due): {time.perf_counter() - t2:.3f} s, screened {again.screened}")


def main():
    global IMPORT_ROWS, SWEEP_ROWS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=IMPORT_ROWS, help="rows in the imported file")
    parser.add_argument("--sweep-rows", type=int, default=SWEEP_ROWS, help="commitments for the sweep (0 = skip)")
    parser.add_argument("--json", action="store_true", help="write bench/results/<stamp>/commitments.json")
    args = parser.parse_args()
    IMPORT_ROWS, SWEEP_ROWS = args.rows, args.sweep_rows
    dept, user, matters = setup()
    figures = {"load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count()}
    figures.update(bench_import(dept, user))
    if SWEEP_ROWS:  # BENCH_SWEEP_ROWS=0: the import alone
        bench_sweep(dept, matters)
    cleanup(dept)
    if args.json:
        from bench import steps

        steps.write_json("commitments", figures)


if __name__ == "__main__":
    main()
