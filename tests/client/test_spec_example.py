"""examples/sweep_example.py runs both flows against a live server, as its docstring says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from projects.models import Project
from sweeps.models import Sweep, Trial

ROOT = Path(__file__).resolve().parents[2]


def test_the_sweep_example_runs_both_flows(client_env: str, project: Project) -> None:
    done = subprocess.run(
        [sys.executable, "examples/sweep_example.py", "--trials", "3", "--project", "example"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr
    agent_id = re.search(r"agent sweep: (\w+)", done.stdout).group(1)  # type: ignore[union-attr]
    manual_id = re.search(r"controller sweep: (\w+)", done.stdout).group(1)  # type: ignore[union-attr]
    agent, manual = Sweep.objects.get(pk=agent_id), Sweep.objects.get(pk=manual_id)
    assert (agent.method, manual.method, agent.project.slug) == ("bayes", "random", "example")
    for sweep, count in ((agent, 3), (manual, 4)):
        trials = list(Trial.objects.filter(sweep=sweep).select_related("run"))
        assert len(trials) == count
        assert all(t.state == "complete" and t.value is not None for t in trials)
        assert all(t.run.project.slug == "example" for t in trials)  # type: ignore[union-attr]
        for trial in trials[:3]:
            run = trial.run
            assert run is not None and run.points.filter(key="accuracy").count() == 20
            assert trial.value == run.summary["best_accuracy"]
    best = Trial.objects.get(sweep=manual, is_best=True)
    assert f"best params: {best.run.config}" in done.stdout  # type: ignore[union-attr]
    # The example's config says what it means: no natural-log bounds, no q on uniform.
    assert "natural-log" not in done.stderr and "uniform with q" not in done.stderr
