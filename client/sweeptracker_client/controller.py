"""Creating sweeps (`sweep()`, as `wandb.sweep`) and driving one by hand (`SweepController`)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, overload

import yaml

from sweeptracker_client import assignment, live_run, media, settings
from sweeptracker_client.agents import parse_sweep_id
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError, SweepUnavailable
from sweeptracker_client.live_run import SLUG, ensure_project
from sweeptracker_client.run_start import check_entity
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
    prior_runs: Sequence[str] | None = None,
) -> str:
    """Create a sweep and return its id, as `wandb.sweep` does.

    `sweep` is the W&B sweep config: a dict, or the path of a YAML or JSON
    file. The project is `project`, else the config's `project`, else
    SWEEPTRACKER_PROJECT (or the settings file); it is created if need be.
    Prints (on stderr) the sweep's page and the command that starts an agent, and
    first, as wandb prints its config warnings, every warning the server gave about a
    config that is valid but maybe not what was meant (`path: message`). A config
    the server refuses raises SweepConfigError (a SweepTrackerError) that
    lists every problem as `path: message`. W&B's entity is the project's owner
    here: another one raises SweepTrackerError and nothing is created.
    `prior_runs` (W&B adds those runs to the new sweep) is not kept: it warns
    once and is ignored; a warm start (`docs/sweep-config.md`) seeds a sweep instead.
    """
    if prior_runs:
        media.not_kept_call("sweep")
    config = load_config(sweep)
    found = settings.load(base_url, api_key, project or config_project(config))
    base_url, api_key = found.require("base_url"), found.require("api_key")
    project = found.require("project")
    if not SLUG.match(project):
        raise SweepTrackerError(
            f"Project names may hold only letters, digits, - and _, not {project!r}."
        )
    with Api(base_url, api_key) as api:
        check_entity(ensure_project(api, project), entity)
        info = api.create_sweep(project, config, name=name)
    print_config_warnings(info.warnings)
    # On stderr, as wandb's messages are: stdout stays free for what a script prints.
    for line in (
        f"Created sweep with ID: {info.id}",
        f"View sweep at: {info.url}",
        f"Run sweep agent with: sweeptracker agent {info.id}",
    ):
        print(f"sweeptracker: {line}", file=sys.stderr, flush=True)
    return info.id


def print_config_warnings(warnings: list[dict[str, str]]) -> None:
    """Print a new sweep's config warnings on stderr, one per line, as wandb's termwarn does."""
    if not warnings:
        return
    count = len(warnings)
    lines = [f"The sweep config has {count} warning{'s' if count > 1 else ''}: it is valid, "]
    lines[0] += "and runs as W&B reads it, but may not be what you meant."
    for warning in warnings:
        path, message = warning.get("path", ""), warning.get("message", "")
        lines.append(f"  {path}: {message}" if path else f"  {message}")
    for line in lines:
        print(f"sweeptracker: WARNING {line}", file=sys.stderr, flush=True)


class SweepController:
    """Drive a sweep by hand (ask/tell): take suggestions, report their values.

        controller = SweepController(sweep_id)
        for _ in range(20):
            params = controller.suggest()          # a mapping: params["lr"], **params
            run = wandb.init(config=params)         # joins the trial's run
            for epoch in range(params["epochs"]):
                wandb.log({"accuracy": train_one_epoch(**params)})
            wandb.finish()                          # the sweep metric ends the trial
        print(controller.get_best_params())

    Each suggestion is a run on the server. It ends as an agent's does: when the
    run that init() joined finishes, its summary's value of the sweep metric is the
    trial's value. Without a run, `report(value)` tells the value and ends it.
    """

    def __init__(
        self, sweep_id: str, base_url: str | None = None, api_key: str | None = None
    ) -> None:
        self.sweep_id = parse_sweep_id(sweep_id)[1]
        self.api = Api(base_url, api_key)
        self._latest: Suggestion | None = None
        # Trial number by run id, of the suggestions made here.
        self._numbers: dict[int, int] = {}
        self._metric_names: list[str] | None = None
        # The trial `suggest(report=...)` told, as it ended.
        self.last_reported: TrialInfo | None = None

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

    def suggest(self, wait: bool = False, report: Value | None = None) -> Suggestion:
        """The next trial to try: a mapping of its params (nested, as a run's config),
        with `.number`, `.run_id` and `.params`.

        The next `init()` in this process joins the trial's run, in the sweep's
        project, with these params in its config. Raises SweepUnavailable when the
        sweep has no trial now; with `wait`, waits while it is paused or busy
        (SWEEPTRACKER_AGENT_POLL_INTERVAL apart) and raises only when it has no more.

        `report` is the value of the trial `report(value)` would end (the current run's,
        else the latest suggestion's), told in the same request as the ask for the next
        one: one round trip per trial. `last_reported` is then that trial as it ended
        (None when the sweep answered that it has no trial now).
        """
        self.last_reported = None
        if report is not None:
            self.api.report_next(self.sweep_id, self._report_body(report))
        while True:
            try:
                suggestion = self.api.suggest(self.sweep_id)
                break
            except SweepUnavailable as error:
                if not (wait and error.retry):
                    raise
            time.sleep(settings.agent_settings().poll_interval)
        self.last_reported = self.api.last_reported
        self._latest = suggestion
        self._numbers[suggestion.run_id] = suggestion.number
        # As an agent does in function mode: init() joins this run instead of making one.
        assignment.offer(
            assignment.Assignment(
                run_id=suggestion.run_id,
                sweep_id=suggestion.sweep_id,
                params=suggestion.params,
                base_url=self.api.base_url,
                api_key=self.api.api_key,
            )
        )
        return suggestion

    @overload
    def report(self, value: Value, /, *, run_id: int | None = None) -> TrialInfo: ...

    @overload
    def report(self, trial: Suggestion | TrialInfo | int, value: Value, /) -> TrialInfo: ...

    def report(self, *args: Any, run_id: int | None = None) -> TrialInfo:
        """Tell a trial's value (a list, one per metric, for a multi-metric sweep); it ends.

        `report(value)` is for the current run's trial when init() joined one of this
        sweep's runs, else for the latest suggestion; `report(value, run_id=...)` names
        the trial by its run; `report(trial, value)` by a suggestion, TrialInfo or
        number. A run of this process that is still going is finished with the value
        in its summary, as wandb.finish() would. Reporting with nothing suggested
        raises SweepTrackerError.
        """
        if len(args) == 2 and run_id is None:
            trial, value = args
            number = trial if isinstance(trial, int) else trial.number
            return self._report(number, value, getattr(trial, "run_id", None))
        if len(args) != 1:
            raise TypeError("report() takes a value, or a trial and its value.")
        value = args[0]
        if isinstance(value, Suggestion | TrialInfo):
            raise TypeError(f"report() needs the value of trial {value.number} too.")
        number, run = self._target(run_id)
        return self._report(number, value, run)

    def _target(self, run_id: int | None) -> tuple[int, int | None]:
        """(trial number, run id) that `report(value)` is about."""
        if run_id is None:
            current = live_run.current()
            if current is not None and current.sweep_id == self.sweep_id:
                run_id = current.pk
        if run_id is not None:
            return self._number_of(int(run_id)), int(run_id)
        if self._latest is None:
            raise SweepTrackerError(
                "Nothing to report: call suggest() first, or name the trial with "
                "report(value, run_id=...) or report(trial, value)."
            )
        return self._latest.number, self._latest.run_id

    def _report_body(self, value: Value) -> dict[str, Any]:
        """What `suggest(report=value)` tells: as `report(value)`, ending this process's
        run of the trial first (so that what it logged is all sent)."""
        number, run_id = self._target(None)
        current = live_run.current()
        if run_id is not None and current is not None and current.pk == run_id:
            self._finish_with(current, value)
        told = _plain_value(value)
        if isinstance(told, list):
            return {"trial": number, "state": "complete", "values": told}
        return {"trial": number, "state": "complete", "value": told}

    def _number_of(self, run_id: int) -> int:
        if run_id in self._numbers:
            return self._numbers[run_id]
        for trial in self.api.sweep_trials(self.sweep_id):
            if trial.run_id == run_id:
                self._numbers[run_id] = trial.number
                return trial.number
        raise SweepTrackerError(f"Run {run_id} is not a trial of sweep {self.sweep_id}.")

    def _report(self, number: int, value: Value, run_id: int | None) -> TrialInfo:
        current = live_run.current()
        if run_id is not None and current is not None and current.pk == run_id:
            self._finish_with(current, value)
        trial = self.api.report(self.sweep_id, number, _plain_value(value))
        if self._latest is not None and self._latest.number == number:
            self._latest = None
        given = assignment.offered()
        if given is not None and given.run_id == trial.run_id and given.run is None:
            assignment.withdraw()  # its run has ended: a later init() makes a new one
        return trial

    def _finish_with(self, run: Any, value: Value) -> None:
        """End this process's run of the trial with the value in its summary, so that
        what it logged is all sent before the trial ends (report() then finds it so)."""
        names = self._metrics()
        values = _plain_value(value)
        values = values if isinstance(values, list) else [values]
        if len(values) != len(names):
            raise SweepTrackerError(
                f"Sweep {self.sweep_id} has {len(names)} metric(s) ({', '.join(names)}); "
                f"got {len(values)} value(s)."
            )
        for name, number in zip(names, values, strict=True):
            run.summary[name] = number
        run.finish()

    def _metrics(self) -> list[str]:
        if self._metric_names is None:
            self._metric_names = self.api.sweep_info(self.sweep_id, trials=False).metric_names
        return self._metric_names

    def fail(self, trial: Suggestion | TrialInfo | int) -> TrialInfo:
        """Tell that a trial failed: it gets no value and does not count."""
        return self.api.report(self.sweep_id, _number(trial), failed=True)

    def info(self) -> SweepInfo:
        """The sweep as it is now, with its trials."""
        return self.api.sweep_info(self.sweep_id)

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
        info = self.api.sweep_info(self.sweep_id, trials=False)
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

    def get_best_params(self) -> dict[str, Any] | None:
        """The params of the best trial so far (the specification's name of best_params())."""
        return self.best_params()


Value = float | Sequence[float]


def _plain_value(value: Value) -> float | list[float]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return float(value)
    return [float(v) for v in value]


def _number(trial: Suggestion | TrialInfo | int) -> int:
    return trial if isinstance(trial, int) else trial.number


def controller(
    sweep_id_or_config: str | SweepSource | None = None,
    entity: str | None = None,
    project: str | None = None,
) -> SweepController:
    """W&B's `wandb.controller()`: here a SweepController of the sweep (made first from a config).

    W&B's local controller (`run()`, `step()`) is not kept: the server decides
    every trial. It warns once and returns the controller for manual ask/tell.
    """
    media.not_kept_call("controller")
    if sweep_id_or_config is None:
        raise SweepTrackerError("wandb.controller() needs a sweep id or a sweep config here.")
    is_id = isinstance(sweep_id_or_config, str) and not Path(sweep_id_or_config).is_file()
    sweep_id = (
        str(sweep_id_or_config)
        if is_id
        else sweep(sweep_id_or_config, project=project, entity=entity)
    )
    return SweepController(sweep_id)
