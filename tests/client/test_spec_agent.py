"""The specification's agent flow, exactly as its contract writes it (only the import
differs): wandb.sweep(config), then wandb.agent(sweep_id, function=train, count=N)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import sweeptracker_client as wandb

from projects.models import Project
from sweeps.models import Sweep, Trial

sweep_config: dict[str, Any] = {
    "method": "bayes",
    "metric": {"name": "best_accuracy", "goal": "maximize"},
    "parameters": {
        "learning_rate": {"distribution": "log_uniform", "min": 0.0001, "max": 0.01},
        "batch_size": {"values": [16, 32, 64, 128]},
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5, "q": 0.1},
        "epochs": {"value": 20},
    },
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "run_cap": 30,
}


def epoch_accuracy(config: Any, epoch: int) -> float:
    """A made-up accuracy: rises with the epochs, best near dropout 0.2 with adam."""
    base = 0.7 - 0.3 * abs(config.dropout - 0.2) + 0.5 * math.log(config.learning_rate)
    base += {"adam": 0.05, "sgd": 0.0, "rmsprop": 0.02}[config.optimizer]
    return base * (1 - 0.6 ** (epoch + 1)) - config.batch_size / 100_000


def train() -> None:
    wandb.init()
    config = wandb.config
    best_accuracy = 0.0
    for epoch in range(config.epochs):
        accuracy = epoch_accuracy(config, epoch)
        wandb.log({"epoch": epoch, "accuracy": accuracy, "loss": 1 - accuracy})
        best_accuracy = max(best_accuracy, accuracy)
    wandb.summary["best_accuracy"] = best_accuracy
    wandb.finish()


def test_the_agent_flow_runs_as_the_contract_writes_it(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_id = wandb.sweep(sweep_config, project="spec")
    wandb.agent(sweep_id, function=train, count=6)

    sweep = Sweep.objects.get(pk=sweep_id)
    assert (sweep.project.slug, sweep.run_cap, sweep.state) == ("spec", 30, "running")
    early = sweep.config["early_terminate"]
    assert (early["type"], early["options"]["min_iter"], early["options"]["eta"]) == (
        "hyperband",
        3,
        3,
    )
    trials = list(Trial.objects.filter(sweep=sweep).select_related("run").order_by("number"))
    assert [t.number for t in trials] == list(range(6))
    for trial in trials:
        run = trial.run
        assert run is not None and run.state == "finished"
        assert trial.state == "complete"
        config = type("Config", (), run.config)
        best = max(epoch_accuracy(config, epoch) for epoch in range(20))
        assert trial.value == pytest.approx(best) == run.summary["best_accuracy"]
        assert run.points.filter(key="accuracy").count() == 20
        # W&B's meaning of log_uniform: natural-log bounds, so e^0.0001 to e^0.01.
        assert math.exp(0.0001) <= run.config["learning_rate"] <= math.exp(0.01)
    best_trial = max(trials, key=lambda t: t.value)
    assert sweep.best_trial_id == best_trial.pk
    # wandb.sweep() told the user what log_uniform means here, and how to get the other.
    assert "log_uniform_values" in capsys.readouterr().err
