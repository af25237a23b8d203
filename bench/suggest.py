"""Suggest+report per trial through our server against Optuna's own storages, in one run.

    python bench/suggest.py [--trials 1000] [--method random grid tpe gp] [--db sqlite postgres]
                            [--gp-trials 20 60] [--repeat 30] [--no-rdb]

For each database and (method, N complete trials): a sweep with 4 parameters populated
straight in the database (bench/populate.py), then per trial suggest+report over one
kept-alive connection to gunicorn with gunicorn.conf.py, the previous trial's result
folded into the next suggest where the server takes it. Beside it, in the same run,
Optuna's ask+tell with the same sampler on the same history: in memory (the sampler's
own cost) and on its RDB storage in the same database (`optuna.create_study(storage=
<the same DATABASE_URL>)`), what a distributed Optuna user runs.

`tpe` is the default `bayes` config (Optuna sampler "auto"), which is TPE from
GP_MAX_TRIALS complete trials on; `gp` is the same default config in its GP phase (below
GP_MAX_TRIALS, each N with room for the timed trials), against Optuna's in-memory
GPSampler. `grid` is a 10^4-point grid, against Optuna's GridSampler. Prints a table of
medians, then every target of the issue as "ours | peer | ratio | target | met?".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    SweepClient,
    Target,
    default_workers,
    fresh_database,
    gp_max_trials,
    machine,
    manage,
    median_ms,
    print_targets,
    production_server,
    rdb_url,
)

PARAMS = ["x1", "x2", "x3", "x4"]
# bench/populate.py's (method, optuna sampler) for each row of the table.
POPULATE = {
    "random": ("random", "random"),
    "tpe": ("bayes", "auto"),
    "grid": ("grid", "grid"),
    "gp": ("bayes", "auto"),
}
COST_TARGET_MS = 3.0
RDB_TARGET = 3.0
GP_TARGET = 1.3
optuna.logging.set_verbosity(optuna.logging.WARNING)

Case = tuple[str, int]


def objective(params: dict[str, float]) -> float:
    return float(sum((params[n] - 0.3) ** 2 for n in PARAMS))


def populate(database_url: str, method: str, trials: int) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [PYTHON, "bench/populate.py", *POPULATE[method], str(trials)]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def ours(database_url: str, cases: list[Case], repeat: int) -> tuple[dict[Case, float], str]:
    """Median ms per trial (suggest and report) for each case, one server for them all;
    and how many requests a trial took."""
    key = manage(database_url, "create_api_key", "bench").strip().splitlines()[-1]
    sweeps = {case: populate(database_url, *case) for case in cases}
    result, mode = {}, ""
    with production_server(database_url, None) as base, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        for case, sweep_id in sweeps.items():
            client = SweepClient(session, f"{base}/api/v1", sweep_id)
            last: list[dict[str, Any] | None] = [None]

            def one_trial(client: SweepClient = client, last: list[Any] = last) -> None:
                answer = client.suggest(last[0])
                answer.raise_for_status()
                trial = answer.json()
                last[0] = {"trial": trial["trial"], "value": objective(trial["params"])}

            # Twice: the worker that keeps this connection builds its kept study, and the
            # second call finds out whether the server takes a folded report.
            one_trial()
            one_trial()
            result[case] = median_ms(one_trial, repeat)
            mode = client.mode
    return result, mode


def optuna_sampler(method: str) -> optuna.samplers.BaseSampler:
    """Optuna's sampler with the options sweeps/sampling.py gives it."""
    if method == "random":
        return optuna.samplers.RandomSampler(seed=0)
    if method == "grid":
        space = {n: list(range(10)) for n in PARAMS}
        return optuna.samplers.GridSampler(space, seed=0)
    if method == "gp":
        return optuna.samplers.GPSampler(seed=0, warn_independent_sampling=False)
    return optuna.samplers.TPESampler(multivariate=True, constant_liar=True, seed=0)


def distributions(method: str) -> dict[str, optuna.distributions.BaseDistribution]:
    if method == "grid":
        return {n: optuna.distributions.CategoricalDistribution(list(range(10))) for n in PARAMS}
    return {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in PARAMS}


def optuna_study(storage: str | None, method: str, trials: int) -> optuna.Study:
    """An Optuna study holding the same complete trials as bench/populate.py's sweep."""
    name = f"bench-{method}-{trials}"
    study = optuna.create_study(storage=storage, sampler=optuna_sampler(method), study_name=name)
    rng = np.random.default_rng(0)
    if method == "grid":
        points = [{n: (i // 10**k) % 10 for k, n in enumerate(PARAMS)} for i in range(trials)]
    else:
        points = [{n: float(rng.uniform()) for n in PARAMS} for _ in range(trials)]
    dists = distributions(method)
    space = {n: list(range(10)) for n in PARAMS}
    # grid_id is how GridSampler knows a point is taken, as if it had asked for it.
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=p,
                distributions=dists,
                value=objective(p),
                system_attrs={"grid_id": i, "search_space": space} if method == "grid" else {},
            )
            for i, p in enumerate(points)
        ]
    )
    return study


def optuna_ask_tell(study: optuna.Study, method: str, repeat: int) -> float:
    dists = distributions(method)

    def ask_and_tell() -> None:
        trial = study.ask(dists)
        study.tell(trial, objective(trial.params))

    ask_and_tell()
    return median_ms(ask_and_tell, repeat)


def cell(ms: float | None) -> str:
    return f"{ms:.1f}" if ms is not None else "-"


def targets(
    kind: str, n: int, cases: list[Case], measured: dict[str, dict[Case, Any]]
) -> list[Target]:
    """The issue's targets 1, 2 and 4 for one database, from this run's medians."""
    our, memory, rdb = measured["ours"], measured["memory"], measured["rdb"]
    found = []
    for method in ("random", "grid", "tpe"):
        case = (method, n)
        if case in our:
            cost = our[case] - memory[case]
            found.append(
                Target(
                    f"1. {kind}: {method} at {n}, server cost beyond the sampler",
                    f"{our[case]:.1f} ms",
                    f"Optuna in-memory {memory[case]:.1f} ms",
                    f"{cost:+.1f} ms",
                    f"≤ {COST_TARGET_MS:.0f} ms",
                    cost <= COST_TARGET_MS,
                )
            )
    case = ("tpe", n)
    if case in our and rdb.get(case) is not None:
        speedup = rdb[case] / our[case]
        found.append(
            Target(
                f"2. {kind}: TPE suggest+report at {n}, 4 params",
                f"{our[case]:.1f} ms",
                f"Optuna RDB {rdb[case]:.1f} ms",
                f"{speedup:.2f}× faster",
                f"≥ {RDB_TARGET:.0f}× faster",
                speedup >= RDB_TARGET,
            )
        )
    for case in (c for c in cases if c[0] == "gp"):
        slower = our[case] / memory[case]
        found.append(
            Target(
                f"4. {kind}: default bayes, GP phase at {case[1]} trials",
                f"{our[case]:.1f} ms",
                f"Optuna in-memory GPSampler {memory[case]:.1f} ms",
                f"{slower:.2f}×",
                f"≤ {GP_TARGET}×",
                slower <= GP_TARGET,
            )
        )
    return found


def measure(kind: str, cases: list[Case], args: argparse.Namespace) -> dict[str, dict[Case, Any]]:
    """Ours and Optuna's RDB storage on one fresh database (Optuna's tables beside ours)."""
    with fresh_database(kind, "suggest") as url:
        manage(url, "migrate", "--verbosity", "0")
        our, mode = ours(url, cases, args.repeat)
        rdb: dict[Case, float | None] = dict.fromkeys(cases)
        if not args.no_rdb:
            for case in cases:
                if case[0] != "gp":
                    study = optuna_study(rdb_url(url), *case)
                    rdb[case] = optuna_ask_tell(study, case[0], args.repeat)
    return {"ours": our, "rdb": rdb, "mode": {case: mode for case in cases}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000])
    parser.add_argument("--method", nargs="+", default=["random", "grid", "tpe", "gp"])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--gp-trials", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-rdb", action="store_true", help="skip Optuna's RDB storage")
    args = parser.parse_args()
    with fresh_database("sqlite", "settings") as url:
        gp_max = gp_max_trials(url)
    cases = [(m, n) for m in args.method if m != "gp" for n in args.trials]
    if "gp" in args.method:
        # The timed trials must stay in the GP phase: N + warm-up + repeat < GP_MAX_TRIALS.
        room = gp_max - args.repeat - 3
        cases += [("gp", n) for n in sorted({min(n, room) for n in args.gp_trials}) if n >= 10]
    memory = {
        case: optuna_ask_tell(optuna_study(None, *case), case[0], args.repeat) for case in cases
    }
    print(f"Machine: {machine()}; Optuna {optuna.__version__}; 4 params")
    print(f"gunicorn {default_workers()} workers (gunicorn.conf.py); GP_MAX_TRIALS {gp_max}")
    print(f"Median of {args.repeat} trials, suggest and report (ms)\n")
    columns = ["database", "method", "trials", "SweepTracker (HTTP)", "Optuna in-memory"]
    columns += ["Optuna RDB", "ours − in-memory", "RDB/ours", "requests per trial"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    found = []
    for kind in args.db:
        measured = measure(kind, cases, args)
        measured["memory"] = memory
        our, rdb = measured["ours"], measured["rdb"]
        for case in cases:
            peer = rdb[case]
            row: list[object] = [kind, *case, cell(our[case]), cell(memory[case]), cell(peer)]
            row += [f"{our[case] - memory[case]:+.1f}"]
            row += [f"{peer / our[case]:.2f}×" if peer else "-"]
            row += ["1" if measured["mode"][case].startswith("one") else "2"]
            print("| " + " | ".join(map(str, row)) + " |", flush=True)
        for n in args.trials:
            found += targets(kind, n, cases, measured)
    print_targets(found)


if __name__ == "__main__":
    main()
