"""Stopping bad runs early, decided as the metric arrives.

hyperband follows W&B: bands at min_iter·etaᵏ, or max_iter divided by eta up to s
times; the iteration is the count of logged values of the metric; at a band the
cut is the value at index ⌊n/eta⌋ of the sorted values of the runs that reached
it. median (Optuna's median rule) and successive_halving (Optuna's) are ours; for
them the iteration is the logged step. A decision travels back to the run in the
answer to its log batch (the wire's `should_stop`), and `sweeps.state_machine.prune`
moves its trial to pruned under the sweep lock. Deciding reads without that lock: most
batches prune nothing, and they stay cheap.

The stop reaches a script with the answer to the batch that carried the deciding value
(the client sends a batch about once a second), so a script sees it up to a second of
its steps late. A batch the client sent after the script had ended (`final`: the rows
left when it called finish()) cannot stop it: a run told to stop there ran to its end,
and its trial ends complete, not pruned (`Trial.stop_came_too_late`, asked by
`state_machine.record_run_end`), keeping the step where the stop was asked.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Max, Min
from django.dispatch import receiver

from runs.ingest import Point
from runs.models import MetricPoint, Run
from runs.signals import points_logged, stop_requested
from sweeps import state_machine
from sweeps.config import hyperband_bands
from sweeps.models import Trial, TrialState

# NaN counts as the worst value; a finite stand-in, since JSON has no infinity.
WORST = 1e300


@receiver(points_logged, dispatch_uid="sweeps.early_stop")
def _on_points_logged(
    sender: Any, run: Run, points: list[Point], final: bool = False, **kwargs: Any
) -> bool:
    return prune_if_behind(run, points, final)


@receiver(stop_requested, dispatch_uid="sweeps.pruned")
def _on_heartbeat(sender: Any, run: Run, **kwargs: Any) -> bool:
    return is_pruned(run)


def is_pruned(run: Run) -> bool:
    """Whether the run's trial was pruned (so the run is to stop)."""
    return Trial.objects.filter(run=run, state=TrialState.PRUNED).exists()


def prune_if_behind(run: Run, points: list[Point], final: bool = False) -> bool:
    """Prune the run's trial when these points put it behind its peers (the sweep's
    `early_terminate` rule decides); True when the trial is pruned, now or before.
    `final`: the client sent them after the script had ended."""
    trial = Trial.objects.filter(run=run).select_related("sweep").first()
    if trial is None or trial.state not in (TrialState.RUNNING, TrialState.PRUNED):
        return False
    if trial.state == TrialState.PRUNED:
        return True
    rule = trial.sweep.config.get("early_terminate")
    metric = trial.sweep.metric[0] if trial.sweep.metric else None
    steps = [p.step for p in points if metric and p.key == metric["name"]]
    if metric is None or not rule or not steps:
        return False
    sign = 1.0 if metric["goal"] == "minimize" else -1.0
    decide = {"hyperband": _hyperband, "median": _median, "successive_halving": _halving}
    stop = decide[rule["type"]](trial, metric["name"], sign, rule["options"], max(steps))
    if stop:
        # Where the run was when it was told, and whether its script could still see it.
        trial.stop_step = max(p.step for p in points)
        trial.stop_after_end = final
        state_machine.prune(trial)
    elif trial.checkpoints:
        Trial.objects.filter(pk=trial.pk).update(checkpoints=trial.checkpoints)
    return stop


def _run_of(trial: Trial) -> int:
    # Only trials with a run log points, so only they reach a pruning decision.
    if trial.run_id is None:
        raise ValueError(f"Trial {trial.number} has no run to prune.")
    return trial.run_id


def _signed(values: list[float | None], sign: float) -> list[float]:
    return [WORST if v is None else sign * v for v in values]


def _hyperband(trial: Trial, metric: str, sign: float, options: dict[str, Any], step: int) -> bool:
    points = MetricPoint.objects.filter(run_id=_run_of(trial), key=metric)
    count = points.count()
    reached = [band for band in hyperband_bands(options) if band <= count]
    if not reached:
        return False
    band = reached[-1]
    key = f"band:{band}"
    if key not in trial.checkpoints:
        history = _signed(
            list(points.order_by("step").values_list("value", flat=True)[:band]), sign
        )
        trial.checkpoints[key] = history[-1] if options.get("strict", True) else min(history)
    return _cut(trial, key, options.get("eta", 3))


def _cut(trial: Trial, key: str, eta: float) -> bool:
    """Whether the trial's value at `key` is worse than the hyperband cut there."""
    others = Trial.objects.filter(sweep_id=trial.sweep_id).exclude(pk=trial.pk)
    values = [c[key] for c in others.values_list("checkpoints", flat=True) if key in c]
    if not values:
        return False  # a run alone at a band is never stopped
    values = sorted([*values, trial.checkpoints[key]])
    return bool(trial.checkpoints[key] > values[int(len(values) / eta)])


def _median(trial: Trial, metric: str, sign: float, options: dict[str, Any], step: int) -> bool:
    warmup, interval = options.get("n_warmup_steps", 0), options.get("interval_steps", 1)
    if step < warmup or (step - warmup) % interval:
        return False
    complete = Trial.objects.filter(sweep_id=trial.sweep_id, state=TrialState.COMPLETE)
    if complete.count() < max(options.get("n_startup_trials", 5), 1):
        return False
    at_step = MetricPoint.objects.filter(
        run_id__in=complete.values("run_id"), key=metric, step=step, value__isnull=False
    ).values_list("value", flat=True)
    if not at_step:
        return False
    median = statistics.median(sign * v for v in at_step if v is not None)
    mine = MetricPoint.objects.filter(run_id=_run_of(trial), key=metric, step__lte=step)
    best = mine.aggregate(best=Min("value") if sign > 0 else Max("value"))["best"]
    return best is None or sign * best > median


def _halving(trial: Trial, metric: str, sign: float, options: dict[str, Any], step: int) -> bool:
    """Optuna's successive halving: at each rung keep the top 1/reduction_factor."""
    factor = options.get("reduction_factor", 3)
    rung = sum(1 for key in trial.checkpoints if key.startswith("rung:"))
    while True:
        rung_step = options.get("min_resource", 1) * factor ** (
            options.get("min_early_stopping_rate", 0) + rung
        )
        if step < rung_step:
            return False
        value = (
            MetricPoint.objects.filter(run_id=_run_of(trial), key=metric, step=step)
            .values_list("value", flat=True)
            .first()
        )
        key = f"rung:{rung}"
        trial.checkpoints[key] = _signed([value], sign)[0]
        others = Trial.objects.filter(sweep_id=trial.sweep_id).exclude(pk=trial.pk)
        values = [c[key] for c in others.values_list("checkpoints", flat=True) if key in c]
        competing = sorted([*values, trial.checkpoints[key]])
        index = max(len(competing) // factor - 1, 0)
        if trial.checkpoints[key] > competing[index]:
            return True
        rung += 1
