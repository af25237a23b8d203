"""Asking Optuna for parameters. The only module that imports optuna.

The database rows are the study: each suggestion builds an in-memory Optuna
study from the sweep's trials and asks its sampler once.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import optuna
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState as OptunaState
from optuna.trial import create_trial

from runs.lifecycle import RunConflict, finish_run
from runs.models import Run, RunState
from sweeps import distributions, space
from sweeps.config import SweepConfig
from sweeps.distributions import point_key
from sweeps.lifecycle import move_to
from sweeps.models import Sweep, SweepState, Trial, TrialState
from sweeps.results import end_if_done

# One thread per GP fit: several server workers share two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass(frozen=True)
class Suggestion:
    params: dict[str, Any]  # flat, keyed by Param.name
    internal: dict[str, Any]  # Optuna's coordinates, to rebuild the study later
    point_key: str = ""


def optuna_distributions(config: SweepConfig) -> dict[str, BaseDistribution]:
    """Optuna's view of every parameter that varies."""
    result: dict[str, BaseDistribution] = {}
    for param in config.parameters:
        if param.distribution == "constant":
            continue
        kind, args = space.optuna_kind(param)
        if kind == "categorical":
            result[param.name] = CategoricalDistribution(list(range(args[0])))
        elif kind == "int":
            result[param.name] = IntDistribution(args[0], args[1])
        else:
            result[param.name] = FloatDistribution(args[0], args[1], log=args[2])
    return result


def _sampler(config: SweepConfig, seed: int, n_complete: int) -> optuna.samplers.BaseSampler:
    options = config.optuna or {}
    name = options.get("sampler", "auto")
    startup = options.get("n_startup_trials", 10)
    extra = dict(options.get("options", {}))
    if name == "auto":
        small = n_complete < settings.GP_MAX_TRIALS and not config.multi_objective
        name = "gp" if small else "tpe"
    if name == "gp":
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=startup, warn_independent_sampling=False, **extra
        )
    if name == "tpe":
        extra.setdefault("multivariate", True)
        extra.setdefault("constant_liar", True)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, **extra)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=startup, warn_independent_sampling=False, **extra
        )
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False, **extra)
    return optuna.samplers.RandomSampler(seed=seed)


def _imputed(config: SweepConfig, how: str, complete: list[list[float]]) -> list[float] | None:
    """The stand-in value W&B's `impute` asks for, from the complete trials' values."""
    if not complete or how in ("false", ""):
        return None
    result = []
    for i, metric in enumerate(config.metrics):
        column = [values[i] for values in complete]
        worst = max(column) if metric.goal == "minimize" else min(column)
        best = min(column) if metric.goal == "minimize" else max(column)
        result.append(best if how == "best" else worst)
    return result


def _frozen(
    trial: Trial, dists: dict[str, BaseDistribution], stand_in: list[float] | None
) -> optuna.trial.FrozenTrial | None:
    params = {name: trial.internal[name] for name in dists if name in trial.internal}
    if len(params) != len(dists):
        return None
    used = {name: dists[name] for name in params}
    objective = trial.objective
    if trial.state == TrialState.COMPLETE and objective:
        return create_trial(params=params, distributions=used, values=objective)
    if trial.state == TrialState.PRUNED and objective:
        return create_trial(
            state=OptunaState.PRUNED,
            params=params,
            distributions=used,
            intermediate_values={0: objective[0]},
        )
    if trial.state == TrialState.RUNNING and stand_in is None:
        return create_trial(state=OptunaState.RUNNING, params=params, distributions=used)
    if stand_in is not None:
        return create_trial(params=params, distributions=used, values=stand_in)
    return create_trial(state=OptunaState.FAIL, params=params, distributions=used)


def _study(sweep: Sweep, config: SweepConfig, trials: list[Trial]) -> optuna.Study:
    dists = optuna_distributions(config)
    complete = [t.objective for t in trials if t.state == TrialState.COMPLETE and t.objective]
    fail_value = _imputed(config, config.impute, complete)  # type: ignore[arg-type]
    running_value = _imputed(config, config.impute_while_running, complete)  # type: ignore[arg-type]
    frozen = []
    for trial in trials:
        stand_in = {TrialState.FAILED: fail_value, TrialState.RUNNING: running_value}.get(
            trial.state  # type: ignore[call-overload]
        )
        if trial.state == TrialState.FAILED and stand_in is None:
            continue
        item = _frozen(trial, dists, stand_in)
        if item is not None:
            frozen.append(item)
    seed = int(np.random.default_rng([sweep.seed, sweep.next_number]).integers(2**31))
    study = optuna.create_study(
        directions=[m.goal for m in config.metrics],
        sampler=_sampler(config, seed, len(complete)),
    )
    study.add_trials(frozen)
    return study


def suggest_bayes(sweep: Sweep, config: SweepConfig, trials: list[Trial]) -> Suggestion:
    """Ask the sweep's sampler for the next parameters."""
    study = _study(sweep, config, trials)
    asked = study.ask(fixed_distributions=optuna_distributions(config))
    internal = dict(asked.params)
    by_name = {p.name: p for p in config.parameters}
    params = {}
    for param in config.parameters:
        if param.distribution == "constant":
            params[param.name] = param.value
        else:
            params[param.name] = space.to_value(by_name[param.name], internal[param.name])
    return Suggestion(params=params, internal=internal)


def suggest_random(sweep: Sweep, config: SweepConfig, number: int) -> Suggestion:
    """W&B's random search, reproducible from the sweep's seed and the trial number."""
    rng = np.random.default_rng([sweep.seed, number])
    params = distributions.sample_point(list(config.parameters), rng)
    return Suggestion(params=params, internal=_internal_of(config, params))


def _internal_of(config: SweepConfig, params: dict[str, Any]) -> dict[str, Any]:
    """Optuna coordinates for params that Optuna did not sample (random, grid), so
    that importance and a later warm start can read these trials too."""
    internal: dict[str, Any] = {}
    for param in config.parameters:
        coordinate = space.to_internal(param, params.get(param.name))
        if coordinate is not None:
            internal[param.name] = coordinate
    return internal


class SweepUnavailable(Exception):
    """No trial now. `retry` says whether asking again later may get one (paused, busy)."""

    def __init__(self, sweep: Sweep, reason: str, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.state, self.reason, self.retry = sweep.state, reason, retry


def suggest_trial(sweep_id: str) -> Trial:
    """Lock the sweep, check it may run another trial, ask, and store Run + Trial."""
    crash_silent_runs(sweep_id)
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("project").get(pk=sweep_id)
        config = SweepConfig.from_dict(sweep.config)
        fields = ("sweep", "number", "state", "params", "internal", "point_key", "value", "values")
        try:
            check_open(sweep)
            suggestion = _suggest(sweep, config, list(sweep.trials.only(*fields)))
        except SweepUnavailable as error:
            # Leave the block normally so that a state change (finished) is kept.
            unavailable = error
        else:
            return _store(sweep, suggestion)
    raise unavailable


def check_open(sweep: Sweep) -> None:
    if sweep.state == SweepState.PENDING:
        move_to(sweep, SweepState.RUNNING)
    if sweep.state == SweepState.PAUSED:
        raise SweepUnavailable(sweep, "paused", "The sweep is paused; wait for resume.", True)
    if sweep.is_ended:
        raise SweepUnavailable(sweep, sweep.state, f"The sweep is {sweep.state}.")
    if sweep.run_cap is not None and sweep.next_number >= sweep.run_cap:
        end_if_done(sweep)
        raise SweepUnavailable(
            sweep, "capped", f"The sweep reached its run_cap of {sweep.run_cap}."
        )


def _suggest(sweep: Sweep, config: SweepConfig, trials: list[Trial]) -> Suggestion:
    if config.method == "bayes":
        return suggest_bayes(sweep, config, trials)
    if config.method == "random" and not config.without_replacement:
        return suggest_random(sweep, config, sweep.next_number)
    point = _next_point(sweep, config, trials)
    return Suggestion(
        params=point, internal=_internal_of(config, point), point_key=point_key(point)
    )


def _next_point(sweep: Sweep, config: SweepConfig, trials: list[Trial]) -> dict[str, Any]:
    """The next grid point not yet done, or a random unused one without replacement.

    Unlike W&B, a point whose run failed is handed out again, up to GRID_RETRY_LIMIT.
    """
    taken, failures = set(), Counter()
    for trial in trials:
        if trial.state == TrialState.FAILED:
            failures[trial.point_key] += 1
        else:
            taken.add(trial.point_key)
    points = distributions.grid_points(list(config.parameters))
    free = [
        p
        for p in points
        if (key := point_key(p)) not in taken and failures[key] <= settings.GRID_RETRY_LIMIT
    ]
    if free:
        if config.method == "grid":
            return free[0]
        rng = np.random.default_rng([sweep.seed, sweep.next_number])
        return free[int(rng.integers(len(free)))]
    if any(t.state == TrialState.RUNNING for t in trials):
        raise SweepUnavailable(sweep, "busy", "Every point is handed out; some still run.", True)
    move_to(sweep, SweepState.FINISHED)
    raise SweepUnavailable(sweep, "exhausted", "Every point of the space has run.")


def _store(sweep: Sweep, suggestion: Suggestion) -> Trial:
    number = sweep.next_number
    run = Run.objects.create(
        project=sweep.project,
        name=f"{sweep.name}-{number}",
        config=distributions.nest(suggestion.params),
    )
    trial = Trial.objects.create(
        sweep=sweep,
        number=number,
        run=run,
        params=suggestion.params,
        internal=suggestion.internal,
        point_key=suggestion.point_key,
    )
    sweep.next_number = number + 1
    sweep.save(update_fields=["next_number", "updated_at"])
    return trial


def crash_silent_runs(sweep_id: str) -> None:
    """Crash this sweep's runs that went silent, so their trials fail and free their points."""
    cutoff = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
    silent = Run.objects.filter(
        trial__sweep_id=sweep_id, state=RunState.RUNNING, heartbeat_at__lt=cutoff
    )
    for run in silent:
        try:
            finish_run(run, state=RunState.CRASHED)
        except RunConflict:
            continue


def importance(sweep: Sweep) -> dict[str, Any] | None:
    """Parameter importance by PED-ANOVA, computed again only when results changed.

    PED-ANOVA asks which parameters decide whether a trial lands among the best
    10%, which is what "which parameters matter" means during a sweep. It takes
    milliseconds at 10,000 trials and needs no extra library, where fANOVA fits a
    random forest (scikit-learn) that grows slow with the trial count.
    """
    if sweep.importance_version == sweep.version:
        return sweep.importance
    config = SweepConfig.from_dict(sweep.config)
    dists = optuna_distributions(config)
    complete = [
        create_trial(
            params={n: t.internal[n] for n in dists},
            distributions=dists,
            value=t.value,
        )
        for t in sweep.trials.filter(state=TrialState.COMPLETE, value__isnull=False).only(
            "internal", "value"
        )
        if dists and all(n in t.internal for n in dists)
    ]
    result = None
    if len(complete) >= 2:
        study = optuna.create_study(direction=config.metrics[0].goal)
        study.add_trials(complete)
        scores = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator()
        )
        result = {
            "evaluator": "PED-ANOVA",
            "metric": config.metrics[0].name,
            "importances": {name: float(score) for name, score in scores.items()},
        }
    Sweep.objects.filter(pk=sweep.pk).update(importance=result, importance_version=sweep.version)
    return result
