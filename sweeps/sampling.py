"""Proposing parameters: config + trial records + seed in, parameters out. Pure.

The only module that imports optuna. It reads no database and changes no state:
`sweeps.state_machine` reads the sweep's rows under the sweep lock, hands them here,
and stores what comes back. The database rows are the study: a Bayesian suggestion
brings an in-memory Optuna study up to date from the records and asks its sampler once.

How each W&B distribution is shown to Optuna is `sweeps.space`'s business; how W&B
itself samples and enumerates them (random search, grids) is `sweeps.distributions`'s.

What a process keeps between calls is keyed by what the caller passes (the sweep's
id, its config and the records), never read from anywhere: the kept study and the
keyed grid points. `needed_coordinates` says which trials' Optuna coordinates the kept
study lacks, so that the caller reads only those.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import optuna
from django.conf import settings
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState as OptunaState
from optuna.trial import create_trial

from sweeps import distributions, space
from sweeps.config import SweepConfig
from sweeps.distributions import point_key
from sweeps.models import TrialState, objective_of_columns

# One thread per GP fit: several server workers share two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
optuna.logging.set_verbosity(optuna.logging.WARNING)


class TrialRecord(NamedTuple):
    """What a suggestion reads of each trial: a few columns, no model instances.

    A NamedTuple: a suggestion makes one per trial, and at 5,000 trials a frozen
    dataclass took ~3 ms of it."""

    number: int
    state: str
    value: float | None
    values: list[float] | None
    point_key: str

    @property
    def objective(self) -> list[float] | None:
        return objective_of_columns(self.value, self.values)


RECORD_COLUMNS = ("number", "state", "value", "values", "point_key")


@dataclass(frozen=True)
class Suggestion:
    params: dict[str, Any]  # flat, keyed by Param.name
    internal: dict[str, Any]  # Optuna's coordinates, to rebuild the study later
    point_key: str = ""


def _direction(goal: str) -> optuna.study.StudyDirection:
    # The config module has checked the goal: it is one of these two.
    if goal == "maximize":
        return optuna.study.StudyDirection.MAXIMIZE
    return optuna.study.StudyDirection.MINIMIZE


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
    """The stand-in W&B's `impute` asks for, from the complete trials' values ("latest"
    falls back to the worst when the run logged no value)."""
    if not complete or how in ("false", ""):
        return None
    result = []
    for i, metric in enumerate(config.metrics):
        column = [values[i] for values in complete]
        worst = max(column) if metric.goal == "minimize" else min(column)
        best = min(column) if metric.goal == "minimize" else max(column)
        result.append(best if how == "best" else worst)
    return result


def _study_state(trial: TrialRecord) -> str:
    # A pruned run that has not ended yet still holds its point, as a running one does.
    if trial.state == TrialState.PRUNED and not trial.objective:
        return TrialState.RUNNING
    return trial.state


def _coordinates(internal: Mapping[str, Any], dists: dict[str, BaseDistribution]) -> dict[str, Any]:
    """The stored coordinates of `dists`, a float one read back as a float: PostgreSQL's
    jsonb gives 1e20 back as the integer 100000000000000000000, which numpy cannot log."""
    return {
        name: float(internal[name]) if isinstance(dist, FloatDistribution) else internal[name]
        for name, dist in dists.items()
        if name in internal
    }


def _frozen(
    trial: TrialRecord,
    internal: dict[str, Any],
    dists: dict[str, BaseDistribution],
    stand_in: list[float] | None,
) -> optuna.trial.FrozenTrial | None:
    params = _coordinates(internal, dists)
    if len(params) != len(dists):
        return None
    state, objective = _study_state(trial), trial.objective
    if state == TrialState.RUNNING:
        if stand_in is None:
            return create_trial(state=OptunaState.RUNNING, params=params, distributions=dists)
        return create_trial(params=params, distributions=dists, values=stand_in)
    if state == TrialState.COMPLETE and objective:
        return create_trial(params=params, distributions=dists, values=objective)
    if state == TrialState.PRUNED:
        return create_trial(
            state=OptunaState.PRUNED,
            params=params,
            distributions=dists,
            # Why the type: ignore below: A pruned trial's record always has its last value.
            intermediate_values={0: objective[0]},  # type: ignore[index]
        )
    if stand_in is not None:
        return create_trial(params=params, distributions=dists, values=stand_in)
    return create_trial(state=OptunaState.FAIL, params=params, distributions=dists)


@dataclass
class _KeptStudy:
    """A sweep's study kept in this process between suggestions.

    Every suggestion still reads the sweep's rows and brings the study up to date
    from them, so several workers stay correct; keeping it only saves rebuilding
    (copying) every trial into Optuna each time.
    """

    sweep_id: str
    study: optuna.Study
    fingerprint: tuple[Any, ...]
    # Trial number -> (Optuna trial id or None when left out, state it was added in).
    added: dict[int, tuple[int | None, str]] = field(default_factory=dict)


_KEPT: OrderedDict[str, _KeptStudy] = OrderedDict()
MAX_KEPT_STUDIES = 32
# A worker's threads share the kept studies and grids.
_KEEP_LOCK = threading.Lock()


def _keep(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    """Put `value` first in the least-recently-used `cache` of at most `limit` entries."""
    with _KEEP_LOCK:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)


@dataclass(frozen=True)
class History:
    """What a Bayesian suggestion reads, gathered by the caller under the sweep lock.

    `coordinates` holds the Optuna coordinates (`Trial.internal`) of at least the trials
    `needed_coordinates` named; `warm_start` the (coordinates, objective) of the complete
    trials of the sweep this one was started from; `latest` the last logged objective of
    the trials `wants_latest` named. `seed` and `number` (the trial to be) seed the sampler.
    """

    sweep_id: str
    config: SweepConfig
    seed: int
    number: int
    trials: Sequence[TrialRecord]
    coordinates: Mapping[int, dict[str, Any]]
    warm_start: Sequence[tuple[dict[str, Any], list[float]]] = ()
    latest: Mapping[int, list[float]] = field(default_factory=dict)


def _fingerprint(config: SweepConfig, trials: Sequence[TrialRecord]) -> tuple[Any, ...]:
    """What the kept study of a sweep was built for: its config and the impute stand-ins."""
    complete = [o for t in trials if t.state == TrialState.COMPLETE and (o := t.objective)]
    fail_value = _imputed(config, config.impute, complete)
    running_value = _imputed(config, config.impute_while_running, complete)
    return (config, fail_value, running_value)


def _reusable(
    sweep_id: str, fingerprint: tuple[Any, ...], trials: Sequence[TrialRecord]
) -> _KeptStudy | None:
    """The sweep's kept study when it can be brought up to date, else None (rebuild)."""
    kept = _KEPT.get(sweep_id)
    # Stand-ins for running trials change as results come in: those studies are rebuilt.
    if (
        kept is None
        or kept.fingerprint != fingerprint
        or fingerprint[2] is not None
        or not kept.added.keys() <= {t.number for t in trials}
    ):
        return None
    return kept


def needed_coordinates(
    sweep_id: str, config: SweepConfig, trials: Sequence[TrialRecord]
) -> tuple[list[int], bool]:
    """The trial numbers whose coordinates a suggestion from `trials` needs, and whether
    it rebuilds the study (and so reads the warm start): a kept study needs only those
    of the trials it has not seen."""
    kept = _reusable(sweep_id, _fingerprint(config, trials), trials)
    if kept is None:
        return [t.number for t in trials], True
    return [t.number for t in trials if t.number not in kept.added], False


def wants_latest(config: SweepConfig, trials: Sequence[TrialRecord]) -> list[int]:
    """For `impute: latest`: the trials (failed, or running) whose last logged value counts."""
    states = {TrialState.FAILED} if config.impute == "latest" else set()
    if config.impute_while_running == "latest":
        states.add(TrialState.RUNNING)
    return [t.number for t in trials if t.state in states]


def _study(history: History) -> _KeptStudy:
    config, trials = history.config, history.trials
    fingerprint = _fingerprint(config, trials)
    kept = _reusable(history.sweep_id, fingerprint, trials)
    if kept is None:
        study = optuna.create_study(directions=[_direction(m.goal) for m in config.metrics])
        study.add_trials(_warm_start(history.warm_start, optuna_distributions(config)))
        kept = _KeptStudy(history.sweep_id, study, fingerprint)
    _keep(_KEPT, history.sweep_id, kept, MAX_KEPT_STUDIES)
    _bring_up_to_date(kept, history, (fingerprint[1], fingerprint[2]))
    seed = int(np.random.default_rng([history.seed, history.number]).integers(2**31))
    n_complete = sum(1 for t in trials if t.state == TrialState.COMPLETE and t.objective)
    sampler = _sampler(config, seed, n_complete)
    _carry_caches(kept.study.sampler, sampler)
    kept.study.sampler = sampler
    return kept


# Where Optuna 5.0's samplers keep what they learned of one study: the IntersectionSearchSpace,
# and GPSampler's fitted Gaussian processes, from which the next fit starts.
_CARRIED_ATTRIBUTES = (
    "_search_space",
    "_intersection_search_space",
    "_gprs_cache_list",
    "_constraints_gprs_cache_list",
)


def _carry_caches(old: Any, new: Any) -> None:
    """Hand the previous sampler's caches of the kept study to the new one.

    A fresh sampler (seeded for this trial number) would recompute the intersection
    of every trial's space and fit its Gaussian process from scratch; Optuna keeps
    both across the asks of one study, which the kept study is.
    """
    for name in _CARRIED_ATTRIBUTES:
        if type(old) is type(new) and hasattr(old, name) and hasattr(new, name):
            setattr(new, name, getattr(old, name))


def _warm_start(
    source: Sequence[tuple[dict[str, Any], list[float]]], dists: dict[str, BaseDistribution]
) -> list[Any]:
    """The complete trials of the sweep this one was started from, as prior knowledge."""
    return [
        create_trial(params=_coordinates(internal, dists), distributions=dists, values=values)
        for internal, values in source
        if values and all(n in internal for n in dists)
    ]


def _stand_in(
    config: SweepConfig,
    trial: TrialRecord,
    state: str,
    imputed: tuple[list[float] | None, list[float] | None],
    latest: Mapping[int, list[float]],
) -> list[float] | None:
    """The value W&B's impute options give a failed or running trial, or None."""
    if state == TrialState.FAILED:
        return latest.get(trial.number, imputed[0]) if config.impute == "latest" else imputed[0]
    if config.impute_while_running == "latest":
        return latest.get(trial.number)
    return imputed[1]


def _bring_up_to_date(
    kept: _KeptStudy,
    history: History,
    imputed: tuple[list[float] | None, list[float] | None],
) -> None:
    config = history.config
    dists = optuna_distributions(config)
    storage = kept.study._storage  # in-memory: the only way to end a trial added as running
    for trial in history.trials:
        state = _study_state(trial)
        trial_id, added_as = kept.added.get(trial.number, (None, ""))
        if added_as == state or (added_as and trial_id is None):
            continue
        stand_in = _stand_in(config, trial, state, imputed, history.latest)
        if added_as == TrialState.RUNNING and trial_id is not None:
            _end(storage, trial_id, trial, state, stand_in)
            kept.added[trial.number] = (trial_id, state)
            continue
        frozen = None
        if state != TrialState.FAILED or stand_in is not None:
            internal = history.coordinates.get(trial.number, {})
            frozen = _frozen(trial, internal, dists, stand_in)
        if frozen is not None:
            kept.study.add_trial(frozen)
            trial_id = len(kept.study.get_trials(deepcopy=False)) - 1
        kept.added[trial.number] = (trial_id, state)


def _end(
    storage: Any, trial_id: int, trial: TrialRecord, state: str, stand_in: list[float] | None
) -> None:
    objective = trial.objective
    if state == TrialState.COMPLETE and objective:
        storage.set_trial_state_values(trial_id, OptunaState.COMPLETE, objective)
    elif state == TrialState.PRUNED and objective:
        storage.set_trial_intermediate_value(trial_id, 0, objective[0])
        storage.set_trial_state_values(trial_id, OptunaState.PRUNED)
    elif stand_in is not None:
        storage.set_trial_state_values(trial_id, OptunaState.COMPLETE, stand_in)
    else:
        storage.set_trial_state_values(trial_id, OptunaState.FAIL)


def suggest_bayes(history: History) -> Suggestion:
    """Ask the sweep's sampler for the next parameters."""
    config = history.config
    try:
        kept = _study(history)
        asked = kept.study.ask(fixed_distributions=optuna_distributions(config))
    except BaseException:
        forget(history.sweep_id)
        raise
    kept.added[history.number] = (asked._trial_id, TrialState.RUNNING)
    internal = dict(asked.params)
    params = {}
    for param in config.parameters:
        if param.distribution == "constant":
            params[param.name] = param.value
        else:
            params[param.name] = space.to_value(param, internal[param.name])
    return Suggestion(params=params, internal=internal)


def forget(sweep_id: str) -> None:
    """Drop the sweep's kept study: it may hold a trial that the database never got."""
    with _KEEP_LOCK:
        _KEPT.pop(sweep_id, None)


_PROPOSING: dict[str, threading.Lock] = {}


@contextmanager
def proposing(sweep_id: str) -> Iterator[None]:
    """Hold while proposing for the sweep and storing (or dropping) the proposal: a kept
    study is one Optuna study, which two threads of this process must not change at once.
    Other processes propose for the same sweep meanwhile, each from its own."""
    with _KEEP_LOCK:
        lock = _PROPOSING.setdefault(sweep_id, threading.Lock())
    with lock:
        yield


def renumber(sweep_id: str, proposed: int, stored: int) -> None:
    """The proposal asked for trial `proposed` became trial `stored` (another server
    handed out `proposed` meanwhile): the kept study files it under its real number."""
    kept = _KEPT.get(sweep_id)
    if kept is None or proposed not in kept.added:
        return
    if stored in kept.added:
        forget(sweep_id)
        return
    kept.added[stored] = kept.added.pop(proposed)


def withdraw(sweep_id: str, proposed: int) -> None:
    """The proposal asked for trial `proposed` was not stored: the kept study counts it
    failed (samplers skip failed trials) and forgets its number, which another trial takes."""
    kept = _KEPT.get(sweep_id)
    if kept is None:
        return
    trial_id, _ = kept.added.pop(proposed, (None, ""))
    if trial_id is not None:
        kept.study._storage.set_trial_state_values(trial_id, OptunaState.FAIL)


def suggest_random(config: SweepConfig, seed: int, number: int) -> Suggestion:
    """W&B's random search, reproducible from the sweep's seed and the trial number."""
    rng = np.random.default_rng([seed, number])
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


class NoPoint(Exception):
    """No point to hand out: `reason` is "busy" (some still run) or "exhausted"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def next_point(
    sweep_id: str, config: SweepConfig, seed: int, number: int, trials: Sequence[TrialRecord]
) -> Suggestion:
    """The next grid point not yet done, or a random unused one without replacement;
    NoPoint when there is none.

    Unlike W&B, a point whose run failed is handed out again, up to GRID_RETRY_LIMIT.
    """
    taken: set[str] = set()
    failures: Counter[str] = Counter()
    for trial in trials:
        if trial.state == TrialState.FAILED:
            failures[trial.point_key] += 1
        else:
            taken.add(trial.point_key)
    free = (
        point
        for key, point in _keyed_grid_points(sweep_id, config)
        if key not in taken and failures[key] <= settings.GRID_RETRY_LIMIT
    )
    point = None
    if config.method == "grid":
        point = next(free, None)
    elif unused := list(free):
        rng = np.random.default_rng([seed, number])
        point = unused[int(rng.integers(len(unused)))]
    if point is not None:
        params = dict(point)
        return Suggestion(params, _internal_of(config, params), point_key(params))
    if any(t.state == TrialState.RUNNING for t in trials):
        raise NoPoint("busy", "Every point is handed out; some still run.")
    raise NoPoint("exhausted", "Every point of the space has run.")


_GRIDS: OrderedDict[str, tuple[SweepConfig, list[tuple[str, dict[str, Any]]]]] = OrderedDict()
MAX_KEPT_GRIDS = 8


def _keyed_grid_points(sweep_id: str, config: SweepConfig) -> list[tuple[str, dict[str, Any]]]:
    """The sweep's grid points in order, each with its point_key, kept in this process.

    Keying 10,000 points took ~35 ms of every suggestion; they change only with the config.
    """
    kept = _GRIDS.get(sweep_id)
    if kept is None or kept[0] != config:
        points = distributions.grid_points(list(config.parameters))
        kept = (config, [(point_key(point), point) for point in points])
    _keep(_GRIDS, sweep_id, kept, MAX_KEPT_GRIDS)
    return kept[1]


# fANOVA's forest: 16 trees of depth 6 on 1,000 trials took ~0.3 s (2 busy cores) and
# ranked the parameters of test functions as Optuna's default does (64 trees of depth 64:
# 19 s), each score within a few points of it.
FANOVA_TREES = 16
FANOVA_DEPTH = 6


def param_importances(
    config: SweepConfig, rows: list[tuple[dict[str, Any], float]], method: str, seed: int
) -> dict[str, float]:
    """Optuna's importance of each varying parameter for the first metric (pure).

    `rows` are the complete trials' (internal coordinates, value); `method` is
    "fanova" (a random forest's variance decomposition) or "ped_anova" (which
    parameters decide whether a trial lands among the best 10%).
    """
    dists = optuna_distributions(config)
    complete = [
        create_trial(params={n: internal[n] for n in dists}, distributions=dists, value=value)
        for internal, value in rows
        if dists and all(n in internal for n in dists)
    ]
    if len(complete) < 2:
        return {}
    study = optuna.create_study(direction=_direction(config.metrics[0].goal))
    study.add_trials(complete)
    if method == "fanova":
        evaluator: optuna.importance.BaseImportanceEvaluator = (
            optuna.importance.FanovaImportanceEvaluator(
                n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=seed
            )
        )
    else:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    with warnings.catch_warnings():
        # With few trials the best 10% is every trial and all parameters score
        # alike; the chart shows that, and nobody reads a server-side warning.
        warnings.filterwarnings("ignore", message="Target and region quantiles select")
        scores = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {name: float(score) for name, score in scores.items()}
