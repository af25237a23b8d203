"""Several agent processes on one sweep over real HTTP: exact counts, nothing twice."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from sweeps.models import Sweep, Trial
from tests.sweeps.agents import run_agent
from tests.sweeps.conftest import GRID, RANDOM

pytestmark = pytest.mark.django_db(transaction=True)


def _agents(n: int, live_url: str, key: str, sweep: Sweep, objective: str = "") -> list[dict]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(n) as pool:
        jobs = [pool.apply_async(run_agent, (live_url, key, sweep.pk, objective)) for _ in range(n)]
        return [job.get(timeout=600) for job in jobs]


def _check(outcomes: list[dict], sweep: Sweep) -> list[dict]:
    trials = [t for outcome in outcomes for t in outcome["trials"]]
    statuses = [s for outcome in outcomes for s in outcome["statuses"]]
    assert not [s for s in statuses if s >= 500]
    numbers = sorted(t["trial"] for t in trials)
    assert numbers == list(range(len(trials)))
    assert not Trial.objects.filter(sweep=sweep, state="running").exists()
    assert Trial.objects.filter(sweep=sweep).count() == len(trials)
    return trials


def test_it_hands_each_grid_point_out_once_to_8_agents(
    live_url: str, api_key: str, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep(GRID)
    trials = _check(_agents(8, live_url, api_key, sweep), sweep)
    points = {json.dumps(t["params"], sort_keys=True) for t in trials}
    assert len(trials) == len(points) == 24
    sweep.refresh_from_db()
    assert sweep.state == "finished"


def test_it_keeps_run_cap_exact_under_8_agents(
    live_url: str, api_key: str, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep({**RANDOM, "run_cap": 40})
    trials = _check(_agents(8, live_url, api_key, sweep), sweep)
    assert len(trials) == 40
    sweep.refresh_from_db()
    assert (sweep.state, sweep.trials.filter(state="complete").count()) == ("finished", 40)


AGENT_THAT_HANGS = """
import sys, time, requests
base, key, sweep = sys.argv[1:]
answer = requests.post(f"{base}/api/v1/sweeps/{sweep}/suggest/",
                       headers={"Authorization": f"Bearer {key}"})
print(answer.json()["run_id"], flush=True)
time.sleep(600)
"""


def test_it_fails_a_killed_agents_trial_and_hands_its_point_out_again(
    live_url: str, api_key: str, make_sweep: Callable[..., Sweep], settings: Any
) -> None:
    settings.HEARTBEAT_TIMEOUT = 0
    settings.SWEEP_RUN_CHECK_INTERVAL = 0
    sweep = make_sweep(GRID)
    command = [sys.executable, "-c", AGENT_THAT_HANGS, live_url, api_key, sweep.pk]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as agent:
        run_id = int(agent.stdout.readline())
        os.kill(agent.pid, signal.SIGKILL)
    first = Trial.objects.get(run_id=run_id)
    outcome = run_agent(live_url, api_key, sweep.pk, "", limit=1)
    first.refresh_from_db()
    assert (first.state, first.run.state) == ("failed", "crashed")
    assert outcome["trials"][0]["params"] == first.run.config
