"""The server dies (SIGKILL) in the middle of a 4-agent sweep and starts again."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from projects.models import Project
from runs.models import MetricPoint
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep, Trial
from tests.faults.agents import agent_report, start_agent
from tests.faults.polling import wait_for
from tests.faults.server import Server
from tests.sweeps.conftest import RANDOM

pytestmark = pytest.mark.django_db(transaction=True)

POINTS = 6
RUN_CAP = 16
AGENTS = 4


def _crash_orphans(server: Server, key: str, sweep: Sweep) -> bool:
    """A suggest crashes silent runs first: a trial whose answer died with the server has
    no agent, so its heartbeat times out and it fails."""
    requests.post(
        f"{server.url}/api/v1/sweeps/{sweep.pk}/suggest/",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    return not Trial.objects.filter(sweep=sweep, state="running").exists()


def test_it_loses_and_doubles_nothing_when_the_server_is_killed_mid_sweep(
    api_key: str, project: Project, tmp_path: Path
) -> None:
    sweep = create_sweep(project, {**RANDOM, "run_cap": RUN_CAP})
    # Far above the restart's few seconds, so that only a run without an agent goes silent.
    env = {"HEARTBEAT_TIMEOUT": "8"}
    with Server(tmp_path / "server.log", env) as server:
        agents = [
            start_agent(server.url, api_key, sweep.pk, POINTS, "train", tmp_path / f"agent{i}")
            for i in range(AGENTS)
        ]
        try:
            complete = Trial.objects.filter(sweep=sweep, state="complete")
            wait_for(lambda: complete.count() >= AGENTS, "some trials to complete")
            server.kill()
            complete_at_kill = complete.count()
            server.start()
            reports = [agent_report(agent) for agent in agents]
        finally:
            for agent in agents:
                if agent.poll() is None:
                    agent.kill()
                    agent.communicate()
        wait_for(lambda: _crash_orphans(server, api_key, sweep), "no trial to be left running")

    assert complete_at_kill < RUN_CAP, "the server must die mid-sweep"
    assert {report["stop"] for report in reports} <= {"capped", "finished"}
    trials = {t.number: t for t in Trial.objects.filter(sweep=sweep).select_related("run")}
    assert sorted(trials) == list(range(RUN_CAP))
    ran = [t["number"] for report in reports for t in report["trials"]]
    assert len(ran) == len(set(ran))
    for number in ran:
        points = MetricPoint.objects.filter(run=trials[number].run)
        assert sorted(points.values_list("step", flat=True)) == list(range(POINTS))
    for number in set(trials) - set(ran):
        # Only a trial whose suggest answer was lost in the crash ran nowhere.
        assert (trials[number].state, trials[number].run.state) == ("failed", "crashed")
    sweep.refresh_from_db()
    assert sweep.state == "finished"
    assert all(trials[number].state == "complete" for number in ran)
