"""Many agents on one sweep: trials per second, suggest latency and errors, in one run.

    python bench/agents.py [--agents 32] [--run-cap 320] [--points 20] [--db postgres]

gunicorn with the production settings (a worker per core plus one) on a fresh
database; a random sweep with `run_cap` trials; `--agents` processes started
together, each a minimal agent loop over one HTTP connection: suggest, log
`--points` points of the sweep's metric in one batch (with the summary, as the
client sends it), finish the run, again until
the sweep says it is capped. Each suggest is timed from the agent's side. At the
end every trial must be complete exactly once, with the last value its run
logged, and the sweep must have exactly `run_cap` trials. Prints a markdown table.

The loop stands in for `sweeptracker_client.agent()`, which adds its own per-trial
work (joining the run, a heartbeat thread) that would blur the server's share.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    fresh_database,
    machine,
    manage,
    production_server,
)

THIS = Path(__file__).resolve()
READY, RESULT = "bench-ready", "bench-result: "
METRIC = "loss"
# How long an agent waits before asking again when the sweep says "retry" (paused).
RETRY_WAIT = 0.2
# Bounds, so that a stuck server cannot hang the benchmark: each agent stops asking
# after --seconds, and the whole group is killed this long after that.
GRACE = 120.0


# The agent processes.


def sweep_config(run_cap: int) -> dict[str, Any]:
    return {
        "method": "random",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {f"x{i}": {"min": 0.0, "max": 1.0} for i in range(4)},
        "run_cap": run_cap,
    }


def curve(params: dict[str, float], points: int) -> list[float]:
    """The values a trial logs; its objective is the last one (W&B's summary rule)."""
    final = sum((value - 0.3) ** 2 for value in params.values())
    return [final + (points - 1 - step) * 0.01 for step in range(points)]


@dataclass
class AgentLog:
    """What one agent did, sent back to the parent as JSON."""

    start: float = 0.0
    end: float = 0.0
    suggest_ms: list[float] = field(default_factory=list)
    # trial number -> [run id, the value it logged last]
    trials: dict[int, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: str = ""


def agent(job: dict[str, Any]) -> AgentLog:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {job['key']}"
    api = f"{job['base']}/api/v1"
    log = AgentLog()
    print(READY, flush=True)
    sys.stdin.readline()  # all agents start together
    log.start = time.monotonic()
    deadline = log.start + job["seconds"]
    while time.monotonic() < deadline and len(log.errors) < job["max_errors"]:
        try:
            if not one_trial(session, api, job, log):
                break
        except requests.RequestException as error:
            log.errors.append(f"{type(error).__name__}: {error}")
    else:
        log.stop = log.stop or "deadline or error limit"
    log.end = time.monotonic()
    return log


def one_trial(session: requests.Session, api: str, job: dict[str, Any], log: AgentLog) -> bool:
    """Suggest, log, finish; False once the sweep has no more trials to hand out."""
    started = time.perf_counter()
    answer = session.post(f"{api}/sweeps/{job['sweep']}/suggest/", timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code == 409:
        body = answer.json()
        if body.get("retry"):
            time.sleep(RETRY_WAIT)
            return True
        log.stop = str(body.get("reason"))
        return False
    if answer.status_code != 201:
        log.errors.append(f"suggest: {answer.status_code} {answer.text[:200]}")
        return True
    log.suggest_ms.append(elapsed)
    trial = answer.json()
    values = curve(trial["params"], job["points"])
    rows = [{"step": step, "values": {METRIC: value}} for step, value in enumerate(values)]
    # The summary travels with the rows, as the client sends it: the objective is read there.
    batch = {"rows": rows, "summary": {METRIC: values[-1]}}
    run = f"{api}/runs/{trial['run_id']}"
    for url, body in ((f"{run}/log/", batch), (f"{run}/finish/", {"exit_code": 0})):
        answer = session.post(url, json=body, timeout=60)
        if answer.status_code != 200:
            log.errors.append(f"{url}: {answer.status_code} {answer.text[:200]}")
            return True
    log.trials[trial["trial"]] = [trial["run_id"], values[-1]]
    return True


def worker_main(job_json: str) -> None:
    log = agent(json.loads(job_json))
    print(RESULT + json.dumps(log.__dict__), flush=True)


# The parent's side.


def run_agents(job: dict[str, Any], count: int) -> list[AgentLog]:
    """Start `count` agent processes, let them go together, and collect their logs."""
    command = [PYTHON, str(THIS), "--worker", json.dumps(job)]
    procs = [
        subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(count)
    ]
    logs = [
        AgentLog(**json.loads(line)) for line in release_together(procs, job["seconds"] + GRACE)
    ]
    for log in logs:
        # JSON made the trial numbers strings.
        log.trials = {int(number): done for number, done in log.trials.items()}
    return logs


def release_together(procs: list[subprocess.Popen[bytes]], seconds: float) -> list[str]:
    """Wait until every agent process is READY, tell them all to go, and return their
    RESULT lines. All are killed after `seconds`; RuntimeError if one fails or runs late."""
    timer = threading.Timer(seconds, lambda: [proc.kill() for proc in procs])
    timer.start()
    try:
        if any(read_until(proc, READY) is None for proc in procs):
            raise RuntimeError("an agent failed while starting (see above)")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        lines = [read_until(proc, RESULT) for proc in procs]
        if None in lines or any(proc.wait() != 0 for proc in procs):
            raise RuntimeError("an agent failed or ran out of time (see above)")
    finally:
        timer.cancel()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
    return [line for line in lines if line is not None]


def read_until(proc: subprocess.Popen[bytes], marker: str) -> str | None:
    """The rest of the first stdout line of `proc` that starts with `marker`."""
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith(marker):
            return line[len(marker) :]
        print(line, file=sys.stderr)
    return None


def check(session: requests.Session, api: str, sweep_id: str, logs: list[AgentLog]) -> int:
    """Every trial complete exactly once with the value its run logged; run_cap exact.

    Returns the number of trials; raises SystemExit naming what is wrong.
    """
    done: dict[int, list[float]] = {}
    for log in logs:
        for number, trial in log.trials.items():
            if number in done:
                raise SystemExit(f"trial {number} was handed to two agents")
            done[number] = trial
    sweep = session.get(f"{api}/sweeps/{sweep_id}/", timeout=30).json()
    answer = session.get(f"{api}/sweeps/{sweep_id}/trials/?limit=100000", timeout=60)
    trials = answer.json()["results"]
    cap = sweep["run_cap"]
    problems = []
    if sweep["trial_count"] != cap or len(trials) != cap or len(done) != cap:
        problems.append(f"{sweep['trial_count']} trials, {len(done)} done, run_cap {cap}")
    if sorted(t["number"] for t in trials) != list(range(len(trials))):
        problems.append("trial numbers are not 0..n-1")
    for t in trials:
        run_id, value = done.get(t["number"], [None, None])
        if t["state"] != "complete" or t["run_id"] != run_id or t["value"] != value:
            problems.append(f"trial {t['number']}: {t['state']} {t['value']} != {value}")
    if sweep["state"] != "finished":
        problems.append(f"the sweep is {sweep['state']}, not finished")
    if problems:
        raise SystemExit("check failed: " + "; ".join(problems[:10]))
    return cap


def warm(session: requests.Session, api: str, workers: int) -> None:
    """A few suggestions on another sweep, each on a new connection, so that every
    worker has imported the sampler before the timed sweep: a once-per-process cost."""
    body = {"project": "bench", "config": sweep_config(10 * workers), "name": "warm-up"}
    answer = session.post(f"{api}/sweeps/", json=body, timeout=30)
    answer.raise_for_status()
    url = f"{api}/sweeps/{answer.json()['id']}/suggest/"
    for _ in range(3 * workers):
        requests.post(url, headers=session.headers, timeout=60).raise_for_status()


@dataclass
class Measured:
    trials: int
    seconds: float
    p50: float
    p99: float
    errors: int


def measure(kind: str, args: argparse.Namespace) -> Measured:
    workers = (os.cpu_count() or 1) + 1  # gunicorn.conf.py's own default
    with fresh_database(kind, "st_bench_agents") as url:
        manage(url, "migrate", "--verbosity", "0")
        key = manage(url, "create_api_key", "bench").strip().splitlines()[-1]
        with production_server(url, workers) as base, requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            api = f"{base}/api/v1"
            session.post(f"{api}/projects/", json={"slug": "bench"}, timeout=30).raise_for_status()
            warm(session, api, workers)
            body = {"project": "bench", "config": sweep_config(args.run_cap)}
            answer = session.post(f"{api}/sweeps/", json=body, timeout=30)
            answer.raise_for_status()
            sweep_id = answer.json()["id"]
            job = {"base": base, "key": key, "sweep": sweep_id, "points": args.points}
            job |= {"seconds": args.seconds, "max_errors": args.max_errors}
            logs = run_agents(job, args.agents)
            errors = [error for log in logs for error in log.errors]
            for error in errors[:5]:
                print(f"error: {error}", file=sys.stderr)
            trials = check(session, api, sweep_id, logs)
    latencies = sorted(ms for log in logs for ms in log.suggest_ms)
    seconds = max(log.end for log in logs) - min(log.start for log in logs)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Measured(trials, seconds, statistics.median(latencies), p99, len(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--run-cap", type=int, default=320)
    parser.add_argument("--points", type=int, default=20, help="points each trial logs")
    parser.add_argument("--db", nargs="+", default=["postgres"])
    parser.add_argument("--seconds", type=float, default=300.0, help="agents stop after this")
    parser.add_argument("--max-errors", type=int, default=20, help="per agent")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    print(f"Machine: {machine()}; gunicorn {(os.cpu_count() or 1) + 1} workers")
    print(
        f"{args.agents} agent processes, random sweep, run_cap {args.run_cap}, "
        f"{args.points} points per trial\n"
    )
    columns = ["database", "trials", "seconds", "trials/s", "suggest p50 (ms)"]
    columns += ["suggest p99 (ms)", "errors", "check"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for kind in args.db:
        m = measure(kind, args)
        print(
            f"| {kind} | {m.trials} | {m.seconds:.1f} | {m.trials / m.seconds:.1f} "
            f"| {m.p50:.1f} | {m.p99:.1f} | {m.errors} | each trial complete once, run_cap exact |"
        )


if __name__ == "__main__":
    main()
