"""wandb.sweep / wandb.agent / wandb.controller as W&B scripts call them, entity included."""

from __future__ import annotations

from typing import Any

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepController, SweepTrackerError
from sweeptracker_client.media import NotKeptWarning

from projects.models import Project
from sweeps.models import Sweep

CONFIG: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.01]}},
    "run_cap": 2,
}


def train() -> None:
    wandb.init()
    wandb.log({"loss": wandb.config.lr})
    wandb.finish()


def test_it_takes_the_owner_as_entity_in_sweep_and_agent(client_env: str, project: Project) -> None:
    sweep_id = wandb.sweep(CONFIG, entity="alice", project="demo")

    report = wandb.agent(f"alice/demo/{sweep_id}", function=train, count=2, entity="alice")

    assert len(report.trials) == 2
    assert Sweep.objects.get(pk=sweep_id).trials.filter(state="complete").count() == 2


def test_it_refuses_another_entity_before_making_anything(
    client_env: str, project: Project
) -> None:
    with pytest.raises(SweepTrackerError, match="entity='bob'.*'alice'"):
        wandb.sweep(CONFIG, entity="bob", project="demo")
    assert not Sweep.objects.exists()

    sweep_id = wandb.sweep(CONFIG, project="demo")
    with pytest.raises(SweepTrackerError, match="entity='bob'"):
        wandb.agent(f"bob/demo/{sweep_id}", function=train, count=1)
    assert not Sweep.objects.get(pk=sweep_id).trials.exists()


def test_it_warns_that_prior_runs_are_not_added(client_env: str, project: Project) -> None:
    with pytest.warns(NotKeptWarning, match="prior_runs"):
        sweep_id = wandb.sweep(CONFIG, project="demo", prior_runs=["abc123"])
    assert Sweep.objects.filter(pk=sweep_id).exists()


def test_controller_gives_a_sweep_controller(client_env: str, project: Project) -> None:
    sweep_id = wandb.sweep(CONFIG, project="demo")

    with pytest.warns(NotKeptWarning, match="local controller"):
        made = wandb.controller(sweep_id)

    assert isinstance(made, SweepController)
    params = made.suggest()
    made.report(0.5)
    trial = Sweep.objects.get(pk=sweep_id).trials.get(number=params.number)
    assert (trial.state, trial.value) == ("complete", 0.5)
