"""The example sweeps are valid, and train.py runs under an agent as the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sweeptracker_client as st

from projects.models import Project
from sweeps.models import Sweep, Trial

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("sweep-*.yaml"))


def test_there_is_an_example_of_each_kind() -> None:
    names = [path.stem for path in EXAMPLES]
    assert names == ["sweep-bayes", "sweep-grid", "sweep-hyperband", "sweep-random"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_server_accepts_the_example(client_env: str, project: Project, path: Path) -> None:
    sweep_id = st.sweep(path)

    sweep = Sweep.objects.get(pk=sweep_id)
    assert (sweep.project.slug, sweep.config["program"]) == ("spirals", "examples/train.py")


def test_train_py_runs_under_an_agent_from_the_repository_root(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep(ROOT / "examples" / "sweep-grid.yaml")

    done = subprocess.run(
        [sys.executable, "-m", "sweeptracker_client", "agent", sweep_id, "--count", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    trials = Trial.objects.filter(sweep_id=sweep_id).select_related("run")
    assert [t.state for t in trials] == ["complete", "complete"]
    for trial in trials:
        run = trial.run
        assert run is not None and run.config["learning_rate"] == trial.params["learning_rate"]
        assert run.points.filter(key="val_accuracy").count() == run.config["epochs"]
        assert trial.value == run.summary["val_accuracy"]
