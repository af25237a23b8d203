"""Creating sweeps (`sweep()`, as `wandb.sweep`) and driving one by hand (`SweepController`)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from sweeptracker_client import settings
from sweeptracker_client.agents import parse_sweep_id
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError, SweepUnavailable
from sweeptracker_client.live_run import SLUG, ensure_project
from sweeptracker_client.sweep_info import Suggestion, SweepInfo, TrialInfo
from sweeptracker_client.values import plain

SweepSource = Mapping[str, Any] | str | os.PathLike[str]


def load_config(source: SweepSource) -> dict[str, Any] | str:
    """A sweep config as sent to the server: a dict as is, a file's text as written.

    The text goes as written, comments and all, so that the server keeps it.
    """
    if isinstance(source, Mapping):
        config = plain(dict(source), "sweep config")
        return dict(config)
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepTrackerError(f"No sweep config file {str(path)!r}.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SweepTrackerError(f"Cannot read the sweep config {str(path)!r}: {error}") from None


def config_project(config: dict[str, Any] | str) -> str | None:
    """The `project` a config names, if any (a config the server will refuse names none)."""
    if isinstance(config, str):
        try:
            config = yaml.safe_load(config)
        except yaml.YAMLError:
            return None
    project = config.get("project") if isinstance(config, dict) else None
    return project if isinstance(project, str) and project else None


def sweep(
    sweep: SweepSource,
    project: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    name: str | None = None,
    entity: str | None = None,
) -> str:
    """Create a sweep and return its id, as `wandb.sweep` does.

    `sweep` is the W&B sweep config: a dict, or the path of a YAML or JSON
    file. The project is `project`, else the config's `project`, else
    SWEEPTRACKER_PROJECT (or the settings file); it is created if need be.
    Prints (on stderr) the sweep's page and the command that starts an agent. A config
    the server refuses raises SweepConfigError (a SweepTrackerError) that
    lists every problem as `path: message`. `entity` is accepted for wandb's
    sake and unused.
    """
    del entity  # SweepTracker has no entities; a wandb script may still pass one.
    config = load_config(sweep)
    found = settings.load(base_url, api_key, project or config_project(config))
    base_url, api_key = found.require("base_url"), found.require("api_key")
    project = found.require("project")
    if not SLUG.match(project):
        raise SweepTrackerError(
            f"Project names may hold only letters, digits, - and _, not {project!r}."
        )
    with Api(base_url, api_key) as api:
        ensure_project(api, project)
        info = api.create_sweep(project, config, name=name)
    # On stderr, as wandb's messages are: stdout stays free for what a script prints.
    for line in (
        f"Created sweep with ID: {info.id}",
        f"View sweep at: {info.url}",
        f"Run sweep agent with: sweeptracker agent {info.id}",
    ):
        print(f"sweeptracker: {line}", file=sys.stderr, flush=True)
    return info.id


class SweepController:
    """Drive a sweep by hand (ask/tell): take suggestions, report their values.

        with SweepController(sweep_id) as sweep:
            for _ in range(20):
                trial = sweep.suggest()
                sweep.report(trial, objective(**trial.params))
            print(sweep.best_params())

    Each suggestion is a run on the server; reporting a value ends it.
    """

    def __init__(
        self, sweep_id: str, base_url: str | None = None, api_key: str | None = None
    ) -> None:
        self.sweep_id = parse_sweep_id(sweep_id)[1]
        self.api = Api(base_url, api_key)

    def __enter__(self) -> SweepController:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections to the server."""
        self.api.close()

    def suggest(self, wait: bool = False) -> Suggestion:
        """The next trial to try: `.number`, `.run_id` and `.params` (nested, as a config).

        Raises SweepUnavailable when the sweep has none now; with `wait`, waits
        while it is paused or busy (SWEEPTRACKER_AGENT_POLL_INTERVAL apart) and
        raises only when it has no more at all.
        """
        while True:
            try:
                return self.api.suggest(self.sweep_id)
            except SweepUnavailable as error:
                if not (wait and error.retry):
                    raise
            time.sleep(settings.agent_settings().poll_interval)

    def report(self, trial: Suggestion | TrialInfo | int, value: float | list[float]) -> TrialInfo:
        """Tell the value of a trial (a list, one per metric, for a multi-metric sweep)."""
        return self.api.report(self.sweep_id, _number(trial), value)

    def fail(self, trial: Suggestion | TrialInfo | int) -> TrialInfo:
        """Tell that a trial failed: it gets no value and does not count."""
        return self.api.report(self.sweep_id, _number(trial), failed=True)

    def info(self) -> SweepInfo:
        """The sweep as it is now, with its trials."""
        return self.api.sweep(self.sweep_id)

    def start(self) -> SweepInfo:
        """pending -> running (the first suggestion starts a sweep too)."""
        return self.api.sweep_action(self.sweep_id, "start")

    def pause(self) -> SweepInfo:
        """No new trials until resume(); agents wait."""
        return self.api.sweep_action(self.sweep_id, "pause")

    def resume(self) -> SweepInfo:
        """Hand out trials again after pause()."""
        return self.api.sweep_action(self.sweep_id, "resume")

    def finish(self) -> SweepInfo:
        """No new trials; running ones end normally (W&B's "stop")."""
        return self.api.sweep_action(self.sweep_id, "finish")

    def cancel(self) -> SweepInfo:
        """No new trials, and running ones are killed."""
        return self.api.sweep_action(self.sweep_id, "cancel")

    def best_trial(self) -> TrialInfo | None:
        """The best complete trial so far; None before there is one."""
        info = self.api.sweep(self.sweep_id, trials=False)
        if len(info.metric) > 1:
            raise SweepTrackerError(
                f"Sweep {self.sweep_id} optimizes {len(info.metric)} metrics and has no single "
                "best trial; best_trials() gives its Pareto front."
            )
        return info.best_trial

    def best_trials(self) -> list[TrialInfo]:
        """The best trial, or the Pareto front of a multi-metric sweep."""
        return [trial for trial in self.api.sweep_trials(self.sweep_id) if trial.is_best]

    def best_params(self) -> dict[str, Any] | None:
        """The params of the best trial so far, nested as a run's config; None before one."""
        best = self.best_trial()
        return None if best is None else best.params


def _number(trial: Suggestion | TrialInfo | int) -> int:
    return trial if isinstance(trial, int) else trial.number
