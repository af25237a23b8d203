"""Helpers the benchmarks share: a fresh database, a production server, timing."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
# Every benchmark database on the shared PostgreSQL server is named with this prefix.
DB_PREFIX = "sweeptracker_bench_"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def fresh_database(kind: str, name: str) -> Iterator[str]:
    """A DATABASE_URL of an empty database of `kind` (sqlite or postgres), dropped after.

    On PostgreSQL it is named DB_PREFIX + `name`."""
    name = DB_PREFIX + name
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/{name}.sqlite3"
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def rdb_url(database_url: str) -> str:
    """The SQLAlchemy URL of a DATABASE_URL, for Optuna's RDB storage on the same database."""
    return database_url.replace("postgres://", "postgresql+psycopg://")


def gp_max_trials(database_url: str) -> int:
    """The server's GP_MAX_TRIALS setting: where the default bayes goes from GP to TPE."""
    script = "from django.conf import settings; print(settings.GP_MAX_TRIALS)"
    return int(manage(database_url, "shell", "-c", script).strip().splitlines()[-1])


@contextmanager
def production_server(
    database_url: str, workers: int | None = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """gunicorn with the production config, on a free port; yields its base URL.

    `workers` None keeps gunicorn.conf.py's own default (a worker per core plus one).
    `env` adds to the server's environment (for example ACCESS_LOG, a file path)."""
    port = free_port()
    env = {
        **os.environ,
        **(env or {}),
        "DATABASE_URL": database_url,
        "BIND": f"127.0.0.1:{port}",
        "DEBUG": "false",
    }
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    # A file, not a pipe nobody reads: a pipe that fills would stall the server.
    with tempfile.TemporaryFile() as errors:
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "sweeptracker.wsgi"], cwd=ROOT, env=env, stderr=errors
        )
        try:
            yield wait_until_up(server, f"http://127.0.0.1:{port}", errors)
        finally:
            server.terminate()
            server.wait()
            errors.seek(0)
            log = errors.read().decode(errors="replace")
            if "Traceback" in log:
                # A 500 says only "Internal Server Error" to the client; this says why.
                tail = log[log.rindex("Traceback") :][-3000:]
                print(f"gunicorn logged errors; the last one:\n{tail}", file=sys.stderr)


def wait_until_up(server: subprocess.Popen[bytes], base: str, errors: IO[bytes]) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)
            return base
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                server.wait()
                errors.seek(0)
                message = errors.read().decode(errors="replace")
                raise SystemExit(f"gunicorn did not start: {message}") from None
            time.sleep(0.2)


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def default_workers() -> int:
    """gunicorn.conf.py's default number of workers on this machine."""
    return (os.cpu_count() or 1) + 1


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"


def percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass
class Target:
    """One line of a closing table: ours beside the peer, and whether the target is met."""

    name: str
    ours: str
    peer: str
    ratio: str
    target: str
    # None: a line measured beside its peer without a target to meet.
    met: bool | None


def print_targets(targets: list[Target]) -> None:
    print("\n| target | ours | peer | ratio | target | met? |")
    print("|---|---|---|---|---|---|")
    for t in targets:
        met = "-" if t.met is None else "met" if t.met else "NOT met"
        row = [t.name, t.ours, t.peer, t.ratio, t.target, met]
        print("| " + " | ".join(row) + " |", flush=True)


def all_pages(session: requests.Session, url: str) -> list[dict[str, Any]]:
    """Every result of a paginated list (the API answers at most 1,000 a page)."""
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        answer = session.get(next_url, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        results.extend(body["results"])
        next_url = body.get("next")
    return results


class SweepClient:
    """Suggest and report over one kept-alive session, one request per trial where the
    server takes the previous trial's result in the suggest body (`report`), two otherwise.

    Whether it does is found out on the first suggest that carries a report: the answer's
    `reported` says so; a 400 that names `report`, or (no `reported` in the answer) the
    reported trial still running afterwards, means two calls from then on, and the report
    is sent on its own."""

    def __init__(self, session: requests.Session, api: str, sweep_id: str, timeout: float = 120):
        self.session, self.timeout = session, timeout
        self.url = f"{api}/sweeps/{sweep_id}"
        self.folds: bool | None = None

    def suggest(self, report: dict[str, Any] | None = None) -> requests.Response:
        """The next trial, after telling `report` ({"trial": n, "value": v}) if given."""
        if report is not None and self.folds is False:
            self.report(report)
            report = None
        body = {"report": report} if report is not None else None
        answer = self.session.post(f"{self.url}/suggest/", json=body, timeout=self.timeout)
        if report is None:
            return answer
        if answer.status_code == 400 and "report" in answer.text:
            self.folds = False
            self.report(report)
            return self.session.post(f"{self.url}/suggest/", timeout=self.timeout)
        if self.folds is None and answer.status_code == 201:
            body = answer.json()
            if "reported" in body:
                self.folds = body["reported"] is not None
            else:
                self.folds = report["trial"] not in self.running()
            if not self.folds:
                self.report(report)
        elif answer.status_code != 201:
            # No trial handed out (capped, paused): make sure the result is stored; a repeat
            # of the same result is accepted.
            self.report(report)
        return answer

    def report(self, report: dict[str, Any]) -> None:
        answer = self.session.post(f"{self.url}/report/", json=report, timeout=self.timeout)
        answer.raise_for_status()

    def running(self) -> set[int]:
        trials = all_pages(self.session, f"{self.url}/trials/?state=running")
        return {trial["number"] for trial in trials}

    @property
    def mode(self) -> str:
        if self.folds:
            return "one request per trial (the report folded into suggest)"
        return "two requests per trial (suggest, report)"
