"""Benchmark: notice rendering and signing, and notices issued by a django-q2 cluster with 1 and N workers.

1. One decision notice (不予信用修复决定书, one A4 page of CJK text with the seal and the QR code), measured in
   rounds that interleave the variants so that the machine's noise falls on all of them alike:
   - ours: ``rendering.html_for`` (template, seal, QR code) + ``rendering.pdf_bytes`` (our restricted fetcher,
     the process-wide FontConfiguration), i.e. from the notice to the unsigned PDF (``page_ms_*``);
   - raw WeasyPrint on the same HTML and CSS, with one FontConfiguration reused like ours (like for like:
     ``raw_weasyprint_ratio`` = ours / this), and with WeasyPrint's defaults (a new FontConfiguration per
     document, ``raw_weasyprint_default_ratio``);
   - signing (PAdES, pyHanko) of that PDF, reported on its own (``sign_ms_*``), and render + sign
     (``notice_ms_*``).
   Wall-clock and CPU (this process) medians and 95th percentiles; the CPU figures are what the page costs
   when the machine is shared (8 engineers on 2 cores here: wall time waits for a core).
2. N notices (default 200) issued by a real django-q2 cluster (a ``qcluster`` subprocess, ORM broker, or Redis
   with Q_BROKER_URL) with 1 and with --workers workers, alternating, --rounds rounds, each run with its own
   issuer (one number sequence, the worst case). Per run: ``wall_s`` from cluster start to the last notice
   issued, and the steady rate ``notices_per_s`` from the first notice issued to the last (the cluster's start,
   Django's set-up and each worker's first font loading are left out: a production cluster is running
   already); after each run the numbers are checked: serials 1..N for the issuer and year, no hole, no
   duplicate, every notice issued and signed. ``scaling_2_over_1`` is the median over the rounds of the
   N-worker rate over the 1-worker rate of the same round (``scaling_2_over_1_wall`` the same with wall time).
   The load average is recorded before and after every run, and the CPU seconds the cluster used.

   Linux here groups CPU time by session (kernel.sched_autogroup_enabled=1): when other sessions keep both cores
   busy, one session gets one share however many processes it runs, so a cluster whose workers all sit in its
   session cannot go faster with 2 workers than with 1 (measured: 1.00–1.05). By default each worker therefore
   runs in a session of its own (``--one-session`` keeps them in the cluster's), as separate worker processes
   on a machine without other sessions would be scheduled; ``cluster_cpu_s_per_notice`` shows what a notice
   costs the cluster either way.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_notices.py \
        --json [--notices 200 --workers 2 --rounds 3 --repetitions 15]

The script migrates the database if needed, creates its own organisations, subjects, records and notices, and
deletes them afterwards (with their PDFs and queue rows). Audit events stay: the trail is append-only. Keys,
certificates and PDFs go to a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

CLUSTER_SCRIPT = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings
settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False, "workers": %(workers)d, "poll": 0.05,
                      "catch_up": False}
import django
django.setup()
if %(worker_sessions)s:
    import ctypes
    import signal
    import django_q.cluster

    real_worker = django_q.cluster.worker

    def worker_in_its_own_session(*args, **kwargs):
        os.setsid()  # its own scheduler autogroup, as a process of its own (see the module's docstring)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: it dies with the cluster
        return real_worker(*args, **kwargs)

    django_q.cluster.worker = worker_in_its_own_session
from django.core.management import call_command
call_command("qcluster")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=15, help="rounds of the one-page comparison")
    parser.add_argument("--notices", type=int, default=200, help="notices per cluster run")
    parser.add_argument("--workers", type=int, default=2, help="workers compared with one worker")
    parser.add_argument("--rounds", type=int, default=3, help="cluster runs with 1 and with --workers workers")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one cluster run may take")
    parser.add_argument("--one-session", action="store_true", help="keep the workers in the cluster's session")
    parser.add_argument("--json", action="store_true", help="write bench/results/<stamp>/notices.json")
    args = parser.parse_args()

    # Stopped with SIGTERM: unwind, so that the cluster subprocess is stopped and the scratch rows deleted.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to the bench PostgreSQL database.", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    os.environ["PRIVATE_STORAGE_ROOT"] = str(scratch / "files")
    os.environ["NOTICE_PKI_DIR"] = str(scratch / "pki")  # a demo CA of this run's own
    os.environ["Q_SYNC"] = "0"
    # A queue of this run's own: another cluster on the same database (a demo, another benchmark) must neither
    # take these tasks nor give this one its own.
    os.environ["Q_CLUSTER_NAME"] = f"bench-notices-{uuid.uuid4().hex[:8]}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if "bench" not in settings.DATABASES["default"]["NAME"] and os.environ.get("BENCH_ALLOW_ANY_DB") != "1":
        print("refusing to write to a database whose name does not contain 'bench'", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0, interactive=False)
    figures: dict = {
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
    }
    try:
        figures.update(render_comparison(args.repetitions))
        figures.update(
            cluster_scaling(args.notices, args.workers, args.rounds, args.timeout, scratch, not args.one_session)
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        sys.path.insert(0, str(BASE_DIR / "bench"))
        import steps

        steps.write_json("notices", figures)
    return 0


def setup_data() -> dict:
    from cases.models import CreditRecord, Organisation, Severity, Subject, SubjectKind
    from tests.factories import make_uscc

    tag = uuid.uuid4().hex[:8]
    org = Organisation.objects.create(
        name=f"郑州市基准测试局{tag}", kind=Organisation.Kind.DEPARTMENT, notice_prefix=f"郑基{tag[:4]}"
    )
    subject = Subject.objects.create(
        kind=SubjectKind.ENTERPRISE, name=f"郑州基准科技有限公司{tag}", uscc=make_uscc(int(tag[:7], 16) % 10**8)
    )
    record = CreditRecord.objects.create(
        subject=subject,
        kind="admin_penalty",
        severity=Severity.ORDINARY,
        title="未按规定公示年度报告",
        provider=org,
        decision_date=dt.date(2025, 1, 10),
        publication_date=dt.date(2025, 1, 15),
    )
    # A label, not a user: audit events keep their actor forever, and the benchmark leaves no users behind.
    return {"org": org, "subject": subject, "record": record, "actor": f"bench:{tag}", "tag": tag}


CONTEXT = {
    "matter": "终止公示行政处罚信息",
    "received_on": "2026-04-02",
    "reasons": ["最短公示期尚未届满", "罚款尚未全部缴纳，未提供履行义务证明"],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pdf_fonts(pdf: bytes) -> list[str]:
    """Embedded font names (poppler's pdffonts), without the subset tag: which faces a page pays for."""
    if not shutil.which("pdffonts"):
        return []
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        out = subprocess.run(["pdffonts", fh.name], capture_output=True, text=True, check=False).stdout
    return [line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:] if line.strip()]


def render_comparison(repetitions: int) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from notices import rendering, signing
    from notices.models import Notice

    made = setup_data()
    try:
        notice = Notice(
            kind="repair_refused",
            issuer=made["org"],
            year=2026,
            serial=12,
            number=f"{made['org'].notice_prefix}修不决〔2026〕第0012号",
            content_type=ContentType.objects.get_for_model(made["record"]),
            object_id=made["record"].pk,
            trigger="bench",
            addressee_subject=made["subject"],
            context=CONTEXT,
            verification_code="BENCH23456",
            issued_at=timezone.now(),
        )
        html = rendering.html_for(notice)
        # The same HTML, with the stylesheet link pointing at the file our fetcher serves for it (the source
        # folder, or STATIC_ROOT's hashed copy after collectstatic), so that WeasyPrint's default fetcher loads
        # the same CSS and so the same fonts.
        fetcher = rendering.StaticOnlyURLFetcher()

        def on_disk(match: re.Match) -> str:
            found = fetcher._static_file(rendering.BASE_URL + match.group(1).lstrip("/"))
            assert found is not None, match.group(1)
            return f'href="{found.as_uri()}"'

        html_raw = re.sub(r'href="(/static/[^"]+)"', on_disk, html)
        assert html_raw != html
        raw_fonts = FontConfiguration()
        unsigned = rendering.pdf_bytes(html)

        variants = {
            "page": lambda: rendering.pdf_bytes(rendering.html_for(notice)),
            "raw": lambda: HTML(string=html_raw).write_pdf(font_config=raw_fonts),
            "raw_default": lambda: HTML(string=html_raw).write_pdf(),
            "sign": lambda: signing.sign_pdf(unsigned, notice.issuer),
        }
        wall: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for fn in variants.values():  # warm-up: font loading, templates, the organisation's key and certificate
            fn()
        for _ in range(repetitions):
            for name, fn in variants.items():
                c0, w0 = time.process_time(), time.perf_counter()
                fn()
                wall[name].append(1000 * (time.perf_counter() - w0))
                cpu[name].append(1000 * (time.process_time() - c0))
        notice_wall = [p + s for p, s in zip(wall["page"], wall["sign"], strict=True)]
        notice_cpu = [p + s for p, s in zip(cpu["page"], cpu["sign"], strict=True)]
        med = {name: statistics.median(values) for name, values in wall.items()}
        med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
        signed = variants["sign"]()
        figures = {
            "page_ms_p50": round(med["page"], 1),
            "page_ms_p95": round(percentile(wall["page"], 0.95), 1),
            "page_cpu_ms_p50": round(med_cpu["page"], 1),
            "raw_weasyprint_ms_p50": round(med["raw"], 1),
            "raw_weasyprint_cpu_ms_p50": round(med_cpu["raw"], 1),
            "raw_weasyprint_ratio": round(med["page"] / med["raw"], 3),
            "raw_weasyprint_cpu_ratio": round(med_cpu["page"] / med_cpu["raw"], 3),
            "raw_weasyprint_default_ms_p50": round(med["raw_default"], 1),
            "raw_weasyprint_default_ratio": round(med["page"] / med["raw_default"], 3),
            "sign_ms_p50": round(med["sign"], 1),
            "sign_ms_p95": round(percentile(wall["sign"], 0.95), 1),
            "sign_cpu_ms_p50": round(med_cpu["sign"], 1),
            "notice_ms_p50": round(statistics.median(notice_wall), 1),
            "notice_ms_p95": round(percentile(notice_wall, 0.95), 1),
            "notice_cpu_ms_p50": round(statistics.median(notice_cpu), 1),
            "page_kib": round(len(unsigned) / 1024, 1),
            "signed_kib": round(len(signed) / 1024, 1),
            "fonts_embedded": pdf_fonts(unsigned),
            "render_repetitions": repetitions,
        }
    finally:
        cleanup(made)
    print(f"one decision notice (one A4 page), {repetitions} interleaved repetitions, median (p95) ms:")
    rows = [
        ("ours: template + PDF (unsigned)", "page"),
        ("raw WeasyPrint, same HTML, FontConfiguration reused", "raw"),
        ("raw WeasyPrint, same HTML, defaults", "raw_default"),
        ("signing (PAdES, pyHanko)", "sign"),
    ]
    for label, key in rows:
        print(f"  {label:<53} wall {med[key]:7.1f} ({percentile(wall[key], 0.95):7.1f})   cpu {med_cpu[key]:7.1f}")
    print(
        f"  {'ours: template + PDF + signing':<53} wall {figures['notice_ms_p50']:7.1f} "
        f"({figures['notice_ms_p95']:7.1f})   cpu {figures['notice_cpu_ms_p50']:7.1f}"
    )
    print(
        f"  ours/raw (FontConfiguration reused): {figures['raw_weasyprint_ratio']:.2f} wall, "
        f"{figures['raw_weasyprint_cpu_ratio']:.2f} cpu;  ours/raw defaults: {figures['raw_weasyprint_default_ratio']:.2f}"
    )
    print(
        f"  page {figures['page_kib']} KiB unsigned, {figures['signed_kib']} KiB signed; "
        f"fonts: {', '.join(figures['fonts_embedded']) or '(pdffonts missing)'}"
    )
    return figures


def cluster_scaling(
    count: int, workers: int, rounds: int, timeout: float, scratch: Path, worker_sessions: bool
) -> dict:
    if rounds <= 0:
        return {}
    runs = []
    for round_no in range(rounds):
        # Alternate which goes first, so a drift of the machine's load does not favour one side.
        order = (1, workers) if round_no % 2 == 0 else (workers, 1)
        for n in order:
            run = cluster_run(count, n, timeout, scratch, worker_sessions)
            run["round"] = round_no + 1
            runs.append(run)
            print(
                f"  round {round_no + 1}, {n} worker(s): {run['notices_per_s']:6.2f} notices/s steady, "
                f"{run['wall_s']:6.1f} s wall ({run['notices_per_s_wall']:5.2f}/s), "
                f"{run['cluster_cpu_s_per_notice'] * 1000:.0f} ms cluster CPU a notice, load {run['load_average_start'][0]}"
                f"→{run['load_average_end'][0]}, numbers 1..{count} gap-free"
            )
    by_round = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["workers"]] = run
    ratios = [r[workers]["notices_per_s"] / r[1]["notices_per_s"] for r in by_round.values()]
    ratios_wall = [r[workers]["notices_per_s_wall"] / r[1]["notices_per_s_wall"] for r in by_round.values()]
    one = [run["notices_per_s"] for run in runs if run["workers"] == 1]
    many = [run["notices_per_s"] for run in runs if run["workers"] == workers]
    key = f"scaling_{workers}_over_1"
    figures = {
        "notices": count,
        "workers": workers,
        "rounds": rounds,
        "notices_per_s": round(statistics.median(many), 2),
        "notices_per_s_1_worker": round(statistics.median(one), 2),
        key: round(statistics.median(ratios), 3),
        f"{key}_rounds": [round(r, 3) for r in ratios],
        f"{key}_wall": round(statistics.median(ratios_wall), 3),
        "gap_free": all(run["gap_free"] for run in runs),
        "worker_sessions": worker_sessions,
        "cluster_cpu_s_per_notice_1_worker": round(
            statistics.median(r["cluster_cpu_s_per_notice"] for r in runs if r["workers"] == 1), 4
        ),
        f"cluster_cpu_s_per_notice_{workers}_workers": round(
            statistics.median(r["cluster_cpu_s_per_notice"] for r in runs if r["workers"] == workers), 4
        ),
        "runs": runs,
    }
    print(
        f"{count} notices through a django-q2 cluster, {rounds} rounds: {workers} workers "
        f"{figures['notices_per_s']:.2f}/s, 1 worker {figures['notices_per_s_1_worker']:.2f}/s; "
        f"{workers}/1 = {figures[key]:.2f} (median of {', '.join(f'{r:.2f}' for r in ratios)}), "
        f"wall {figures[f'{key}_wall']:.2f}"
    )
    return figures


def cluster_run(count: int, workers: int, timeout: float, scratch: Path, worker_sessions: bool) -> dict:
    import resource

    from django.db import transaction
    from django.db.models import Max, Min
    from django_q.conf import Conf

    from notices.models import Notice
    from notices.services import notice_request

    Conf.SYNC = False
    made = setup_data()
    try:
        with transaction.atomic():
            ids = [
                notice_request(
                    case=made["record"],
                    kind="repair_refused",
                    trigger=f"bench-{i}",
                    issuer=made["org"],
                    addressee_subject=made["subject"],
                    context=CONTEXT,
                    actor=made["actor"],
                ).pk
                for i in range(count)
            ]
        made["notice_ids"] = ids  # queued on commit, before the cluster starts
        env = {**os.environ, "Q_SYNC": "0"}
        load_start = [round(x, 2) for x in os.getloadavg()]
        log = open(scratch / f"qcluster-{made['tag']}.log", "wb")  # noqa: SIM115
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-c", CLUSTER_SCRIPT % {"workers": workers, "worker_sessions": worker_sessions}],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                issued = Notice.objects.filter(pk__in=ids, status=Notice.Status.ISSUED).count()
                if issued == count:
                    break
                if proc.poll() is not None:
                    raise SystemExit(f"the cluster exited ({proc.returncode}); see {log.name}")
                if time.time() - start > timeout:
                    raise SystemExit(f"only {issued}/{count} notices issued after {timeout}s; see the cluster log")
                time.sleep(0.25)  # the issue moments come from the rows, not from this loop
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
        load_end = [round(x, 2) for x in os.getloadavg()]
        # CPU of the cluster's processes (each waited for by its parent, so counted in ours once it exited).
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cluster_cpu = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime
        notices = Notice.objects.filter(pk__in=ids)
        span = notices.aggregate(first=Min("delivered_at"), last=Max("delivered_at"))
        steady = (span["last"] - span["first"]).total_seconds()
        wall = span["last"].timestamp() - start
        gap_free = check_numbers(made["org"], ids, count)
        return {
            "workers": workers,
            "wall_s": round(wall, 2),
            "notices_per_s_wall": round(count / wall, 3),
            "steady_s": round(steady, 2),
            "notices_per_s": round((count - 1) / steady, 3),
            "gap_free": gap_free,
            "cluster_cpu_s_per_notice": round(cluster_cpu / count, 4),
            "load_average_start": load_start,
            "load_average_end": load_end,
        }
    finally:
        cleanup(made)


def check_numbers(org, ids: list[int], count: int) -> bool:
    """Numbers 1..count for the issuer and year, no hole, no duplicate; every notice issued, hashed, signed."""
    from notices.models import Notice

    rows = list(
        Notice.objects.filter(issuer=org).values_list("pk", "year", "serial", "number", "status", "sha256", "pdf")
    )
    assert sorted(r[0] for r in rows) == sorted(ids), "the issuer has notices outside this run"
    years = {r[1] for r in rows}
    assert len(years) == 1, f"numbered in several years: {years}"
    serials = sorted(r[2] for r in rows)
    assert serials == list(range(1, count + 1)), "numbers are not 1..N without holes or duplicates"
    assert len({r[3] for r in rows}) == count, "two notices share a number"
    assert all(r[4] == Notice.Status.ISSUED and r[5] and r[6] for r in rows), "a notice is not issued"
    first = Notice.objects.filter(pk=ids[0]).first()
    with first.pdf.open("rb") as fh:
        assert b"/ETSI.CAdES.detached" in fh.read(), "an issued notice is not signed"
    return True


def cleanup(made: dict) -> None:
    from django_q.models import OrmQ, Task

    from cases.models import NumberSequence
    from notices.models import Notice

    ids = made.get("notice_ids", [])
    names = {f"notice-{i}" for i in ids}
    # QuerySet.delete: the model refuses to delete an issued notice one by one, on purpose; a benchmark's
    # scratch rows are the one legitimate exception.
    Notice.objects.filter(pk__in=ids).delete()
    NumberSequence.objects.filter(scope__startswith=f"notice:{made['org'].pk}:").delete()
    Task.objects.filter(name__in=names).delete()
    if names:
        OrmQ.objects.filter(pk__in=[q.pk for q in OrmQ.objects.all() if q.name() in names]).delete()
    made["record"].delete()
    made["subject"].delete()
    made["org"].delete()


if __name__ == "__main__":
    sys.exit(main())
