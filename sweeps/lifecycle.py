"""Creating sweeps and moving them between states."""

from __future__ import annotations

from typing import Any, cast

import yaml
from django.db import transaction
from django.utils import timezone

from projects.models import Project
from runs.lifecycle import RunConflict, finish_run
from runs.models import RunState
from sweeps import config as sweep_config
from sweeps.config_warnings import ConfigWarning, config_warnings
from sweeps.metric_hints import unlogged_metrics
from sweeps.models import Sweep, SweepState, Trial, TrialState

# Which states each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "start": ({SweepState.PENDING}, SweepState.RUNNING),
    "pause": ({SweepState.PENDING, SweepState.RUNNING}, SweepState.PAUSED),
    "resume": ({SweepState.PAUSED}, SweepState.RUNNING),
    "finish": ({SweepState.PENDING, SweepState.RUNNING, SweepState.PAUSED}, SweepState.FINISHED),
    "cancel": ({SweepState.PENDING, SweepState.RUNNING, SweepState.PAUSED}, SweepState.CANCELED),
}


class SweepConflict(Exception):
    """The action is not legal in the sweep's current state."""

    def __init__(self, sweep: Sweep, message: str) -> None:
        super().__init__(message)
        self.state = sweep.state


def create_sweep(
    project: Project,
    config: str | dict[str, Any],
    *,
    name: str = "",
    description: str = "",
    seed: int | None = None,
    warm_start_from: Sweep | None = None,
) -> Sweep:
    """A new pending sweep; ConfigError lists every problem of a bad config.

    A bayes sweep warm-started from another sweep over the same parameters and
    metrics gives that sweep's complete trials to its sampler before its own.
    `sweep.warnings` holds what `warnings_of` said about the config.
    """
    if isinstance(config, str):
        text, raw = config, sweep_config.parse_text(config)
    else:
        text, raw = yaml.safe_dump(config, sort_keys=False), config
    normalized = sweep_config.normalize(raw)
    if warm_start_from is not None:
        check_warm_start(normalized, warm_start_from)
    sweep = Sweep(
        project=project,
        name=name or normalized.name or "sweep",
        description=description or normalized.description or "",
        method=normalized.method,
        metric=[{"name": m.name, "goal": m.goal, "target": m.target} for m in normalized.metrics],
        config_text=text,
        config=normalized.to_dict(),
        run_cap=normalized.run_cap,
        warm_start_from=warm_start_from,
        warnings=[w.as_dict() for w in warnings_of(project, cast(dict, raw), normalized)],
    )
    seed = normalized.optuna.get("seed") if seed is None else seed
    if seed is not None:
        sweep.seed = seed
    sweep.save()
    return sweep


def warnings_of(
    project: Project, raw: dict[str, Any], config: sweep_config.SweepConfig
) -> list[ConfigWarning]:
    """What to tell whoever creates this sweep: the config's warnings, then the metric's."""
    return config_warnings(raw, config) + unlogged_metrics(project, config)


def check_warm_start(config: sweep_config.SweepConfig, source: Sweep) -> None:
    source_config = sweep_config.SweepConfig.from_dict(source.config)
    problems = []
    if config.method != "bayes":
        problems.append(("warm_start_from", "only a bayes sweep can be warm-started"))
    if source_config.parameters != config.parameters:
        problems.append(("warm_start_from", f"sweep {source.pk} has other parameters"))
    if source_config.metrics != config.metrics:
        problems.append(("warm_start_from", f"sweep {source.pk} has another metric or goal"))
    if problems:
        raise sweep_config.ConfigError(problems)


def transition(sweep: Sweep, action: str) -> Sweep:
    """Apply a lifecycle action under the sweep's lock, or raise SweepConflict."""
    allowed, target = TRANSITIONS[action]
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if locked.state not in allowed:
            legal = ", ".join(sorted(allowed))
            raise SweepConflict(
                locked, f"The sweep is {locked.state}; {action} needs it to be {legal}."
            )
        move_to(locked, target)
    if action == "cancel":
        kill_running_trials(locked)
    return locked


def edit_sweep(sweep: Sweep, fields: dict[str, Any]) -> Sweep:
    """Change a sweep's name, description or run_cap under its lock (the state is not
    among them: it moves by `transition`). A cap now used up with nothing running
    finishes the sweep, as the last trial's end would have."""
    # Imported here: sweeps.results moves states with this module's move_to.
    from sweeps.results import end_if_done

    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        if "run_cap" in fields:
            end_if_done(locked)
    return Sweep.objects.select_related("project", "best_trial").get(pk=sweep.pk)


def move_to(sweep: Sweep, state: str) -> None:
    """Set the state of a sweep whose row the caller has locked."""
    now = timezone.now()
    sweep.state = state
    if state == SweepState.RUNNING and sweep.started_at is None:
        sweep.started_at = now
    if state in (SweepState.FINISHED, SweepState.FAILED, SweepState.CANCELED):
        sweep.ended_at = now
    sweep.save(update_fields=["state", "started_at", "ended_at", "updated_at"])


def kill_running_trials(sweep: Sweep) -> None:
    """Mark the runs of running trials killed; their trials fail through run_finished."""
    running = Trial.objects.filter(sweep=sweep, state=TrialState.RUNNING).select_related("run")
    for trial in running:
        if trial.run is None:
            continue
        try:
            finish_run(trial.run, state=RunState.KILLED)
        except RunConflict:
            continue
