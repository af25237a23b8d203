"""bench/optuna_peer.py, tiny: Optuna's RDB storage under bench/load.py's load is checked
as ours is (every trial complete once, every intermediate value stored)."""

from __future__ import annotations

from pathlib import Path

import optuna

from bench.agents import curve
from bench.optuna_peer import PARAMS, StudyLoad, check, run_peer


def test_it_runs_the_load_on_optunas_storage_and_checks_it(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.sqlite3'}"
    # gp_max 0: TPE from the first trial, so that no worker loads torch for the GP.
    peer = run_peer(storage, {"random": 3, "bayes": 4}, 2, 4, gp_max=0, seconds=120)

    assert [(s.method, s.trials, s.problems, s.errors) for s in peer.studies] == [
        ("random", 3, [], []),
        ("bayes", 4, [], []),
    ]
    assert [(s.stored, s.lost) for s in peer.studies] == [(12, 0), (16, 0)]
    assert peer.seconds > 0 and all(len(s.ask_ms) == s.trials for s in peer.studies)


def test_its_check_finds_a_lost_intermediate_value(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.sqlite3'}"
    study = optuna.create_study(storage=storage, study_name="load-random")
    dist = optuna.distributions.FloatDistribution(0.0, 1.0)
    trial = study.ask({name: dist for name in PARAMS})
    values = curve(trial.params, 2)
    trial.report(values[0], 0)  # step 1 never reported
    study.tell(trial, values[-1])
    found = StudyLoad("load-random", "random", 1)

    check(storage, found, points=2)

    assert (found.stored, found.lost) == (1, 1)
    assert found.problems == ["1 intermediate values lost"]
