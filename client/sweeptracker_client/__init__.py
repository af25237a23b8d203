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

`define_metric`, `login`, `Settings`, and W&B's media and artifact calls
(`Image`, `Table`, `Histogram`, `watch`, `save`, `Artifact`, ...) are here too;
what the server does not keep is said once per kind with a NotKeptWarning.
docs/wandb-compatibility.md lists every difference.
"""

from __future__ import annotations

from typing import Any

from sweeptracker_client import live_run
from sweeptracker_client.agents import AgentReport, TrialResult, agent
from sweeptracker_client.api import Api, Project, RunInfo
from sweeptracker_client.controller import SweepController, controller, sweep
from sweeptracker_client.errors import SweepConfigError, SweepTrackerError, SweepUnavailable
from sweeptracker_client.init_options import Settings
from sweeptracker_client.live_run import Run, define_metric, finish, init, log
from sweeptracker_client.login import login
from sweeptracker_client.mappings import Config, ConfigError, Summary
from sweeptracker_client.media import (
    Artifact,
    Audio,
    Histogram,
    Html,
    Image,
    NotKeptWarning,
    Object3D,
    Table,
    Video,
)
from sweeptracker_client.metric_defs import Metric
from sweeptracker_client.not_kept import (
    alert,
    log_artifact,
    log_code,
    log_model,
    save,
    unwatch,
    use_artifact,
    watch,
)
from sweeptracker_client.sweep_info import Suggestion, SweepInfo, SweepStats, TrialInfo

__version__ = "0.1.0"

__all__ = [
    "AgentReport",
    "Api",
    "Artifact",
    "Audio",
    "Config",
    "ConfigError",
    "Histogram",
    "Html",
    "Image",
    "Metric",
    "NotKeptWarning",
    "Object3D",
    "Settings",
    "Table",
    "Video",
    "alert",
    "define_metric",
    "log_artifact",
    "log_code",
    "log_model",
    "login",
    "save",
    "unwatch",
    "use_artifact",
    "watch",
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
    "controller",
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
