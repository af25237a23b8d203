"""Load: many real agents on a random and a bayes sweep at once; nothing lost, nothing twice.

    python bench/load.py [--agents 32] [--random-cap 500] [--bayes-cap 200] [--points 100]
                         [--db postgres|sqlite] [--workers N] [--no-optuna]

gunicorn with the production config (gunicorn.conf.py, `--workers` processes,
default a worker per core plus one) on a fresh database; a random sweep and a
bayes sweep; `--agents` processes of the real client (`sweeptracker_client`'s
agent with a training function that logs `--points` points of the metric, one
`log()` call each). Half the agents start on the random sweep and half on the
bayes sweep; each goes on to the other sweep when its first one is capped, so all
of them stay busy to the end. Each agent times its own suggest calls (what an
agent waits for); the server's access log counts 5xx answers and says how long
the worker itself spent on each suggestion ("server" columns; the difference is
time queued for a worker thread or the CPU).

Checked at the end, from the database: every trial complete exactly once (none
running, none handed to two agents, numbers 0..n-1), exactly `run_cap` trials
and finished runs per sweep, every run holds exactly `--points` points, steps
0..points-1 with the values the agent logged, and the trial's value is the last
one. Prints a markdown table; exits 1 when a check fails.
tests/load/test_load.py runs the same code, smaller, against the test database.

Then, unless `--no-optuna`, the same load by Optuna with its RDB storage on the same
database (bench/optuna_peer.py): as many processes, a random study and a bayes study
(GP below GP_MAX_TRIALS complete trials, TPE from there, as our default bayes), each
trial reporting the same points as intermediate values; its table follows ours, with
the trials/s of both side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.agents import READY, RESULT, curve, release_together, warm  # noqa: E402
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    Target,
    fresh_database,
    gp_max_trials,
    machine,
    manage,
    print_targets,
    production_server,
    rdb_url,
)

if TYPE_CHECKING:
    from bench.optuna_peer import PeerLoad

THIS = Path(__file__).resolve()
METRIC = "loss"
PARAMS = [f"x{i}" for i in range(4)]
# The access log says each answer's status and how long the worker took over it (ms).
ACCESS_FORMAT = '"%(r)s" %(s)s %(M)s'
ACCESS_LINE = re.compile(r'"([A-Z]+) (\S+) [^"]*" (\d{3}) (\d+)')


@dataclass
class Plan:
    """How big a load to make."""

    agents: int = 32
    random_cap: int = 500
    bayes_cap: int = 200
    points: int = 100
    # Agents are killed this long after they start, so that a stuck server cannot hang us.
    seconds: float = 1800.0


def sweep_config(method: str, run_cap: int) -> dict[str, Any]:
    return {
        "method": method,
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {name: {"min": 0.0, "max": 1.0} for name in PARAMS},
        "run_cap": run_cap,
    }


# The agent processes.


def train(points: int) -> None:
    """The sweep's training function: logs `points` values of the metric, one call each."""
    import sweeptracker_client as wandb

    run = wandb.init()
    for value in curve({name: run.config[name] for name in PARAMS}, points):
        wandb.log({METRIC: value})


def time_suggestions(api_class: Any, into: list[float]) -> None:
    """Record how long each suggestion the agent gets takes, as the agent waits for it.

    The agent asks through `Api.suggest`; wrapping it measures the real call unchanged.
    A 409 (capped, paused) raises and is not a suggestion, so it is not counted."""
    original = api_class.suggest

    def suggest(self: Any, sweep_id: str) -> Any:
        started = time.perf_counter()
        answer = original(self, sweep_id)
        into.append((time.perf_counter() - started) * 1000)
        return answer

    api_class.suggest = suggest


def agent_main(job: dict[str, Any]) -> dict[str, Any]:
    """Run the real client's agent on each sweep of the job in turn; say what it did."""
    from sweeptracker_client.agents import Agent
    from sweeptracker_client.api import Api

    suggest_ms: list[float] = []
    time_suggestions(Api, suggest_ms)
    print(READY, flush=True)
    sys.stdin.readline()  # all agents start together
    sessions = []
    with open(os.devnull, "w") as quiet:
        for sweep_id in job["sweeps"]:
            start, error = time.monotonic(), ""
            del suggest_ms[:]
            agent = Agent(sweep_id, function=lambda: train(job["points"]), out=quiet)
            try:
                report = agent.run()
            except Exception as problem:  # noqa: BLE001 - told to the parent, which fails
                error, report = f"{type(problem).__name__}: {problem}", agent.report
            sessions.append(
                {
                    "sweep": sweep_id,
                    "start": start,
                    "end": time.monotonic(),
                    "suggest_ms": list(suggest_ms),
                    "trials": [[t.number, t.run_id, t.state, t.failed] for t in report.trials],
                    "stop": report.stop_reason,
                    "error": error,
                }
            )
    return {"sessions": sessions}


# The parent's side.


def run_agents(
    jobs: list[dict[str, Any]], env: dict[str, str], seconds: float
) -> list[dict[str, Any]]:
    """Start one agent process per job, let them go together, and collect what they did."""
    procs = [
        subprocess.Popen(
            [PYTHON, str(THIS), "--agent", json.dumps(job)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for job in jobs
    ]
    return [json.loads(line) for line in release_together(procs, seconds)]


@dataclass
class SweepLoad:
    """What the agents saw of one sweep."""

    id: str
    method: str
    run_cap: int
    seconds: float = 0.0
    trials: int = 0
    # As the agent waited for it, and as the server's worker spent on it.
    suggest_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def p50(times: list[float]) -> float:
    return statistics.median(times) if times else float("nan")


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def server_env(access_log: Path) -> dict[str, str]:
    """The environment that makes gunicorn write our access log format to `access_log`."""
    return {
        "ACCESS_LOG": str(access_log),
        "GUNICORN_CMD_ARGS": f"--access-logformat {shlex.quote(ACCESS_FORMAT)}",
    }


@dataclass
class Load:
    """The outcome of a load run, as the agents and the access log saw it."""

    sweeps: list[SweepLoad]
    seconds: float
    requests: int
    errors_5xx: int
    agent_errors: list[str]


def create_sweeps(base: str, key: str, project: str, plan: Plan) -> list[SweepLoad]:
    sweeps = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        for method, cap in (("random", plan.random_cap), ("bayes", plan.bayes_cap)):
            body = {"project": project, "config": sweep_config(method, cap), "name": method}
            answer = session.post(f"{base}/api/v1/sweeps/", json=body, timeout=60)
            answer.raise_for_status()
            sweeps.append(SweepLoad(answer.json()["id"], method, cap))
    return sweeps


def run_load(base: str, key: str, project: str, plan: Plan, access_log: Path) -> Load:
    """Both sweeps worked by `plan.agents` agent processes at once; what they saw."""
    sweeps = create_sweeps(base, key, project, plan)
    ids = [sweep.id for sweep in sweeps]
    # Half the agents start on each sweep, then move to the other one when it is capped.
    jobs = [
        {"sweeps": ids[i % 2 :] + ids[: i % 2], "points": plan.points} for i in range(plan.agents)
    ]
    with tempfile.TemporaryDirectory() as home:
        env = {
            "SWEEPTRACKER_BASE_URL": base,
            "SWEEPTRACKER_API_KEY": key,
            "SWEEPTRACKER_PROJECT": project,
            "SWEEPTRACKER_DIR": home,
            # The default of 5 s between asks while the sweep is busy would idle agents.
            "SWEEPTRACKER_AGENT_POLL_INTERVAL": "0.1",
        }
        results = run_agents(jobs, env, plan.seconds)
    by_id = {sweep.id: sweep for sweep in sweeps}
    spans: dict[str, list[float]] = defaultdict(list)
    owners: dict[str, Counter[int]] = defaultdict(Counter)
    errors = []
    for session in (s for result in results for s in result["sessions"]):
        sweep = by_id[session["sweep"]]
        sweep.suggest_ms += session["suggest_ms"]
        spans[sweep.id] += [session["start"], session["end"]]
        owners[sweep.id].update(number for number, *_ in session["trials"])
        for number, run_id, state, failed in session["trials"]:
            if failed or state != "complete":
                errors.append(f"{sweep.method} trial {number} (run {run_id}): {state}")
        if session["error"]:
            errors.append(f"{sweep.method} agent: {session['error']}")
    for sweep in sweeps:
        sweep.seconds = max(spans[sweep.id]) - min(spans[sweep.id])
        sweep.trials = sum(owners[sweep.id].values())
        twice = sorted(n for n, count in owners[sweep.id].items() if count > 1)
        if twice:
            sweep.problems.append(f"trials handed to two agents: {twice[:10]}")
        if sorted(owners[sweep.id]) != list(range(sweep.run_cap)):
            sweep.problems.append(f"agents ran {len(owners[sweep.id])} trials, not 0..run_cap-1")
    statuses = []
    for line in read_lines(access_log):
        if match := ACCESS_LINE.search(line):
            method, path, status, ms = match.groups()
            statuses.append(int(status))
            sweep_id = path.removeprefix("/api/v1/sweeps/").removesuffix("/suggest/")
            if method == "POST" and status == "201" and sweep_id in by_id:
                by_id[sweep_id].server_ms.append(float(ms))
    every = [t for s in spans.values() for t in s]
    return Load(
        sweeps,
        max(every) - min(every),
        len(statuses),
        sum(1 for status in statuses if status >= 500),
        errors,
    )


def read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def audit(sweep_ids: list[str], points: int) -> dict[str, Any]:
    """What the database holds of the sweeps: counts, and every problem found.

    Runs where Django is set up: in a test, or through `manage.py shell` for the bench.
    """
    from runs.models import Run
    from sweeps.models import Sweep, Trial

    problems: list[str] = []
    lost = duplicated = stored = 0
    for sweep in Sweep.objects.filter(pk__in=sweep_ids).order_by("method"):
        name = f"{sweep.method} sweep"
        trials = list(Trial.objects.filter(sweep=sweep).values("number", "state", "run_id"))
        states = Counter(t["state"] for t in trials)
        if states != Counter({"complete": sweep.run_cap}):
            problems.append(f"{name}: trials {dict(states)}, run_cap {sweep.run_cap}")
        if sorted(t["number"] for t in trials) != list(range(len(trials))):
            problems.append(f"{name}: trial numbers are not 0..n-1")
        if sweep.state != "finished":
            problems.append(f"{name} is {sweep.state}, not finished")
        runs = Counter(Run.objects.filter(trial__sweep=sweep).values_list("state", flat=True))
        if runs != Counter({"finished": sweep.run_cap}):
            problems.append(f"{name}: runs {dict(runs)}")
        counts = check_points(sweep, points, problems)
        lost, duplicated, stored = lost + counts[0], duplicated + counts[1], stored + counts[2]
    found = set(Sweep.objects.filter(pk__in=sweep_ids).values_list("pk", flat=True))
    problems += [f"sweep {pk} is missing" for pk in sorted(set(sweep_ids) - found)]
    return {"problems": problems, "lost": lost, "duplicated": duplicated, "stored": stored}


def check_points(sweep: Any, points: int, problems: list[str]) -> tuple[int, int, int]:
    """(lost, duplicated, stored) points of the sweep's runs; wrong values go to `problems`."""
    from runs.models import MetricPoint
    from sweeps.models import Trial

    trials = {t.run_id: t for t in Trial.objects.filter(sweep=sweep) if t.run_id is not None}
    # In the agent's order of the params: a float sum depends on it.
    logged = {
        run_id: curve({name: t.params[name] for name in PARAMS}, points)
        for run_id, t in trials.items()
    }
    seen: dict[int, Counter[tuple[str, int]]] = {run_id: Counter() for run_id in trials}
    wrong = 0
    rows = MetricPoint.objects.filter(run__trial__sweep=sweep).values_list(
        "run_id", "key", "step", "value"
    )
    for run_id, key, step, value in rows.iterator(chunk_size=10_000):
        seen[run_id][(key, step)] += 1
        if key != METRIC or not 0 <= step < points or value != logged[run_id][step]:
            wrong += 1
    lost = duplicated = 0
    for run_id, counts in seen.items():
        duplicated += sum(count - 1 for count in counts.values())
        lost += sum(1 for step in range(points) if (METRIC, step) not in counts)
        trial = trials[run_id]
        if trial.value != logged[run_id][-1]:
            problems.append(f"trial {trial.number}: value {trial.value} is not its last point")
    if wrong:
        problems.append(f"{sweep.method} sweep: {wrong} points with a wrong key, step or value")
    if lost or duplicated:
        problems.append(f"{sweep.method} sweep: {lost} points lost, {duplicated} duplicated")
    stored = sum(sum(counts.values()) for counts in seen.values())
    return lost, duplicated, stored


def problems_of(load: Load, audited: dict[str, Any]) -> list[str]:
    """Everything that went wrong, from the agents, the access log and the database."""
    found = [f"{load.errors_5xx} answers were 5xx"] if load.errors_5xx else []
    found += load.agent_errors[:10]
    found += [problem for sweep in load.sweeps for problem in sweep.problems]
    return found + list(audited["problems"])


# The bench.


def warm_bayes(session: requests.Session, api: str, workers: int) -> None:
    """Past its startup trials on another sweep, so that every worker has loaded the GP
    (torch) before the timed sweeps, as bench/agents.py's warm() does for random."""
    body = {"project": "bench", "config": sweep_config("bayes", 10 + 3 * workers), "name": "warm"}
    answer = session.post(f"{api}/sweeps/", json=body, timeout=30)
    answer.raise_for_status()
    url = f"{api}/sweeps/{answer.json()['id']}"
    for _ in range(10):
        trial = session.post(f"{url}/suggest/", timeout=60).json()
        report = {"trial": trial["trial"], "value": sum(trial["params"].values())}
        session.post(f"{url}/report/", json=report, timeout=60).raise_for_status()
    for _ in range(3 * workers):
        requests.post(f"{url}/suggest/", headers=session.headers, timeout=120).raise_for_status()


def measure(
    kind: str, plan: Plan, workers: int, peer: bool
) -> tuple[Load, dict[str, Any], PeerLoad | None]:
    """One load run on a fresh database of `kind`, the database's audit after it, and
    (`peer`) the same load by Optuna's RDB storage on the same database."""
    with fresh_database(kind, "load") as url, tempfile.TemporaryDirectory() as folder:
        manage(url, "migrate", "--verbosity", "0")
        key = manage(url, "create_api_key", "bench").strip().splitlines()[-1]
        access_log = Path(folder) / "access.log"
        with (
            production_server(url, workers, server_env(access_log)) as base,
            requests.Session() as session,
        ):
            session.headers["Authorization"] = f"Bearer {key}"
            api = f"{base}/api/v1"
            session.post(f"{api}/projects/", json={"slug": "bench"}, timeout=30).raise_for_status()
            warm(session, api, workers)
            warm_bayes(session, api, workers)
            load = run_load(base, key, "bench", plan, access_log)
        ids = [sweep.id for sweep in load.sweeps]
        script = "import json; from bench.load import audit; "
        script += f"print(json.dumps(audit({ids!r}, {plan.points})))"
        audited = json.loads(manage(url, "shell", "-c", script).strip().splitlines()[-1])
        peer_load = None
        if peer:
            from bench.optuna_peer import run_peer

            caps = {"random": plan.random_cap, "bayes": plan.bayes_cap}
            args = (plan.agents, plan.points, gp_max_trials(url), plan.seconds)
            peer_load = run_peer(rdb_url(url), caps, *args)
    return load, audited, peer_load


def print_tables(kind: str, load: Load, audited: dict[str, Any], problems: list[str]) -> None:
    columns = ["database", "sweep", "trials", "seconds", "trials/s"]
    columns += ["suggest p50 (ms)", "suggest p99 (ms)", "server p50 (ms)", "server p99 (ms)"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    both = SweepLoad("", "both", 0, load.seconds)
    for sweep in load.sweeps:
        both.trials += sweep.trials
        both.suggest_ms += sweep.suggest_ms
        both.server_ms += sweep.server_ms
    for sweep in [*load.sweeps, both]:
        name = sweep.method if sweep is both else f"{sweep.method}, run_cap {sweep.run_cap}"
        print(
            f"| {kind} | {name} | {sweep.trials} | {sweep.seconds:.1f} "
            f"| {sweep.trials / sweep.seconds:.2f} | {p50(sweep.suggest_ms):.0f} "
            f"| {p99(sweep.suggest_ms):.0f} | {p50(sweep.server_ms):.0f} "
            f"| {p99(sweep.server_ms):.0f} |"
        )
    print()
    columns = ["requests", "5xx", "agent errors", "points stored", "lost", "duplicated", "check"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    verdict = "FAILED" if problems else "ok: each trial complete once, run_cap exact"
    print(
        f"| {load.requests} | {load.errors_5xx} | {len(load.agent_errors)} | {audited['stored']} "
        f"| {audited['lost']} | {audited['duplicated']} | {verdict} |"
    )


def print_peer(kind: str, load: Load, audited: dict[str, Any], peer: PeerLoad) -> None:
    """Optuna's table, then both systems' trials/s side by side."""
    from bench.optuna_peer import p50 as ask_p50
    from bench.optuna_peer import p99 as ask_p99

    print("\nOptuna RDB storage, the same load on the same database:\n")
    columns = ["database", "study", "trials", "seconds", "trials/s", "ask p50 (ms)"]
    columns += ["ask p99 (ms)", "errors", "intermediate values stored", "lost", "check"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for study in peer.studies:
        verdict = "FAILED: " + study.problems[0] if study.problems else "ok"
        print(
            f"| {kind} | {study.method}, {study.cap} trials | {study.trials} "
            f"| {study.seconds:.1f} | {study.rate:.2f} | {ask_p50(study.ask_ms):.0f} "
            f"| {ask_p99(study.ask_ms):.0f} | {len(study.errors)} | {study.stored} "
            f"| {study.lost} | {verdict} |"
        )
    ours_trials = sum(sweep.trials for sweep in load.sweeps)
    peer_trials = sum(study.trials for study in peer.studies)
    ours_rate, peer_rate = ours_trials / load.seconds, peer_trials / peer.seconds
    print_targets(
        [
            Target(
                f"load, {kind}: both sweeps, trials/s",
                f"{ours_rate:.2f} ({ours_trials} trials, {audited['stored']} points)",
                f"Optuna RDB {peer_rate:.2f}",
                f"{ours_rate / peer_rate:.2f}×" if peer_rate else "-",
                "none (kept as measured)",
                None,
            )
        ]
    )
    for study in peer.studies:
        for error in study.errors[:3]:
            print(f"Optuna {study.method} error: {error}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=Plan.agents)
    parser.add_argument("--random-cap", type=int, default=Plan.random_cap)
    parser.add_argument("--bayes-cap", type=int, default=Plan.bayes_cap)
    parser.add_argument("--points", type=int, default=Plan.points, help="points each trial logs")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--seconds", type=float, default=Plan.seconds, help="agents die after")
    parser.add_argument("--no-optuna", action="store_true", help="skip Optuna's RDB storage")
    parser.add_argument("--agent", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agent:
        print(RESULT + json.dumps(agent_main(json.loads(args.agent))), flush=True)
        return
    plan = Plan(args.agents, args.random_cap, args.bayes_cap, args.points, args.seconds)
    print(f"Machine: {machine()}; gunicorn {args.workers} workers; {args.db}")
    print(
        f"{plan.agents} agent processes on a random sweep (run_cap {plan.random_cap}) and a "
        f"bayes sweep (run_cap {plan.bayes_cap}) at once, {plan.points} points per trial\n"
    )
    load, audited, peer = measure(args.db, plan, args.workers, not args.no_optuna)
    problems = problems_of(load, audited)
    print_tables(args.db, load, audited, problems)
    if peer is not None:
        print_peer(args.db, load, audited, peer)
        problems += [f"Optuna: {p}" for study in peer.studies for p in study.problems]
    for problem in problems:
        print(f"check failed: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
