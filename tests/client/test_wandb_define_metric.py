"""define_metric as W&B's docs use it: summaries and custom step axes, checked on the server."""

from __future__ import annotations

from pathlib import Path

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepTrackerError

from runs.models import MetricPoint
from runs.models import Run as RunRow
from sweeps.models import Sweep
from tests.client.scripts import printed, run_script

# W&B's "Customize log axes" and "Summary" examples, one after the other.
SCRIPT = """
    import json

    import sweeptracker_client as wandb

    wandb.init(project="demo")
    # define our custom x axis metric
    wandb.define_metric("custom_step")
    # define which metrics will be plotted against it
    wandb.define_metric("validation_loss", step_metric="custom_step")
    wandb.define_metric("train/*", step_metric="train/step")
    wandb.define_metric("loss", summary="min")
    wandb.define_metric("acc", summary="max")
    wandb.define_metric("lr", summary="none")

    for i in range(10):
        log_dict = {
            "train_loss": 1 / (i + 1),
            "custom_step": i**2,
            "loss": abs(5 - i),
            "acc": i / 10,
            "lr": 0.1,
            "train/step": 100 * i,
        }
        wandb.log(log_dict)
        if i % 3 == 0:
            # Logged without its step metric: W&B adds custom_step's last value.
            wandb.log({"validation_loss": 1 / (i + 1), "train/loss": 0.5})
    print("RESULT " + json.dumps({"id": wandb.run.id, "summary": dict(wandb.summary)}))
    wandb.finish()
"""


def test_it_keeps_wandbs_summaries_and_step_axes(client_env: str, tmp_path: Path) -> None:
    done = run_script(SCRIPT, tmp_path)

    assert done.returncode == 0, done.stderr
    row = RunRow.objects.get(pk=int(printed(done)["id"]))
    assert row.summary["loss"] == {"min": 0}
    assert row.summary["acc"] == {"max": 0.9}
    assert "lr" not in row.summary
    assert row.summary["train_loss"] == pytest.approx(0.1)
    assert printed(done)["summary"]["loss"] == {"min": 0}
    definitions = row.metric_definitions
    assert definitions["validation_loss"]["step_metric"] == "custom_step"
    assert definitions["loss"]["summary"] == "min"
    assert definitions["train/*"]["step_metric"] == "train/step"
    assert definitions["train/loss"]["step_metric"] == "train/step"
    # Each validation row got the step metrics' last values, those of the row before it.
    for key, step_metric in (("validation_loss", "custom_step"), ("train/loss", "train/step")):
        steps = list(MetricPoint.objects.filter(run=row, key=key).values_list("step", flat=True))
        assert sorted(steps) == [1, 5, 9, 13]
        axis = dict(
            MetricPoint.objects.filter(run=row, key=step_metric).values_list("step", "value")
        )
        assert all(axis[step] == axis[step - 1] for step in steps)
    assert not MetricPoint.objects.filter(run=row, key="train_loss", step__in=[1, 5, 9, 13])


def test_every_summary_kind(client_env: str) -> None:
    run = wandb.init()
    run.define_metric("x", summary="min,max,mean,first,last")
    run.define_metric("x", hidden=True)
    run.define_metric("val/*", summary="best", goal="maximize")
    run.define_metric("y", summary="min")
    run.define_metric("y", summary="max")  # merged: min and max
    run.define_metric("z", summary="min")
    run.define_metric("z", summary="last", overwrite=True)  # replaced
    for value in (3, 1, 2):
        run.log({"x": value, "val/acc": value / 10, "y": value, "z": value})
    run.summary["x_by_hand"] = 7
    run.finish()

    row = RunRow.objects.get(pk=run.pk)
    assert row.metric_definitions["x"]["hidden"] is True
    assert row.metric_definitions["val/*"]["goal"] == "maximize"
    summary = row.summary
    assert summary["x"] == {"min": 1, "max": 3, "mean": 2.0, "first": 3, "last": 2}
    assert summary["val/acc"] == {"best": 0.3}
    assert summary["y"] == {"min": 1, "max": 3}
    assert summary["z"] == {"last": 2}
    assert summary["x_by_hand"] == 7


def test_it_refuses_what_wandb_refuses(client_env: str) -> None:
    run = wandb.init()
    with pytest.raises(SweepTrackerError, match="summary op: median"):
        run.define_metric("loss", summary="median")
    with pytest.raises(SweepTrackerError, match="glob suffixes only"):
        run.define_metric("a*b")
    with pytest.raises(SweepTrackerError, match="goal"):
        run.define_metric("loss", goal="lowest")
    metric = wandb.define_metric("loss", summary="min", goal="min")
    assert (metric.name, metric.summary, metric.goal, metric.step_sync) == (
        "loss",
        ("min",),
        "minimize",
        False,
    )
    run.finish()
    with pytest.raises(SweepTrackerError, match="init"):
        wandb.define_metric("loss")
    with pytest.raises(SweepTrackerError, match="init"):
        wandb.log({"loss": 1.0})


def test_a_sweep_takes_the_extremum_its_goal_asks_for(client_env: str) -> None:
    """A sweep metric with define_metric(summary="min"): the trial's value is that minimum."""
    config = {
        "method": "random",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.1]}},
        "run_cap": 1,
    }

    def train() -> None:
        wandb.init()
        wandb.define_metric("val_loss", summary="min")
        for loss in (0.9, 0.2, 0.5):
            wandb.log({"val_loss": loss})
        wandb.finish()

    sweep_id = wandb.sweep(config, project="demo")
    wandb.agent(sweep_id, function=train, count=1)

    trial = Sweep.objects.get(pk=sweep_id).trials.get()
    assert (trial.state, trial.value) == ("complete", 0.2)
    assert trial.run.summary["val_loss"] == {"min": 0.2}
