"""Run every bench/bench_*.py, print its output and keep it under bench/results/ (``make bench``).

A benchmark is a plain script: it runs with the repository root as working directory and on sys.path,
DJANGO_SETTINGS_MODULE=config.settings, and DATABASE_URL naming the migrated benchmark database
(casework_bench, see scripts/bench.sh); it calls ``django.setup()`` itself, makes the data it needs,
prints what it measured and exits non-zero if it could not. Benchmarks never run in the test suite.

    bench/run_all.py                 # all of them
    bench/run_all.py calendar audit  # only bench_calendar.py and bench_audit.py
"""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def selected(names: list[str]) -> list[Path]:
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if not names:
        return scripts
    wanted = {name.removeprefix("bench_").removesuffix(".py") for name in names}
    unknown = wanted - {script.stem.removeprefix("bench_") for script in scripts}
    if unknown:
        sys.exit(f"no such benchmark: {', '.join(sorted(unknown))}")
    return [script for script in scripts if script.stem.removeprefix("bench_") in wanted]


def writes_json(script: Path) -> bool:
    """A benchmark that takes --json writes its figures as JSON only when asked: ask every one that takes it
    (read from its own argument parser, so a new benchmark needs no entry here)."""
    return '"--json"' in script.read_text(encoding="utf-8")


def run(script: Path, out_dir: Path, env: dict) -> int:
    """Run one benchmark, echoing its output line by line and writing it to out_dir/<name>.txt."""
    print(f"\n=== {script.name} ===", flush=True)
    log_path = out_dir / f"{script.stem}.txt"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, str(script), *(["--json"] if writes_json(script) else [])],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        returncode = process.wait()
        log.write(f"\n[exit code {returncode}]\n")
    return returncode


def main(argv: list[str]) -> int:
    scripts = selected(argv)
    if not scripts:
        print("no benchmarks (bench/bench_*.py) yet")
        return 0
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = RESULTS_DIR / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env["BENCH_STAMP"] = stamp  # benchmarks that write JSON (steps.write_json) put it beside their output

    failed = [script.name for script in scripts if run(script, out_dir, env) != 0]
    print(f"\nresults saved in {out_dir.relative_to(ROOT)}/")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
