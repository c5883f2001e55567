"""Benchmark: notice rendering and issuing.

1. One decision notice (不予信用修复决定书) rendered through notices.rendering (our templates, restricted URL
   fetcher) versus WeasyPrint rendering the same HTML string with its default settings. Several
   repetitions after a warm-up; medians and their ratio, from the same run.
2. 200 notices issued by a real django-q2 cluster (a `qcluster` subprocess) on the PostgreSQL database given
   by DATABASE_URL: wall time from cluster start to the last notice issued, and notices per second. All 200
   share one issuer, kind and year, i.e. one number sequence: the worst case, since a sequence is locked
   while its notice renders (that is what makes the numbers gap-free).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/bench_notices.py

The script migrates the database if needed, creates its own organisation, subject, record and notices, and
deletes them afterwards (with their PDFs and queue rows). Audit events stay: the trail is append-only.
"""

from __future__ import annotations

import argparse
import os
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
from django.core.management import call_command
call_command("qcluster")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to the bench PostgreSQL database.", file=sys.stderr)
        return 2
    storage_root = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    os.environ["PRIVATE_STORAGE_ROOT"] = str(storage_root)
    os.environ["Q_SYNC"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    try:
        made = setup_data()
        try:
            render_comparison(made, args.repetitions)
            cluster_throughput(made, args.notices, args.workers, args.timeout, storage_root)
        finally:
            cleanup(made)
    finally:
        shutil.rmtree(storage_root, ignore_errors=True)
    return 0


def setup_data() -> dict:
    import datetime as dt

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


def render_comparison(made: dict, repetitions: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from weasyprint import HTML

    from notices import rendering
    from notices.models import Notice

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
    # The same HTML, with the stylesheet link pointing at the file on disk so that WeasyPrint's default
    # fetcher loads the same CSS (and so the same fonts) that ours serves from /static/.
    static_uri = (BASE_DIR / "static").as_uri()
    html_default = html.replace('href="/static/', f'href="{static_uri}/')
    assert html_default != html

    def ours():
        rendering.pdf_bytes(rendering.html_for(notice))

    def default():
        HTML(string=html_default).write_pdf()

    timings = {"ours": [], "default": []}
    ours(), default()  # warm-up: font discovery, template loading
    for _ in range(repetitions):
        for name, fn in (("ours", ours), ("default", default)):
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    ours_median = statistics.median(timings["ours"])
    default_median = statistics.median(timings["default"])
    print(f"render one decision notice, {repetitions} repetitions (median):")
    print(f"  notices.rendering (template + restricted fetcher): {ours_median * 1000:8.1f} ms")
    print(f"  WeasyPrint default settings, same HTML and CSS:   {default_median * 1000:8.1f} ms")
    print(f"  ratio ours/default:                               {ours_median / default_median:8.2f}")


def cluster_throughput(made: dict, count: int, workers: int, timeout: float, storage_root: Path) -> None:
    from django.db import transaction
    from django_q.conf import Conf

    from notices.models import Notice
    from notices.services import notice_request

    Conf.SYNC = False
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
    made["notice_ids"] = ids
    env = {**os.environ, "PRIVATE_STORAGE_ROOT": str(storage_root), "Q_SYNC": "0"}
    log = open(storage_root / "qcluster.log", "wb")  # noqa: SIM115
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT % {"workers": workers}],
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
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"only {issued}/{count} notices issued after {timeout}s; see the cluster log")
            time.sleep(0.05)
        wall = time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    serials = sorted(Notice.objects.filter(pk__in=ids).values_list("serial", flat=True))
    assert serials == list(range(1, count + 1)), "numbers are not gap-free"
    print(f"{count} notices through a django-q2 cluster ({workers} workers, one number sequence):")
    print(f"  wall time (cluster start to last issued): {wall:8.2f} s")
    print(f"  throughput:                               {count / wall:8.2f} notices/s")


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
    OrmQ.objects.filter(pk__in=[q.pk for q in OrmQ.objects.all() if q.name() in names]).delete()
    made["record"].delete()
    made["subject"].delete()
    made["org"].delete()


if __name__ == "__main__":
    sys.exit(main())
