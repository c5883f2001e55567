"""Real servers started by a test on 127.0.0.1 and stopped by it: an S3-compatible object store (moto's server
mode), gunicorn web nodes and django-q2 clusters of this project, each in its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the whole process group a server was started in (gunicorn's and qcluster's children too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Processes:
    """Started processes, each logging to its own file; stop_all() ends every one of them."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[subprocess.Popen, object]] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 — closed in stop_all
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started.append((proc, log))
        return proc

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc, log in self.started:
            if proc.poll() is None:
                kill_group(proc, signal.SIGTERM)
            log.close()


@contextlib.contextmanager
def s3_server(log_dir: Path):
    """moto in server mode: a real HTTP S3 endpoint; yields (endpoint_url, bucket) with the bucket created."""
    import boto3

    port = free_port()
    procs = Processes(log_dir)
    proc = procs.start("moto", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], os.environ.copy())
    try:
        wait_for_port(port, 60, proc, "moto_server")
        endpoint = f"http://127.0.0.1:{port}"
        bucket = f"casework-{uuid.uuid4().hex[:8]}"
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        client.create_bucket(Bucket=bucket)
        yield endpoint, bucket
    finally:
        procs.stop_all()


def s3_env(endpoint: str, bucket: str) -> dict:
    """The environment a node needs to keep its files in that bucket (README: STORAGE_URL)."""
    return {
        "STORAGE_URL": f"s3://{bucket}/files?endpoint_url={endpoint}&region_name=us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
