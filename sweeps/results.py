"""What a finished run means for its trial and its sweep (W&B semantics).

A trial's value is the run summary's value of the metric when the run ends: the
last logged value unless the summary was set. A failed, crashed or killed run's
trial is failed and does not count.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from runs.lifecycle import RunConflict, finish_run
from runs.models import Run, RunState
from runs.signals import run_ending, run_finished
from runs.values import to_float
from sweeps.lifecycle import move_to
from sweeps.models import Sweep, SweepState, Trial, TrialState


@receiver(run_ending, dispatch_uid="sweeps.lock_sweep_of_run")
def _on_run_ending(sender: Any, run: Run, **kwargs: Any) -> None:
    # The sweep before the run, as suggest, report and cancel lock: no lock-order deadlock.
    list(
        Sweep.objects.select_for_update()
        .filter(pk__in=Trial.objects.filter(run=run).values("sweep_id"))
        .values_list("pk", flat=True)
    )


@receiver(run_finished, dispatch_uid="sweeps.record_run_end")
def _on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    record_run_end(run)


def repair_ended_runs(sweep_id: str) -> None:
    """End the trials still running whose run has ended (left so by a failed end before)."""
    stuck = Run.objects.filter(trial__sweep_id=sweep_id, trial__state=TrialState.RUNNING).exclude(
        state=RunState.RUNNING
    )
    for run in stuck:
        record_run_end(run)


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


def record_run_end(run: Run) -> Trial | None:
    """Close the run's trial, keep the best current and end the sweep when it is done."""
    ids = Trial.objects.filter(run=run).values_list("pk", "sweep_id").first()
    if ids is None:
        return None
    with transaction.atomic():
        # Read the trial only once the sweep is locked: before, another end may still change it.
        # of=("self",): PostgreSQL cannot lock the nullable side of the best trial's join.
        sweep = (
            Sweep.objects.select_for_update(of=("self",))
            .select_related("best_trial")
            .get(pk=ids[1])
        )
        trial = Trial.objects.get(pk=ids[0])
        trial.sweep = sweep
        if trial.state in (TrialState.COMPLETE, TrialState.FAILED):
            return trial
        # A pruned run was stopped on purpose: its last value still counts for the sampler.
        counts = run.state == RunState.FINISHED or trial.state == TrialState.PRUNED
        objective = objective_of(sweep, run.summary) if counts else None
        if trial.state != TrialState.PRUNED:
            trial.state = TrialState.COMPLETE if objective else TrialState.FAILED
        set_objective(trial, objective)
        trial.ended_at = timezone.now()
        trial.save(update_fields=["state", "value", "values", "ended_at"])
        sweep.version += 1
        sweep.save(update_fields=["version", "updated_at"])
        if trial.state == TrialState.COMPLETE:
            update_best(sweep, trial)
        elif trial.state == TrialState.FAILED:
            fail_if_broken(sweep)
        end_if_done(sweep)
    return trial


def fail_if_broken(sweep: Sweep) -> None:
    """Fail a locked sweep whose first SWEEP_MAX_INITIAL_FAILURES trials to end all failed:
    its runs cannot work (a bad command, a crash on import), so agents stop asking.

    Checked when exactly that many have ended: later failures never fail a sweep."""
    limit = settings.SWEEP_MAX_INITIAL_FAILURES
    if not limit or sweep.is_ended:
        return
    ended = Trial.objects.filter(sweep=sweep).exclude(state=TrialState.RUNNING)
    if ended.count() == limit and not ended.exclude(state=TrialState.FAILED).exists():
        move_to(sweep, SweepState.FAILED)


def set_objective(trial: Trial, objective: list[float] | None) -> None:
    if objective is None:
        trial.value, trial.values = None, None
    elif len(objective) == 1:
        trial.value, trial.values = objective[0], None
    else:
        trial.value, trial.values = objective[0], objective


def _better(goal: str, a: float, b: float) -> bool:
    return a < b if goal == "minimize" else a > b


def update_best(sweep: Sweep, trial: Trial) -> None:
    """Mark the best trial (or the Pareto front of a multi-objective sweep)."""
    if len(sweep.metric) > 1:
        mark_pareto_front(sweep)
        return
    best = sweep.best_trial
    goal = sweep.directions[0]
    if best is None or best.value is None or _better(goal, trial.value, best.value):  # type: ignore[arg-type]
        Trial.objects.filter(sweep=sweep, is_best=True).update(is_best=False)
        Trial.objects.filter(pk=trial.pk).update(is_best=True)
        trial.is_best = True
        sweep.best_trial = trial
        sweep.save(update_fields=["best_trial", "updated_at"])


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
        if not any(_dominates(goals, o.values, t.values) for o in complete if o.pk != t.pk)
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
    return best.value <= target if goal == "minimize" else best.value >= target


def end_if_done(sweep: Sweep) -> None:
    """Finish a locked sweep whose target is reached, or whose cap is used with none running."""
    if sweep.is_ended:
        return
    capped = sweep.run_cap is not None and sweep.next_number >= sweep.run_cap
    if target_reached(sweep) or (
        capped and not Trial.objects.filter(sweep=sweep, state=TrialState.RUNNING).exists()
    ):
        move_to(sweep, SweepState.FINISHED)


class TrialConflict(Exception):
    """The trial already ended, differently from what was reported."""


def report_result(trial: Trial, objective: list[float] | None) -> Trial:
    """Ask/tell without a run history: the reported value ends the trial's run.

    Reporting the same result twice counts once; anything else on an ended trial
    is a conflict that says how the trial ended.
    """
    sweep = trial.sweep
    if objective is not None and len(objective) != len(sweep.metric_names):
        names = ", ".join(sweep.metric_names)
        raise ValueError(f"The sweep has {len(sweep.metric_names)} metric(s) ({names}).")
    with transaction.atomic():
        # Two agents reporting one trial at once: the sweep lock (taken first, as cancel
        # and record_run_end do) makes the second see the first's end, so it counts once.
        now = Sweep.objects.select_for_update().only("state").get(pk=sweep.pk)
        trial.refresh_from_db(fields=["state", "value", "values"])
        if trial.state != TrialState.RUNNING:
            if trial.state == TrialState.COMPLETE and objective == trial.objective:
                return trial
            why = f" (the sweep is {now.state})" if now.is_ended else ""
            raise TrialConflict(f"Trial {trial.number} already ended as {trial.state}{why}.")
        run = trial.run
        if run is None:
            raise TrialConflict(f"Trial {trial.number} has no run to report for.")
        if objective is None:
            summary, state = None, RunState.FAILED
        else:
            summary = dict(zip(sweep.metric_names, objective, strict=True))
            state = RunState.FINISHED
        try:
            finish_run(run, state=state, summary=summary)
        except RunConflict as error:
            raise TrialConflict(f"Trial {trial.number}: {error}") from error
    trial.refresh_from_db()
    return trial
