"""The suite refuses to pass on the wrong database (tests/plugins.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_probe_suite(tmp_path, **env):
    """Run a one-test suite in a child pytest with this project's configuration and the given env."""
    (tmp_path / "test_probe.py").write_text("def test_probe():\n    pass\n")
    child_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ALLOW_SQLITE_TESTS"}}
    child_env.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path / "test_probe.py"),
        ],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_run_the_suite_on_sqlite(tmp_path):
    result = run_probe_suite(tmp_path, DATABASE_URL="sqlite:///:memory:")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "runs on PostgreSQL" in result.stdout + result.stderr
    assert "1 passed" not in result.stdout


def test_it_runs_on_sqlite_only_when_explicitly_allowed(tmp_path):
    result = run_probe_suite(tmp_path, DATABASE_URL="sqlite:///:memory:", ALLOW_SQLITE_TESTS="1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
