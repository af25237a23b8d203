"""The specification's SweepController, used exactly as its contract writes it: only the
import differs. Checked against the live server, results read back with the ORM."""

from __future__ import annotations

import math
from typing import Any

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepController

from projects.models import Project
from runs.models import Run
from sweeps.models import Sweep, Trial

# The specification's parameter block, as a user pastes it.
PARAMETERS: dict[str, Any] = {
    "learning_rate": {"distribution": "log_uniform", "min": 0.0001, "max": 0.01},
    "batch_size": {"values": [16, 32, 64, 128]},
    "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
    "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5, "q": 0.1},
    "epochs": {"value": 20},
}
CONFIG: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "parameters": PARAMETERS,
}


def accuracy(
    learning_rate: float, batch_size: int, optimizer: str, dropout: float, epoch: int, **_: Any
) -> float:
    """A made-up validation accuracy that grows with the epochs."""
    base = 0.6 + 0.2 * math.tanh(50 * (learning_rate - 1.0)) - 0.1 * abs(dropout - 0.2)
    base += {"adam": 0.05, "sgd": 0.0, "rmsprop": 0.02}[optimizer] + batch_size / 12_800
    return base * (1 - 0.5 ** (epoch + 1))


def test_it_runs_the_manual_flow_with_init_log_and_finish(
    client_env: str, project: Project
) -> None:
    sweep_id = wandb.sweep(CONFIG, project="vision")
    controller = SweepController(sweep_id)
    seen = {}
    for _ in range(4):
        params = controller.suggest()
        run = wandb.init(config=params)
        for epoch in range(params["epochs"]):
            wandb.log({"val_accuracy": accuracy(**params, epoch=epoch)})
        wandb.finish()
        seen[params.number] = (run.pk, dict(params))
    best = controller.get_best_params()

    sweep = Sweep.objects.get(pk=sweep_id)
    trials = list(Trial.objects.filter(sweep=sweep).select_related("run").order_by("number"))
    assert [t.number for t in trials] == [0, 1, 2, 3]
    for trial in trials:
        run_pk, params = seen[trial.number]
        assert trial.run_id == run_pk  # init() joined the suggested run, made no other
        assert trial.run.project.slug == "vision"  # the sweep's project, not "demo"
        assert trial.run.state == "finished"
        assert trial.state == "complete"
        assert trial.value == pytest.approx(accuracy(**params, epoch=19))
        assert trial.run.config["learning_rate"] == params["learning_rate"]
    top = max(trials, key=lambda t: t.value)
    assert top.is_best and best == seen[top.number][1]
    assert best == controller.best_params()
    assert not Run.objects.filter(project__slug="demo").exists()
    controller.close()


def test_a_suggestion_is_a_mapping_that_still_says_which_trial_it_is(
    client_env: str, project: Project
) -> None:
    with SweepController(wandb.sweep(CONFIG)) as controller:
        params = controller.suggest()

        def train(learning_rate: float, dropout: float, **rest: Any) -> tuple[float, float]:
            return learning_rate, dropout

        assert train(**params) == (params["learning_rate"], params["dropout"])
        assert dict(params) == params.params and params == params.params
        assert set(params) == {"learning_rate", "batch_size", "optimizer", "dropout", "epochs"}
        assert len(params) == 5 and "dropout" in params
        assert params["dropout"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
        assert params.number == 0
        assert Trial.objects.get(sweep_id=params.sweep_id, number=0).run_id == params.run_id
        controller.report(0.5)


def test_report_value_ends_the_latest_suggestion(client_env: str, project: Project) -> None:
    with SweepController(wandb.sweep(CONFIG)) as controller:
        first = controller.suggest()
        second = controller.suggest()

        told = controller.report(0.75)
        by_run = controller.report(0.25, run_id=first.run_id)

    assert (told.number, told.state, told.value) == (second.number, "complete", 0.75)
    assert (by_run.number, by_run.value) == (first.number, 0.25)
    rows = Trial.objects.filter(sweep_id=first.sweep_id).order_by("number")
    assert [(t.state, t.value) for t in rows] == [("complete", 0.25), ("complete", 0.75)]
    assert rows[1].is_best


def test_report_value_ends_the_current_runs_trial_with_what_it_logged(
    client_env: str, project: Project
) -> None:
    with SweepController(wandb.sweep(CONFIG)) as controller:
        params = controller.suggest()
        run = wandb.init(config=params)
        for epoch in range(3):
            wandb.log({"val_accuracy": 0.1 * epoch, "loss": 1.0 - 0.1 * epoch})

        trial = controller.report(0.9)

        assert run.finished and wandb.run is None
        # The run's own end carried the value: a second report of it changes nothing.
        assert controller.report(trial, 0.9).state == "complete"
    row = Trial.objects.select_related("run").get(sweep_id=params.sweep_id, number=params.number)
    assert (row.state, row.value) == ("complete", 0.9)
    assert row.run.state == "finished" and row.run.summary["val_accuracy"] == 0.9
    assert row.run.points.filter(key="loss").count() == 3


def test_report_trial_value_keeps_working(client_env: str, project: Project) -> None:
    with SweepController(wandb.sweep(CONFIG)) as controller:
        a, b = controller.suggest(), controller.suggest()

        controller.report(a, 0.3)
        controller.report(b.number, 0.4)

        assert controller.get_best_params() == b.params


def test_reporting_with_nothing_suggested_is_a_clear_error(
    client_env: str, project: Project
) -> None:
    with SweepController(wandb.sweep(CONFIG)) as controller:
        with pytest.raises(wandb.SweepTrackerError, match="Nothing to report: call suggest"):
            controller.report(0.5)
        trial = controller.suggest()
        controller.report(0.5)
        with pytest.raises(wandb.SweepTrackerError, match="Nothing to report"):
            controller.report(0.6)  # the latest suggestion was reported already
        with pytest.raises(wandb.SweepTrackerError, match="is not a trial of sweep"):
            controller.report(0.5, run_id=trial.run_id + 1000)
        with pytest.raises(TypeError, match="needs the value of trial 0"):
            controller.report(trial)  # type: ignore[call-overload]


def test_init_after_a_report_makes_an_ordinary_run(client_env: str, project: Project) -> None:
    with SweepController(wandb.sweep(CONFIG, project="vision")) as controller:
        params = controller.suggest()
        controller.report(0.5)

        run = wandb.init(config={"lr": 0.1})
        run.finish()

    assert run.pk != params.run_id
    assert Run.objects.get(pk=run.pk).project.slug == "demo"
