"""Many worker processes on one sweep: our agents against Optuna's RDB storage, in one run.

    python bench/agents.py [--agents 32] [--trials 1500] [--method random tpe]
                           [--db sqlite postgres] [--loop tell|run] [--points 20]
                           [--no-scale-out] [--no-optuna] [--seconds 600] [--max-errors 20]

For each database, on one fresh database: gunicorn with gunicorn.conf.py (a worker per
core plus one); a sweep of 4 float parameters with `run_cap` = `--trials`, `random` or
`tpe` (bayes with Optuna's TPE); `--agents` processes started together, each a minimal
agent loop over one kept-alive connection, with a trivial objective. `--loop tell` (the
default) reports each trial's result with the next suggest (`report` in its body, one
request per trial; two calls where the server does not take it), the shape of Optuna's
ask and tell; `--loop run` logs `--points` points of the metric in one batch (with the
summary, as the client sends it) and finishes the run, as a training script does.

Beside it, in the same run and on the same database server (the same database, Optuna's
tables beside ours): as many processes of Optuna with its RDB storage
(`optuna.load_study(storage=<the same DATABASE_URL>)`), each asking and telling its share
of `--trials` with the same sampler and objective. On PostgreSQL, unless
`--no-scale-out`: two gunicorns on two ports on the same database, the agents split
between them, next to one server's throughput.

Each suggest (Optuna: ask) is timed from the worker's side; trials/s is over the time
from the first worker starting to the last one stopping. At the end every trial must be
complete exactly once with the value its worker got, numbered 0..n-1, exactly `--trials`
of them. Prints the table and every target of the issue as
"ours | peer | ratio | target | met?"; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    SweepClient,
    Target,
    all_pages,
    default_workers,
    fresh_database,
    machine,
    manage,
    percentile,
    print_targets,
    production_server,
    rdb_url,
)

THIS = Path(__file__).resolve()
READY, RESULT = "bench-ready", "bench-result: "
METRIC = "loss"
PARAMS = [f"x{i}" for i in range(4)]
# How long an agent waits before asking again when the sweep says "retry" (paused).
RETRY_WAIT = 0.2
# Bounds, so that a stuck server cannot hang the benchmark: each agent stops asking
# after --seconds, and the whole group is killed this long after that.
GRACE = 120.0
SPEEDUP_TARGET = 3.0
TAIL_TARGET = 3.0


def sweep_config(run_cap: int, method: str = "random") -> dict[str, Any]:
    config: dict[str, Any] = {
        "method": "random" if method == "random" else "bayes",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": {name: {"min": 0.0, "max": 1.0} for name in PARAMS},
        "run_cap": run_cap,
    }
    if method == "tpe":
        config["optuna"] = {"sampler": "tpe"}
    return config


def objective(params: dict[str, float]) -> float:
    return float(sum((params[name] - 0.3) ** 2 for name in PARAMS))


def curve(params: dict[str, float], points: int) -> list[float]:
    """The values a trial logs; its objective is the last one (W&B's summary rule)."""
    final = sum((value - 0.3) ** 2 for value in params.values())
    return [final + (points - 1 - step) * 0.01 for step in range(points)]


# The worker processes.


@dataclass
class AgentLog:
    """What one worker did, sent back to the parent as JSON."""

    start: float = 0.0
    end: float = 0.0
    suggest_ms: list[float] = field(default_factory=list)
    # trial number -> [run id (Optuna: trial id), the trial's value]
    trials: dict[int, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: str = ""
    requests_per_trial: int = 0


def agent(job: dict[str, Any]) -> AgentLog:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {job['key']}"
    api = f"{job['base']}/api/v1"
    client = SweepClient(session, api, job["sweep"], timeout=60)
    log = AgentLog()
    pending: list[dict[str, Any]] = []
    print(READY, flush=True)
    sys.stdin.readline()  # all agents start together
    log.start = time.monotonic()
    deadline = log.start + job["seconds"]
    while time.monotonic() < deadline and len(log.errors) < job["max_errors"]:
        try:
            if job["loop"] == "tell":
                going = tell_trial(client, log, pending)
            else:
                going = run_trial(session, api, job, log)
        except requests.RequestException as error:
            log.errors.append(f"{type(error).__name__}: {error}")
            continue
        if not going:
            break
    else:
        log.stop = log.stop or "deadline or error limit"
    if pending:
        client.report(pending.pop())
    log.end = time.monotonic()
    log.requests_per_trial = 3 if job["loop"] == "run" else 1 if client.folds else 2
    return log


def tell_trial(client: SweepClient, log: AgentLog, pending: list[dict[str, Any]]) -> bool:
    """Report the last trial and get the next in one suggest; False once there is none."""
    report = pending.pop() if pending else None
    started = time.perf_counter()
    answer = client.suggest(report)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code == 409:
        return stopped(answer, log)
    if answer.status_code != 201:
        log.errors.append(f"suggest: {answer.status_code} {answer.text[:200]}")
        return True
    log.suggest_ms.append(elapsed)
    trial = answer.json()
    value = objective(trial["params"])
    pending.append({"trial": trial["trial"], "value": value})
    log.trials[trial["trial"]] = [trial["run_id"], value]
    return True


def stopped(answer: requests.Response, log: AgentLog) -> bool:
    """After a 409: wait and go on when the sweep says retry, else stop (capped, ended)."""
    body = answer.json()
    if body.get("retry"):
        time.sleep(RETRY_WAIT)
        return True
    log.stop = str(body.get("reason"))
    return False


def run_trial(session: requests.Session, api: str, job: dict[str, Any], log: AgentLog) -> bool:
    """Suggest, log, finish; False once the sweep has no more trials to hand out."""
    started = time.perf_counter()
    answer = session.post(f"{api}/sweeps/{job['sweep']}/suggest/", timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code == 409:
        return stopped(answer, log)
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


def optuna_sampler(method: str) -> Any:
    """Optuna's sampler with the options sweeps/sampling.py gives it."""
    import optuna

    if method == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, constant_liar=True)
    return optuna.samplers.RandomSampler()


def optuna_worker(job: dict[str, Any]) -> AgentLog:
    """One process of a distributed Optuna user: ask and tell on the shared RDB storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=job["study"], storage=job["storage"], sampler=optuna_sampler(job["method"])
    )
    dists: dict[str, optuna.distributions.BaseDistribution] = {
        name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in PARAMS
    }
    log = AgentLog(requests_per_trial=0)
    print(READY, flush=True)
    sys.stdin.readline()
    log.start = time.monotonic()
    deadline = log.start + job["seconds"]
    while len(log.trials) < job["quota"] and time.monotonic() < deadline:
        if len(log.errors) >= job["max_errors"]:
            break
        try:
            started = time.perf_counter()
            trial = study.ask(dists)
            log.suggest_ms.append((time.perf_counter() - started) * 1000)
            value = objective(trial.params)
            study.tell(trial, value)
        except Exception as error:  # noqa: BLE001 - counted and told, as the agents' are
            log.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
            continue
        log.trials[trial.number] = [trial._trial_id, value]
    log.end = time.monotonic()
    return log


def worker_main(job_json: str) -> None:
    job = json.loads(job_json)
    log = optuna_worker(job) if job["kind"] == "optuna" else agent(job)
    print(RESULT + json.dumps(log.__dict__), flush=True)


# The parent's side.


def run_workers(jobs: list[dict[str, Any]], seconds: float) -> list[AgentLog]:
    """Start a process per job, let them go together, and collect their logs."""
    procs = [
        subprocess.Popen(
            [PYTHON, str(THIS), "--worker", json.dumps(job)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for job in jobs
    ]
    logs = [AgentLog(**json.loads(line)) for line in release_together(procs, seconds + GRACE)]
    for log in logs:
        # JSON made the trial numbers strings.
        log.trials = {int(number): done for number, done in log.trials.items()}
    return logs


def release_together(procs: list[subprocess.Popen[bytes]], seconds: float) -> list[str]:
    """Wait until every agent process is READY, tell them all to go, and return their
    RESULT lines. All are killed after `seconds`; RuntimeError if one fails or runs late."""

    def kill_all() -> None:
        for proc in procs:
            proc.kill()

    timer = threading.Timer(seconds, kill_all)
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


def handed_out(logs: list[AgentLog], problems: list[str]) -> dict[int, list[float]]:
    """Every trial the workers got, by number; a number got twice goes to `problems`."""
    done: dict[int, list[float]] = {}
    for log in logs:
        for number, trial in log.trials.items():
            if number in done:
                problems.append(f"trial {number} was handed to two workers")
            done[number] = trial
    return done


def check(session: requests.Session, api: str, sweep_id: str, logs: list[AgentLog]) -> list[str]:
    """What is wrong with the sweep: each trial complete once with its worker's value,
    numbers 0..n-1, run_cap exact, the sweep finished. Empty when all is right."""
    problems: list[str] = []
    done = handed_out(logs, problems)
    sweep = session.get(f"{api}/sweeps/{sweep_id}/", timeout=30).json()
    trials = all_pages(session, f"{api}/sweeps/{sweep_id}/trials/?limit=1000")
    cap = sweep["run_cap"]
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
    return problems


def check_optuna(storage: str, study_name: str, logs: list[AgentLog], n: int) -> list[str]:
    """The same check of Optuna's study: n trials, each complete once with its value."""
    import optuna

    problems: list[str] = []
    done = handed_out(logs, problems)
    trials = optuna.load_study(study_name=study_name, storage=storage).get_trials(deepcopy=False)
    if len(trials) != n or len(done) != n:
        problems.append(f"{len(trials)} trials, {len(done)} done, {n} asked for")
    if sorted(t.number for t in trials) != list(range(len(trials))):
        problems.append("trial numbers are not 0..n-1")
    for t in trials:
        trial_id, value = done.get(t.number, [None, None])
        if t.state.name != "COMPLETE" or t._trial_id != trial_id or t.value != value:
            problems.append(f"trial {t.number}: {t.state.name} {t.value} != {value}")
    return problems


def warm(session: requests.Session, api: str, workers: int, method: str = "random") -> None:
    """A few suggestions on another sweep, each on a new connection, so that every
    worker has imported the sampler before the timed sweep: a once-per-process cost.
    For TPE, past its random startup trials first."""
    config = sweep_config(20 + 10 * workers, method)
    body = {"project": "bench", "config": config, "name": "warm-up"}
    answer = session.post(f"{api}/sweeps/", json=body, timeout=30)
    answer.raise_for_status()
    url = f"{api}/sweeps/{answer.json()['id']}"
    for _ in range(12 if method == "tpe" else 0):
        trial = session.post(f"{url}/suggest/", timeout=60).json()
        report = {"trial": trial["trial"], "value": objective(trial["params"])}
        session.post(f"{url}/report/", json=report, timeout=60).raise_for_status()
    for _ in range(3 * workers):
        requests.post(f"{url}/suggest/", headers=session.headers, timeout=60).raise_for_status()


@dataclass
class Measured:
    system: str
    servers: int
    trials: int
    seconds: float
    suggest_ms: list[float]
    errors: list[str]
    problems: list[str]
    requests_per_trial: int = 0

    @property
    def rate(self) -> float:
        return self.trials / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.suggest_ms) if self.suggest_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.suggest_ms, 0.99)


def summarize(system: str, servers: int, logs: list[AgentLog], problems: list[str]) -> Measured:
    errors = [error for log in logs for error in log.errors]
    for error in errors[:5]:
        print(f"{system} error: {error}", file=sys.stderr)
    for problem in problems[:10]:
        print(f"{system} check failed: {problem}", file=sys.stderr)
    seconds = max(log.end for log in logs) - min(log.start for log in logs)
    trials = sum(len(log.trials) for log in logs)
    latencies = [ms for log in logs for ms in log.suggest_ms]
    per_trial = max((log.requests_per_trial for log in logs), default=0)
    return Measured(system, servers, trials, seconds, latencies, errors, problems, per_trial)


def ours(
    bases: list[str], key: str, method: str, args: argparse.Namespace, session: requests.Session
) -> Measured:
    """Our agents on a new sweep, split evenly between the servers at `bases`."""
    api = f"{bases[0]}/api/v1"
    body = {"project": "bench", "config": sweep_config(args.trials, method), "name": method}
    answer = session.post(f"{api}/sweeps/", json=body, timeout=30)
    answer.raise_for_status()
    sweep_id = answer.json()["id"]
    job = {"kind": "ours", "key": key, "sweep": sweep_id, "points": args.points}
    job |= {"seconds": args.seconds, "max_errors": args.max_errors, "loop": args.loop}
    jobs = [job | {"base": bases[i % len(bases)]} for i in range(args.agents)]
    logs = run_workers(jobs, args.seconds)
    system = "SweepTracker" + (f", {len(bases)} servers" if len(bases) > 1 else "")
    return summarize(system, len(bases), logs, check(session, api, sweep_id, logs))


def peer(url: str, method: str, args: argparse.Namespace) -> Measured:
    """Optuna's RDB storage on the same database: `--agents` processes share `--trials`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage, name = rdb_url(url), f"agents-{method}"
    optuna.create_study(storage=storage, study_name=name)
    share, extra = divmod(args.trials, args.agents)
    job = {"kind": "optuna", "storage": storage, "study": name, "method": method}
    job |= {"seconds": args.seconds, "max_errors": args.max_errors}
    jobs = [job | {"quota": share + (i < extra)} for i in range(args.agents)]
    logs = run_workers(jobs, args.seconds)
    return summarize("Optuna RDB", 1, logs, check_optuna(storage, name, logs, args.trials))


def measure(kind: str, args: argparse.Namespace) -> dict[str, list[Measured]]:
    """Per method: ours on one server, on two (PostgreSQL), and Optuna's RDB storage."""
    found: dict[str, list[Measured]] = {method: [] for method in args.method}
    workers = default_workers()
    with fresh_database(kind, "agents") as url:
        manage(url, "migrate", "--verbosity", "0")
        key = manage(url, "create_api_key", "bench").strip().splitlines()[-1]
        servers = [1, 2] if kind == "postgres" and not args.no_scale_out else [1]
        for count in servers:
            with ExitStack() as stack, requests.Session() as session:
                bases = [stack.enter_context(production_server(url, None)) for _ in range(count)]
                session.headers["Authorization"] = f"Bearer {key}"
                api = f"{bases[0]}/api/v1"
                if count == 1:
                    body = {"slug": "bench"}
                    session.post(f"{api}/projects/", json=body, timeout=30).raise_for_status()
                for base in bases:
                    for method in args.method:
                        warm(session, f"{base}/api/v1", workers, method)
                for method in args.method:
                    found[method].append(ours(bases, key, method, args, session))
        if not args.no_optuna:
            for method in args.method:
                found[method].append(peer(url, method, args))
    return found


def row(kind: str, method: str, m: Measured) -> str:
    once = "yes" if not m.problems else f"NO: {m.problems[0]}"
    cells = [kind, method, m.system, m.trials, f"{m.seconds:.1f}", f"{m.rate:.1f}"]
    cells += [f"{m.p50:.1f}", f"{m.p99:.1f}", f"{m.p99 / m.p50:.1f}×", len(m.errors), once]
    return "| " + " | ".join(map(str, cells)) + " |"


def targets(kind: str, method: str, found: list[Measured]) -> list[Target]:
    one = found[0]
    name = f"{kind}, {method}, {one.trials} trials"
    result = []
    optuna_run = next((m for m in found if m.system == "Optuna RDB"), None)
    if optuna_run is not None:
        speedup = one.rate / optuna_run.rate if optuna_run.rate else float("inf")
        result.append(
            Target(
                f"3. {name}: trials/s",
                f"{one.rate:.1f}",
                f"Optuna RDB {optuna_run.rate:.1f}",
                f"{speedup:.2f}×",
                f"≥ {SPEEDUP_TARGET:.0f}×",
                speedup >= SPEEDUP_TARGET,
            )
        )
    tail = one.p99 / one.p50
    peer_tail = (
        f"Optuna RDB ask {optuna_run.p50:.0f} / {optuna_run.p99:.0f} ms"
        if optuna_run is not None
        else "-"
    )
    result.append(
        Target(
            f"3. {name}: suggest p50 / p99",
            f"{one.p50:.0f} / {one.p99:.0f} ms",
            peer_tail,
            f"p99 = {tail:.1f}× p50",
            f"p99 ≤ {TAIL_TARGET:.0f}× p50",
            tail <= TAIL_TARGET,
        )
    )
    result.append(
        Target(
            f"3. {name}: errors, every trial exactly once",
            f"{len(one.errors)} errors, {'once' if not one.problems else 'NOT once'}",
            f"Optuna RDB {len(optuna_run.errors)} errors, "
            f"{'once' if not optuna_run.problems else 'NOT once'}"
            if optuna_run is not None
            else "-",
            "-",
            "0 errors, each once",
            not one.errors and not one.problems,
        )
    )
    two = next((m for m in found if m.servers == 2), None)
    if two is not None:
        result.append(
            Target(
                f"5. {name}: two servers on one database",
                f"{two.rate:.1f} trials/s, {len(two.errors)} errors, "
                f"{'each once' if not two.problems else 'NOT once'}",
                f"one server {one.rate:.1f} trials/s",
                f"{two.rate / one.rate:.2f}×",
                "no duplicate, run_cap exact",
                not two.problems and not two.errors,
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", "--workers", type=int, default=32, help="worker processes")
    parser.add_argument("--trials", "--run-cap", type=int, default=1500)
    parser.add_argument("--method", nargs="+", choices=["random", "tpe"], default=["random", "tpe"])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--loop", choices=["tell", "run"], default="tell")
    parser.add_argument("--points", type=int, default=20, help="points a trial logs (run loop)")
    parser.add_argument("--no-scale-out", action="store_true", help="skip two servers")
    parser.add_argument("--no-optuna", action="store_true", help="skip Optuna's RDB storage")
    parser.add_argument("--seconds", type=float, default=600.0, help="workers stop after this")
    parser.add_argument("--max-errors", type=int, default=20, help="per worker")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    import optuna

    print(f"Machine: {machine()}; Optuna {optuna.__version__}")
    print(
        f"gunicorn {default_workers()} workers (gunicorn.conf.py); {args.agents} worker "
        f"processes on one sweep of {args.trials} trials, 4 float parameters, loop "
        f"'{args.loop}'\n"
    )
    columns = ["database", "method", "system", "trials", "seconds", "trials/s"]
    columns += ["suggest p50 (ms)", "suggest p99 (ms)", "p99/p50", "errors", "each trial once"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    found: list[Target] = []
    requests_per_trial = set()
    for kind in args.db:
        for method, runs in measure(kind, args).items():
            for m in runs:
                print(row(kind, method, m), flush=True)
                if m.system.startswith("SweepTracker"):
                    requests_per_trial.add(m.requests_per_trial)
            found += targets(kind, method, runs)
    print(f"\nOur requests per trial: {', '.join(map(str, sorted(requests_per_trial)))}")
    print_targets(found)
    failed = [t for t in found if "exactly once" in t.name or t.name.startswith("5.")]
    sys.exit(1 if any(not t.met for t in failed) else 0)


if __name__ == "__main__":
    main()
