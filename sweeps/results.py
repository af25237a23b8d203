"""What a run's summary is worth to its sweep (W&B semantics), and which trials are best.

A trial's value is the run summary's value of the metric when the run ends: the
last logged value unless the summary was set. A failed, crashed or killed run's
trial is failed and does not count. Nothing here changes a state: `sweeps.state_machine`
ends trials and sweeps, and calls these under the sweep lock.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings

from runs.values import to_float
from sweeps.models import Sweep, Trial, TrialState

# A metric defined with define_metric(summary=...) has a summary of {"min": .., "last": ..}:
# the sweep takes the extremum its goal asks for, as W&B's sweeps take the run's extremum.
SUMMARY_KINDS = {
    "minimize": ("min", "best", "last", "mean", "first"),
    "maximize": ("max", "best", "last", "mean", "first"),
}


def _summary_value(value: Any, goal: str) -> Any:
    if not isinstance(value, dict):
        return value
    return next((value[kind] for kind in SUMMARY_KINDS[goal] if kind in value), None)


def objective_of(sweep: Sweep, summary: dict[str, Any]) -> list[float] | None:
    """The run's value for each metric of the sweep, or None when one is missing or not finite."""
    values = []
    for name, goal in zip(sweep.metric_names, sweep.directions, strict=True):
        try:
            value = to_float(_summary_value(summary.get(name), goal))
        except ValueError:
            return None
        if not math.isfinite(value):
            return None
        values.append(value)
    return values or None


def first_trials_failed(sweep: Sweep) -> bool:
    """Whether the first SWEEP_MAX_INITIAL_FAILURES trials of the sweep to end all failed:
    its runs cannot work (a bad command, a crash on import), so it fails.

    True only when exactly that many have ended: later failures never fail a sweep."""
    limit = settings.SWEEP_MAX_INITIAL_FAILURES
    if not limit:
        return False
    ended = Trial.objects.filter(sweep=sweep).exclude(state=TrialState.RUNNING)
    return ended.count() == limit and not ended.exclude(state=TrialState.FAILED).exists()


def set_objective(trial: Trial, objective: list[float] | None) -> None:
    if objective is None:
        trial.value, trial.values = None, None
    elif len(objective) == 1:
        trial.value, trial.values = objective[0], None
    else:
        trial.value, trial.values = objective[0], objective


def _better(goal: str, a: float, b: float) -> bool:
    return a < b if goal == "minimize" else a > b


def take_best(sweep: Sweep, trial: Trial) -> bool:
    """Before a trial that completes is saved: make it the best of a one-metric sweep when
    it beats the best so far. Clears the old best's mark and sets `trial.is_best` and
    `sweep.best_trial`, which the caller saves with the rest of each (one write apiece).
    A multi-objective sweep marks its Pareto front after the save (`mark_pareto_front`)."""
    if len(sweep.metric) > 1:
        return False
    best = sweep.best_trial
    goal = sweep.directions[0]
    # Why the type: ignore below: Only a complete trial (which has a value) is compared here.
    if best is None or best.value is None or _better(goal, trial.value, best.value):  # type: ignore[arg-type]
        Trial.objects.filter(sweep=sweep, is_best=True).exclude(pk=trial.pk).update(is_best=False)
        trial.is_best = True
        sweep.best_trial = trial
        return True
    return False


def _dominates(goals: list[str], a: list[float], b: list[float]) -> bool:
    no_worse = all(not _better(g, y, x) for g, x, y in zip(goals, a, b, strict=True))
    return no_worse and any(_better(g, x, y) for g, x, y in zip(goals, a, b, strict=True))


def mark_pareto_front(sweep: Sweep) -> None:
    goals = sweep.directions
    complete = list(
        Trial.objects.filter(sweep=sweep, state=TrialState.COMPLETE).only("pk", "values")
    )
    front = [
        t.pk
        for t in complete
        if not any(
            _dominates(goals, o.values or [], t.values or []) for o in complete if o.pk != t.pk
        )
    ]
    Trial.objects.filter(sweep=sweep).exclude(pk__in=front).update(is_best=False)
    Trial.objects.filter(pk__in=front).update(is_best=True)


def target_reached(sweep: Sweep) -> bool:
    target = sweep.metric[0].get("target") if len(sweep.metric) == 1 else None
    if target is None:
        return False
    best = sweep.best_trial
    if best is None or best.value is None:
        return False
    goal = sweep.directions[0]
    return bool(best.value <= target if goal == "minimize" else best.value >= target)
