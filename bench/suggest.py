"""Suggest+report latency through our server against Optuna's own storages, in one run.

    python bench/suggest.py [--trials 1000] [--repeat 30] [--db sqlite postgres]

For each database: a sweep (TPE, 4 float parameters) with N complete trials; then
suggest+report over HTTP to gunicorn with the production settings; beside it, in the
same run, Optuna's ask+tell on in-memory storage (the compute floor) and on its RDB
storage over the same kind of database. Prints medians and ratios.
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
optuna.logging.set_verbosity(optuna.logging.WARNING)


def populate(database_url: str, method: str, sampler: str, trials: int) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [PYTHON, "bench/populate.py", method, sampler, str(trials)]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def ours(database_url: str, trials: int, repeat: int) -> float:
    manage(database_url, "migrate", "--verbosity", "0")
    key = manage(database_url, "create_api_key", "bench").strip().splitlines()[-1]
    sweep_id = populate(database_url, "bayes", "tpe", trials)
    with production_server(database_url) as base, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        url = f"{base}/api/v1/sweeps/{sweep_id}"

        def suggest_and_report() -> None:
            trial = session.post(f"{url}/suggest/").json()
            value = sum((trial["params"][n] - 0.3) ** 2 for n in PARAMS)
            answer = session.post(f"{url}/report/", json={"trial": trial["trial"], "value": value})
            answer.raise_for_status()

        suggest_and_report()  # warm the worker
        return median_ms(suggest_and_report, repeat)


def optuna_study(storage: object, trials: int) -> optuna.Study:
    sampler = optuna.samplers.TPESampler(multivariate=True, constant_liar=True, seed=0)
    study = optuna.create_study(storage=storage, sampler=sampler, study_name="bench")
    dists = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in PARAMS}
    rng = np.random.default_rng(0)
    points = [{n: float(rng.uniform()) for n in PARAMS} for _ in range(trials)]
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=p, distributions=dists, value=sum((v - 0.3) ** 2 for v in p.values())
            )
            for p in points
        ]
    )
    return study


def optuna_ask_tell(study: optuna.Study, repeat: int) -> float:
    dists = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in PARAMS}

    def ask_and_tell() -> None:
        trial = study.ask(dists)
        study.tell(trial, sum((trial.params[n] - 0.3) ** 2 for n in PARAMS))

    ask_and_tell()
    return median_ms(ask_and_tell, repeat)


def rdb_url(database_url: str) -> str:
    return database_url.replace("postgres://", "postgresql+psycopg://")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    memory = optuna_ask_tell(optuna_study(None, args.trials), args.repeat)
    print(f"Machine: {machine()}; Optuna {optuna.__version__}; TPE, 4 params")
    print(f"{args.trials} complete trials, median of {args.repeat} suggest+report (ms)\n")
    columns = ["database", "SweepTracker (HTTP)", "Optuna in-memory", "Optuna RDB"]
    columns += ["ours/in-memory", "RDB/ours"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for kind in args.db:
        with fresh_database(kind, "st_bench_ours") as url:
            our_ms = ours(url, args.trials, args.repeat)
        with fresh_database(kind, "st_bench_optuna") as url:
            rdb_ms = optuna_ask_tell(optuna_study(rdb_url(url), args.trials), args.repeat)
        print(
            f"| {kind} | {our_ms:.1f} | {memory:.1f} | {rdb_ms:.1f} "
            f"| {our_ms / memory:.2f}x | {rdb_ms / our_ms:.2f}x |"
        )


if __name__ == "__main__":
    main()
