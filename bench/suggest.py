"""Suggest+report latency through our server against Optuna's own storages, in one run.

    python bench/suggest.py [--trials 100 1000 5000] [--method random tpe grid gp]
                            [--db sqlite postgres] [--repeat 30] [--no-rdb]

For each database and each (method, N complete trials): a sweep with 4 parameters
populated straight in the database (bench/populate.py), then suggest+report over HTTP to
gunicorn with the production settings; beside it, in the same run, Optuna's ask+tell with
the same sampler on in-memory storage (the compute floor) and on its RDB storage over the
same kind of database. `tpe` is the default `bayes` config (Optuna sampler "auto"), which
picks TPE from GP_MAX_TRIALS complete trials on; `gp` compares our GP suggestion with
Optuna's in-memory GPSampler on the same history (Optuna RDB is skipped there). Prints
medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    fresh_database,
    machine,
    manage,
    median_ms,
    production_server,
)

PARAMS = ["x1", "x2", "x3", "x4"]
GP_TRIALS = 50
# bench/populate.py's (method, optuna sampler) for each row of the table.
POPULATE = {
    "random": ("random", "random"),
    "tpe": ("bayes", "auto"),
    "grid": ("grid", "grid"),
    "gp": ("bayes", "gp"),
}
optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(params: dict[str, float]) -> float:
    return float(sum((params[n] - 0.3) ** 2 for n in PARAMS))


def populate(database_url: str, method: str, trials: int) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [PYTHON, "bench/populate.py", *POPULATE[method], str(trials)]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def ours(database_url: str, cases: list[tuple[str, int]], repeat: int) -> dict:
    """Median ms per suggest+report for each (method, trials), one server for them all."""
    manage(database_url, "migrate", "--verbosity", "0")
    key = manage(database_url, "create_api_key", "bench").strip().splitlines()[-1]
    sweeps = {case: populate(database_url, *case) for case in cases}
    result = {}
    with production_server(database_url) as base, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        for case, sweep_id in sweeps.items():
            url = f"{base}/api/v1/sweeps/{sweep_id}"

            def suggest_and_report(url: str = url) -> None:
                answer = session.post(f"{url}/suggest/")
                answer.raise_for_status()
                trial = answer.json()
                value = objective(trial["params"])
                answer = session.post(
                    f"{url}/report/", json={"trial": trial["trial"], "value": value}
                )
                answer.raise_for_status()

            # Twice: every gunicorn worker that may answer builds its cached study first.
            suggest_and_report()
            suggest_and_report()
            result[case] = median_ms(suggest_and_report, repeat)
    return result


def optuna_sampler(method: str) -> optuna.samplers.BaseSampler:
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


def optuna_study(storage: object, method: str, trials: int) -> optuna.Study:
    name = f"bench-{method}-{trials}"
    study = optuna.create_study(storage=storage, sampler=optuna_sampler(method), study_name=name)
    rng = np.random.default_rng(0)
    if method == "grid":
        points = [{n: (i // 10**k) % 10 for k, n in enumerate(PARAMS)} for i in range(trials)]
    else:
        points = [{n: float(rng.uniform()) for n in PARAMS} for _ in range(trials)]
    dists = distributions(method)
    # grid_id is how GridSampler knows a point is taken, as if it had asked for it.
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=p,
                distributions=dists,
                value=objective(p),
                system_attrs={"grid_id": i, "search_space": {n: list(range(10)) for n in PARAMS}}
                if method == "grid"
                else {},
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


def rdb_url(database_url: str) -> str:
    return database_url.replace("postgres://", "postgresql+psycopg://")


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def cell(ms: float | None) -> str:
    return f"{ms:.1f}" if ms else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--method", nargs="+", default=["random", "tpe", "grid", "gp"])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-rdb", action="store_true", help="skip Optuna's RDB storage")
    args = parser.parse_args()
    cases = [(m, n) for m in args.method if m != "gp" for n in args.trials]
    if "gp" in args.method:
        cases.append(("gp", GP_TRIALS))
    memory = {
        case: optuna_ask_tell(optuna_study(None, *case), case[0], args.repeat) for case in cases
    }
    print(f"Machine: {machine()}; Optuna {optuna.__version__}; 4 params")
    print(f"Median of {args.repeat} suggest+report (ms)\n")
    columns = ["database", "method", "trials", "SweepTracker (HTTP)", "Optuna in-memory"]
    columns += ["Optuna RDB", "ours/in-memory", "RDB/ours"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for kind in args.db:
        with fresh_database(kind, "st_bench_ours") as url:
            our = ours(url, cases, args.repeat)
        rdb: dict[tuple[str, int], float | None] = dict.fromkeys(cases)
        if not args.no_rdb:
            with fresh_database(kind, "st_bench_optuna") as url:
                for case in cases:
                    if case[0] != "gp":
                        study = optuna_study(rdb_url(url), *case)
                        rdb[case] = optuna_ask_tell(study, case[0], args.repeat)
        for case in cases:
            row: list[object] = [kind, *case, cell(our[case]), cell(memory[case])]
            row += [cell(rdb[case]), ratio(our[case], memory[case]), ratio(rdb[case], our[case])]
            print("| " + " | ".join(map(str, row)) + " |", flush=True)


if __name__ == "__main__":
    main()
