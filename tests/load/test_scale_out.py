"""Scale out: two gunicorn servers on one PostgreSQL database serve one sweep at once.

Agents (the real client, one process each) are split between the two servers, on a
random sweep and on a grid sweep with a run cap below its size: each trial number and
each grid point is handed out once, and exactly `run_cap` trials run.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from projects.models import Project
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep
from tests.faults.agents import agent_report, start_agent
from tests.faults.server import Server

pytestmark = pytest.mark.django_db(transaction=True)

AGENTS_PER_SWEEP = 3
RANDOM_CAP = 30
GRID_CAP = 20
POINTS = 2
RANDOM = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "y": {"values": ["a", "b", "c"]}},
    "run_cap": RANDOM_CAP,
}
# 36 points, 20 of them run: the cap, not the grid's end, stops the sweep.
GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"values": list(range(6))}, "y": {"values": list(range(6))}},
    "run_cap": GRID_CAP,
}
SUGGESTION = re.compile(r'"POST /api/v1/sweeps/(\w+)/suggest/ [^"]*" 201')


def served_suggestions(log: Path) -> Counter[str]:
    """How many trials of each sweep a server handed out, by its access log."""
    return Counter(SUGGESTION.findall(log.read_text()))


def check_sweep(sweep: Sweep, reports: list[dict[str, Any]]) -> None:
    sweep.refresh_from_db()
    trials = list(sweep.trials.order_by("number").values("number", "point_key", "state", "run"))
    assert [t["number"] for t in trials] == list(range(sweep.run_cap or 0))
    assert {t["state"] for t in trials} == {"complete"}
    assert len({t["run"] for t in trials}) == len(trials)
    if sweep.method == "grid":
        assert len({t["point_key"] for t in trials}) == len(trials)
    # What the agents ran is every trial, each once.
    ran = Counter(t["number"] for report in reports for t in report["trials"])
    assert ran == Counter(range(sweep.run_cap or 0))
    assert sweep.state == "finished"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="several servers on one database is the PostgreSQL deployment; SQLite is one machine",
)
def test_it_hands_out_each_trial_once_from_two_servers(
    project: Project, api_key: str, tmp_path: Path
) -> None:
    sweeps = [create_sweep(project, RANDOM), create_sweep(project, GRID)]
    env = {"WEB_CONCURRENCY": "2"}
    with (
        Server(tmp_path / "a.log", {**env, "ACCESS_LOG": str(tmp_path / "a.access")}) as a,
        Server(tmp_path / "b.log", {**env, "ACCESS_LOG": str(tmp_path / "b.access")}) as b,
    ):
        agents = [
            (sweep, start_agent(server.url, api_key, sweep.pk, POINTS, "train", tmp_path / name))
            for sweep in sweeps
            for i in range(AGENTS_PER_SWEEP)
            for server, name in [((a, b)[i % 2], f"{sweep.pk}-{i}")]
        ]
        reports = [(sweep, agent_report(agent, timeout=60)) for sweep, agent in agents]
    for sweep in sweeps:
        check_sweep(sweep, [report for of, report in reports if of == sweep])
        # Both servers handed out trials of each sweep.
        per_server = [served_suggestions(tmp_path / f"{s}.access")[sweep.pk] for s in "ab"]
        assert sum(per_server) == sweep.run_cap and min(per_server) > 0
