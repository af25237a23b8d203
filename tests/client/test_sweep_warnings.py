"""Config warnings reach the user: `wandb.sweep(config)` and `sweeptracker sweep` print
them on stderr, W&B-style, and the sweep is created as written (live server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import cli

from projects.models import Project
from sweeps.models import Sweep
from tests.sweeps.test_config_warnings import LR_WARNING

# The specification's example as a user pastes it into a script.
SWEEP_CONFIG = {
    "method": "random",
    "metric": {"name": "best_accuracy", "goal": "maximize"},
    "parameters": {
        "learning_rate": {"distribution": "log_uniform", "min": 0.0001, "max": 0.01},
        "batch_size": {"values": [16, 32, 64, 128]},
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5, "q": 0.1},
        "epochs": {"value": 20},
    },
}
GRID_YAML = """\
method: grid
metric: {name: best_accuracy, goal: maximize}
parameters:
  learning_rate: {distribution: log_uniform, min: 0.0001, max: 0.01}
  dropout: {distribution: uniform, min: 0.0, max: 0.5, q: 0.1}
"""
PREFIX = "sweeptracker: WARNING "


def warning_lines(err: str) -> list[str]:
    return [line.removeprefix(PREFIX) for line in err.splitlines() if line.startswith(PREFIX)]


def test_wandb_sweep_prints_the_warnings(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_id = wandb.sweep(SWEEP_CONFIG, project="demo")

    captured = capsys.readouterr()
    lines = warning_lines(captured.err)
    sweep = Sweep.objects.get(pk=sweep_id)
    assert lines[0].startswith("The sweep config has 2 warnings: it is valid")
    assert lines[1] == f"  parameters.learning_rate: {LR_WARNING}"
    assert lines[2].startswith("  parameters.dropout: uniform with q is read as q_uniform")
    assert len(lines) == 3
    # Before the usual lines, and never on stdout.
    assert captured.err.index(PREFIX) < captured.err.index("Created sweep with ID")
    assert captured.out == ""
    # The sweep is W&B's reading of the config, with the warnings kept.
    assert [w["path"] for w in sweep.warnings] == [
        "parameters.learning_rate",
        "parameters.dropout",
    ]
    assert sweep.config["parameters"][0]["distribution"] == "log_uniform"


def test_wandb_sweep_prints_nothing_more_without_warnings(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {"method": "random", "parameters": {"lr": {"min": 0.001, "max": 0.1}}}

    wandb.sweep(config, project="demo")

    assert warning_lines(capsys.readouterr().err) == []


def test_cli_sweep_prints_the_warnings_and_the_id(
    client_env: str, project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(GRID_YAML)

    assert cli.main(["sweep", str(path)]) == 0

    sweep = Sweep.objects.get()
    captured = capsys.readouterr()
    assert captured.out == f"{sweep.pk}\n"  # SWEEP_ID=$(sweeptracker sweep ...) still works
    lines = warning_lines(captured.err)
    assert lines[0].startswith("The sweep config has 4 warnings")
    assert lines[1] == f"  parameters.learning_rate: {LR_WARNING}"
    assert lines[2].startswith("  parameters.learning_rate: a grid cannot enumerate log_uniform")
    assert "without max 0.5" in lines[4]
    assert [f"  {w['path']}: {w['message']}" for w in sweep.warnings] == lines[1:]
