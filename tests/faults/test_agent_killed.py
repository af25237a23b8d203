"""An agent dies (SIGKILL) during its trial: the run goes silent, the grid point comes back."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from projects.models import Project
from runs.models import MetricPoint
from sweeps.lifecycle import create_sweep
from sweeps.models import Trial
from tests.faults.agents import agent_report, start_agent
from tests.faults.polling import wait_for
from tests.faults.server import Server

pytestmark = pytest.mark.django_db(transaction=True)

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"optimizer": {"values": ["adam", "sgd", "rmsprop"]}},
}


def test_it_fails_a_killed_agents_trial_and_completes_its_point_elsewhere(
    api_key: str, project: Project, tmp_path: Path
) -> None:
    sweep = create_sweep(project, GRID)
    with Server(tmp_path / "server.log", {"HEARTBEAT_TIMEOUT": "2"}) as server:
        doomed = start_agent(server.url, api_key, sweep.pk, 3, "hang", tmp_path / "doomed")
        try:
            # Its trial runs once its first point is stored (it then hangs in the function).
            point = wait_for(
                lambda: MetricPoint.objects.filter(run__trial__sweep=sweep).first(),
                "a logged point",
            )
        finally:
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.communicate()
        killed = Trial.objects.get(run_id=point.run_id)
        assert killed.state == "running"
        second = start_agent(server.url, api_key, sweep.pk, 3, "train", tmp_path / "second")
        report = agent_report(second)

    killed.refresh_from_db()
    assert (killed.state, killed.run.state) == ("failed", "crashed")
    assert report["stop"] == "exhausted"
    assert all(trial["state"] == "complete" for trial in report["trials"])
    complete = Trial.objects.filter(sweep=sweep, state="complete")
    points = [json.dumps(params, sort_keys=True) for params in complete.values_list("params")]
    assert len(points) == len(set(points)) == 3
    assert killed.params in [params for (params,) in complete.values_list("params")]
    sweep.refresh_from_db()
    assert sweep.state == "finished"
