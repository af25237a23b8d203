"""Metric points per second end to end: our client and server against MLflow's, in one run.

    python bench/ingest.py [--rows 150000] [--keys 10] [--clients 8] [--db sqlite postgres]
                           [--mlflow-seconds 30] [--log-metric-seconds 5] [--no-mlflow]

For each database: gunicorn with the production settings (2 workers). One client
process, then `--clients` at once, each init()s a run, logs N rows of K metrics
with run.log() and finish()es; points/s is every point over the time from the
first log() to the last finish() returning. Then the points are counted in the
database: each must be stored exactly once. Beside it, in the same run: MLflow's
tracking server (2 workers) on the same kind of database, installed by this script
into its own venv, fed by MlflowClient.log_batch in batches of 1,000 points (its
limit) from as many clients, and by log_metric (one point per call) from one.
An MLflow client stops after --mlflow-seconds; its rate is what it sent by then.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    free_port,
    fresh_database,
    machine,
    manage,
    production_server,
)

THIS = Path(__file__).resolve()
MLFLOW_VENV = Path(tempfile.gettempdir()) / "sweeptracker-bench-mlflow"
MLFLOW_BATCH = 1_000  # MLflow refuses log_batch requests with more metrics than this
WORKERS = 2  # server processes, ours and MLflow's alike
# A worker that hangs must not hang the benchmark: its whole group is killed after this.
GROUP_LIMIT = 1_200.0


@dataclass
class Outcome:
    """What a group of client processes did together."""

    points: int
    seconds: float
    runs: list[Any]
    capped: bool = False

    @property
    def rate(self) -> float:
        return self.points / self.seconds


# Client processes. They run this file again, under our venv or MLflow's, so they
# import their client library only inside the function (MLflow's venv lacks ours).


def ours_worker(job: dict[str, Any]) -> dict[str, Any]:
    import sweeptracker_client as st

    config = {"rows": job["rows"], "keys": job["keys"]}
    run = st.init(project="bench", base_url=job["base"], api_key=job["key"], config=config)
    keys = [f"metric_{k}" for k in range(job["keys"])]
    ready()
    start = time.monotonic()
    for step in range(job["rows"]):
        run.log({key: step * 0.001 + k for k, key in enumerate(keys)})
    run.finish()
    return {"run": run.id, "start": start, "end": time.monotonic(), "points": job["points"]}


def mlflow_batch_worker(job: dict[str, Any]) -> dict[str, Any]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=job["base"])
    run_id = client.create_run(job["experiment"]).info.run_id
    # Its first logging call pays for lazy imports; a param keeps that out of the timing.
    client.log_param(run_id, "bench", "ingest")
    keys = [f"metric_{k}" for k in range(job["keys"])]
    ready()
    start = time.monotonic()
    deadline, sent, batch = start + job["seconds"], 0, []
    for step in range(job["rows"]):
        now_ms = int(time.time() * 1000)
        for k, key in enumerate(keys):
            batch.append(Metric(key, step * 0.001 + k, now_ms, step))
            if len(batch) == MLFLOW_BATCH:
                client.log_batch(run_id, metrics=batch)
                sent, batch = sent + len(batch), []
        if time.monotonic() > deadline:
            break
    if batch:
        client.log_batch(run_id, metrics=batch)
        sent += len(batch)
    client.set_terminated(run_id)  # the counterpart of our finish()
    end = time.monotonic()
    return {"run": run_id, "start": start, "end": end, "points": sent}


def mlflow_metric_worker(job: dict[str, Any]) -> dict[str, Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=job["base"])
    run_id = client.create_run(job["experiment"]).info.run_id
    # Its first logging call pays for lazy imports; a param keeps that out of the timing.
    client.log_param(run_id, "bench", "ingest")
    keys = [f"metric_{k}" for k in range(job["keys"])]
    ready()
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < job["seconds"]:
        step, k = divmod(sent, len(keys))
        client.log_metric(run_id, keys[k], step * 0.001 + k, step=step)
        sent += 1
    return {"run": run_id, "start": start, "end": time.monotonic(), "points": sent}


READY, RESULT = "bench-ready", "bench-result: "
WORKER_ROLES = {"ours": ours_worker, "batch": mlflow_batch_worker, "metric": mlflow_metric_worker}


def ready() -> None:
    """Tell the parent this client is set up, then wait for all of them to start at once."""
    print(READY, flush=True)
    sys.stdin.readline()


def worker_main(role: str, job_json: str) -> None:
    result = WORKER_ROLES[role](json.loads(job_json))
    print(RESULT + json.dumps(result), flush=True)


def read_until(proc: subprocess.Popen[bytes], marker: str) -> str | None:
    """The rest of the first stdout line of `proc` that starts with `marker`.

    Other lines (MLflow's client prints "View run ..." there) go on to stderr.
    """
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith(marker):
            return line[len(marker) :]
        print(line, file=sys.stderr)
    return None


# The parent's side.


def run_clients(python: str, role: str, job: dict[str, Any], clients: int) -> Outcome:
    """Start `clients` processes, let them go together, and add up what they did."""
    with tempfile.TemporaryDirectory() as home:
        # finish() may wait for the whole backlog rather than spool it after 60 s, and
        # a client that must spool does so here, not in the user's ~/.sweeptracker.
        env = {**os.environ, "SWEEPTRACKER_FINISH_TIMEOUT": str(GROUP_LIMIT)}
        env["SWEEPTRACKER_DIR"] = home
        results = start_together(python, role, job, clients, env)
    # time.monotonic() is CLOCK_MONOTONIC on Linux: one clock for every process.
    start, end = min(r["start"] for r in results), max(r["end"] for r in results)
    points = sum(r["points"] for r in results)
    return Outcome(points, end - start, [r["run"] for r in results])


def start_together(
    python: str, role: str, job: dict[str, Any], clients: int, env: dict[str, str]
) -> list[dict[str, Any]]:
    command = [python, str(THIS), "--worker", role, json.dumps(job)]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(clients)
    ]
    timer = threading.Timer(GROUP_LIMIT, lambda: [p.kill() for p in procs])
    timer.start()
    try:
        if any(read_until(proc, READY) is None for proc in procs):
            raise SystemExit(f"a {role} client failed while setting up (see above)")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        lines = [read_until(proc, RESULT) for proc in procs]
        if None in lines or any(proc.wait() != 0 for proc in procs):
            raise SystemExit(f"a {role} client failed (see above)")
        return [json.loads(line) for line in lines if line is not None]
    finally:
        timer.cancel()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def query(database_url: str, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` written with %s placeholders, on SQLite or PostgreSQL."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgres://")
    with psycopg.connect(url) as db:
        return db.execute(sql, params).fetchall()


def check_ours(database_url: str, outcome: Outcome, rows: int, keys: int) -> None:
    """Every point of every run stored exactly once, or the benchmark fails."""
    marks = ",".join(["%s"] * len(outcome.runs))
    found = query(
        database_url,
        "SELECT run_id, COUNT(*), COUNT(DISTINCT key), MIN(step), MAX(step) "
        f"FROM runs_metricpoint WHERE run_id IN ({marks}) GROUP BY run_id",
        outcome.runs,
    )
    # (run, key, step) is unique, so K keys × steps 0..N-1 × N·K rows means each once.
    expected = {(run, rows * keys, keys, 0, rows - 1) for run in outcome.runs}
    if set(found) != expected:
        raise SystemExit(f"stored points differ: expected {sorted(expected)}, found {found}")


def check_mlflow(backend: str, outcome: Outcome) -> None:
    marks = ",".join(["%s"] * len(outcome.runs))
    sql = f"SELECT COUNT(*) FROM metrics WHERE run_uuid IN ({marks})"
    stored = query(backend, sql, outcome.runs)[0][0]
    if stored != outcome.points:
        raise SystemExit(f"MLflow stored {stored} points of {outcome.points} sent")


def ours(kind: str, args: argparse.Namespace) -> list[Outcome]:
    """Our points/s with 1 client, then with `--clients`, each checked in the database."""
    with fresh_database(kind, "ingest") as url:
        manage(url, "migrate", "--verbosity", "0")
        key = manage(url, "create_api_key", "bench").strip().splitlines()[-1]
        with production_server(url, WORKERS) as base:
            answer = requests.post(
                f"{base}/api/v1/projects/",
                json={"slug": "bench"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            answer.raise_for_status()
            warm_ours(base, key, args.keys)
            job = {"base": base, "key": key, "rows": args.rows, "keys": args.keys}
            job["points"] = args.rows * args.keys
            outcomes = []
            for clients in (1, args.clients):
                outcome = run_clients(PYTHON, "ours", job, clients)
                check_ours(url, outcome, args.rows, args.keys)
                progress(kind, f"ours, {clients} client(s)", outcome)
                outcomes.append(outcome)
    return outcomes


# A server's first requests pay for imports, connections and caches (MLflow's
# workers check the schema): a few batches on new connections, so that every
# worker has served some, keep that out of the first timed group.
WARM_REQUESTS = 8


def warm_ours(base: str, key: str, keys: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    answer = requests.post(
        f"{base}/api/v1/runs/", json={"project": "bench"}, headers=headers, timeout=30
    )
    answer.raise_for_status()
    for i in range(WARM_REQUESTS):
        rows = [
            {"step": step, "values": {f"metric_{k}": 1.0 for k in range(keys)}}
            for step in range(i * 100, (i + 1) * 100)
        ]
        url = f"{base}/api/v1/runs/{answer.json()['id']}/log/"
        requests.post(url, json={"rows": rows}, headers=headers, timeout=30).raise_for_status()


def warm_mlflow(base: str, experiment: str, keys: int) -> None:
    api = f"{base}/api/2.0/mlflow/runs"
    answer = requests.post(f"{api}/create", json={"experiment_id": experiment}, timeout=30)
    answer.raise_for_status()
    run_id = answer.json()["run"]["info"]["run_id"]
    for i in range(WARM_REQUESTS):
        metrics = [
            {"key": f"metric_{k}", "value": 1.0, "timestamp": 0, "step": step}
            for step in range(i * 100, (i + 1) * 100)
            for k in range(keys)
        ][:MLFLOW_BATCH]
        body = {"run_id": run_id, "metrics": metrics}
        requests.post(f"{api}/log-batch", json=body, timeout=60).raise_for_status()


# MLflow.


def install_mlflow() -> str | None:
    """MLflow's venv python, installing it there first if need be; None when it cannot be."""
    python = MLFLOW_VENV / "bin" / "python"
    probe = [str(python), "-c", "import mlflow, psycopg"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    print(f"Installing MLflow into {MLFLOW_VENV} ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(MLFLOW_VENV)],
        [str(python), "-m", "pip", "install", "-q", "mlflow", "psycopg[binary]"],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            print(f"MLflow skipped: {' '.join(step[:4])} failed: {error}")
            return None
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["no message"])[-1]
            print(f"MLflow skipped: {' '.join(step[:4])} failed: {why}")
            return None
    return str(python)


@contextmanager
def mlflow_server(python: str, backend: str, folder: str) -> Iterator[str]:
    """`mlflow server` on `backend` with WORKERS workers; yields its URL."""
    port = free_port()
    mlflow = str(Path(python).parent / "mlflow")
    command = [mlflow, "server", "--backend-store-uri", backend, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(WORKERS)]
    command += ["--default-artifact-root", f"{folder}/artifacts"]
    log = open(f"{folder}/mlflow-server.log", "wb")  # noqa: SIM115 - closed below
    # Its own process group: `mlflow server` runs uvicorn as a child, which must stop too.
    server = subprocess.Popen(command, cwd=folder, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", server, f"{folder}/mlflow-server.log")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def wait_for(url: str, server: subprocess.Popen[bytes], log: str) -> None:
    # Long: MLflow migrates an empty database on its first start.
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                tail = Path(log).read_text(errors="replace")[-2000:]
                raise SystemExit(f"mlflow server did not start:\n{tail}") from None
            time.sleep(0.5)


def mlflow(python: str, kind: str, args: argparse.Namespace) -> list[Outcome]:
    """MLflow's log_batch with 1 and `--clients` clients, and log_metric with 1."""
    with (
        fresh_database(kind, "mlflow") as url,
        tempfile.TemporaryDirectory() as folder,
    ):
        backend = url.replace("postgres://", "postgresql+psycopg://")
        with mlflow_server(python, backend, folder) as base:
            answer = requests.post(
                f"{base}/api/2.0/mlflow/experiments/create", json={"name": "bench"}, timeout=30
            )
            answer.raise_for_status()
            job = {"base": base, "experiment": answer.json()["experiment_id"]}
            warm_mlflow(base, job["experiment"], args.keys)
            job |= {"rows": args.rows, "keys": args.keys, "seconds": args.mlflow_seconds}
            outcomes = []
            for clients in (1, args.clients):
                outcome = run_clients(python, "batch", job, clients)
                outcome.capped = outcome.points < clients * args.rows * args.keys
                progress(kind, f"MLflow log_batch, {clients} client(s)", outcome)
                outcomes.append(outcome)
            job["seconds"] = args.log_metric_seconds
            outcomes.append(run_clients(python, "metric", job, 1))
            progress(kind, "MLflow log_metric, 1 client", outcomes[-1])
            for outcome in outcomes:
                check_mlflow(backend, outcome)
    return outcomes


# The table.


def progress(kind: str, what: str, outcome: Outcome) -> None:
    print(
        f"{kind}, {what}: {outcome.points:,} points in {outcome.seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def rate(outcome: Outcome | None) -> str:
    if outcome is None:
        return "skipped"
    return f"{outcome.rate:,.0f}" + (" (capped)" if outcome.capped else "")


def ratio(ours: Outcome, theirs: Outcome | None) -> str:
    return "–" if theirs is None else f"{ours.rate / theirs.rate:.1f}x"


def table_row(kind: str, our: list[Outcome], their: list[Outcome] | None) -> str:
    batch1, batch_n, metric = their if their else (None, None, None)
    cells = [kind, rate(our[0]), rate(our[1]), rate(batch1), rate(batch_n), rate(metric)]
    cells += [ratio(our[0], batch1), ratio(our[1], batch_n), ratio(our[0], metric)]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000, help="rows each client logs")
    parser.add_argument("--keys", type=int, default=10, help="metrics in each row")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--mlflow-seconds", type=float, default=30.0)
    parser.add_argument("--log-metric-seconds", type=float, default=5.0)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker)
        return
    python = None if args.no_mlflow else install_mlflow()
    version = ""
    if python:
        version = (
            "; "
            + subprocess.check_output(
                [python, "-c", "import mlflow; print('MLflow', mlflow.__version__)"], text=True
            ).strip()
        )
    print(f"Machine: {machine()}{version}; {WORKERS} server workers each")
    print(f"Each client logs {args.rows:,} rows of {args.keys} metrics; points/s\n")
    n = args.clients
    columns = ["database", "ours, 1 client", f"ours, {n} clients", "MLflow log_batch, 1"]
    columns += [f"MLflow log_batch, {n}", "MLflow log_metric, 1", "ours/log_batch (1)"]
    columns += [f"ours/log_batch ({n})", "ours/log_metric"]
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for kind in args.db:
        our = ours(kind, args)
        their = mlflow(python, kind, args) if python else None
        lines.append(table_row(kind, our, their))
    print("\n".join(lines))
    print("\nEvery point of our runs was found stored exactly once in the database.")
    if python:
        print("MLflow's metrics table held every point its clients sent.")


if __name__ == "__main__":
    main()
