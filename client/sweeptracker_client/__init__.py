"""SweepTracker's client: log a training script's metrics to a SweepTracker server.

The names follow wandb's, so moving a script over means changing its import:

    import sweeptracker_client as wandb

    run = wandb.init(project="mnist", config={"lr": 0.01})
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1)})
    wandb.finish()

`run`, `config` and `summary` are those of the current run (None before init()).

Sweeps too: `sweep_id = wandb.sweep(config)` creates one, `wandb.agent(sweep_id,
function=train, count=20)` runs trials, and inside them `init()` joins the
suggested run with the params in `wandb.config`.
"""

from __future__ import annotations

from typing import Any

from sweeptracker_client import live_run
from sweeptracker_client.agents import AgentReport, TrialResult, agent
from sweeptracker_client.api import Api, Project, RunInfo
from sweeptracker_client.controller import SweepController, sweep
from sweeptracker_client.errors import SweepConfigError, SweepTrackerError, SweepUnavailable
from sweeptracker_client.live_run import Run, finish, init, log
from sweeptracker_client.mappings import Config, Summary
from sweeptracker_client.sweep_info import Suggestion, SweepInfo, SweepStats, TrialInfo

__version__ = "0.1.0"

__all__ = [
    "AgentReport",
    "Api",
    "Config",
    "Project",
    "Run",
    "RunInfo",
    "Suggestion",
    "Summary",
    "SweepConfigError",
    "SweepController",
    "SweepInfo",
    "SweepStats",
    "SweepTrackerError",
    "SweepUnavailable",
    "TrialInfo",
    "TrialResult",
    "agent",
    "config",
    "finish",
    "init",
    "log",
    "run",
    "summary",
    "sweep",
]


def __getattr__(name: str) -> Any:
    # Looked up on each access, so they follow init() and finish().
    current = live_run.current()
    if name == "run":
        return current
    if name in ("config", "summary"):
        return None if current is None else getattr(current, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
