"""Every change of a sweep's or a trial's state, and the transactions that make them.

Nothing else sets `Sweep.state` or `Trial.state`. Each change is an event looked up in
TRANSITIONS, the one table of (state, event) -> state for sweeps and trials alike (their
events have distinct names), applied to rows whose sweep is locked (`select_for_update`
on the sweep row) in the same transaction as what caused it, and bumps `Sweep.version`
so that caches (the importance, a page's ETag) see it.

What causes them lives here too: a user's action (start, pause, resume, finish, cancel
and its kill of the running trials), a suggestion (the first one starts the sweep; a
used-up cap or grid finishes it), a run's end (its trial completes or fails; the sweep
may finish or fail), a report (ask/tell: the run ends with the reported value), a
pruning decision (`sweeps.early_stop` decides, `prune` applies) and the crash check of
silent runs. `finish_if_done` is the one answer to "when does a sweep finish?".

The sampler (`sweeps.sampling`) is pure: this module reads the rows it needs and stores
what it proposes. Values and best trials are `sweeps.results`' business.
"""

from __future__ import annotations

import contextlib
import math
import time
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from runs import lifecycle as run_lifecycle
from runs.lifecycle import RunConflict, finish_run
from runs.models import Run, RunState
from runs.signals import run_ending, run_finished
from sweeps import distributions, results, sampling, trial_records
from sweeps.config import SweepConfig
from sweeps.models import Sweep, SweepState, Trial, TrialState


class Event(StrEnum):
    """What happens to a sweep or a trial. Sweep and trial events never share a name."""

    # A sweep's, asked by a user.
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"
    CANCEL = "cancel"
    # A sweep's, caused by what happens.
    FIRST_SUGGESTION = "first_suggestion"
    TARGET_REACHED = "target_reached"
    CAPPED = "capped"
    EXHAUSTED = "exhausted"
    FIRST_TRIALS_FAILED = "first_trials_failed"
    # A trial's: its run ended (with the metric's value, or without one), was pruned.
    RUN_FINISHED = "run_finished"
    RUN_FINISHED_WITHOUT_VALUE = "run_finished_without_value"
    RUN_FAILED = "run_failed"
    RUN_CRASHED = "run_crashed"
    RUN_KILLED = "run_killed"
    PRUNED = "pruned"
    # A pruned trial's run finished all it meant to before it could see the stop.
    RUN_FINISHED_BEFORE_STOP = "run_finished_before_stop"


_S, _T = SweepState, TrialState
_ACTIVE = (_S.PENDING, _S.RUNNING, _S.PAUSED)
_RUN_ENDS = (
    Event.RUN_FINISHED,
    Event.RUN_FINISHED_WITHOUT_VALUE,
    Event.RUN_FAILED,
    Event.RUN_CRASHED,
    Event.RUN_KILLED,
)

TRANSITIONS: dict[tuple[str, Event], str] = {
    (_S.PENDING, Event.START): _S.RUNNING,
    **{(state, Event.PAUSE): _S.PAUSED for state in (_S.PENDING, _S.RUNNING)},
    (_S.PAUSED, Event.RESUME): _S.RUNNING,
    **{(state, Event.FINISH): _S.FINISHED for state in _ACTIVE},
    **{(state, Event.CANCEL): _S.CANCELED for state in _ACTIVE},
    (_S.PENDING, Event.FIRST_SUGGESTION): _S.RUNNING,
    **{(state, Event.TARGET_REACHED): _S.FINISHED for state in _ACTIVE},
    **{(state, Event.CAPPED): _S.FINISHED for state in _ACTIVE},
    (_S.RUNNING, Event.EXHAUSTED): _S.FINISHED,
    **{(state, Event.FIRST_TRIALS_FAILED): _S.FAILED for state in _ACTIVE},
    (_T.RUNNING, Event.RUN_FINISHED): _T.COMPLETE,
    (_T.RUNNING, Event.RUN_FINISHED_WITHOUT_VALUE): _T.FAILED,
    (_T.RUNNING, Event.RUN_FAILED): _T.FAILED,
    (_T.RUNNING, Event.RUN_CRASHED): _T.FAILED,
    (_T.RUNNING, Event.RUN_KILLED): _T.FAILED,
    (_T.RUNNING, Event.PRUNED): _T.PRUNED,
    # A pruned run was stopped on purpose: however it ends, its last value counts.
    **{(_T.PRUNED, event): _T.PRUNED for event in _RUN_ENDS},
    (_T.PRUNED, Event.RUN_FINISHED_BEFORE_STOP): _T.COMPLETE,
}

# The events a user may ask for, in the order the pages show them.
ACTIONS: tuple[str, ...] = tuple(
    str(event) for event in (Event.START, Event.PAUSE, Event.RESUME, Event.FINISH, Event.CANCEL)
)


def legal_actions(state: str) -> list[str]:
    """The actions a user may take on a sweep in `state`."""
    return [action for action in ACTIONS if (state, action) in TRANSITIONS]


def _sources(event: Event) -> list[str]:
    return sorted(state for state, on in TRANSITIONS if on == event)


class SweepConflict(Exception):
    """The action is not legal in the sweep's current state."""

    def __init__(self, sweep: Sweep, message: str) -> None:
        super().__init__(message)
        self.state = sweep.state


class SweepUnavailable(Exception):
    """No trial now. `retry` says whether asking again later may get one (paused, busy)."""

    def __init__(self, sweep: Sweep, reason: str, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.state, self.reason, self.retry = sweep.state, reason, retry


class TrialConflict(Exception):
    """The trial already ended, differently from what was reported."""


# Applying the table -----------------------------------------------------------------------


def _move(sweep: Sweep, event: Event) -> None:
    """Apply `event` to a sweep whose row the caller has locked."""
    state = TRANSITIONS[(sweep.state, event)]
    now = timezone.now()
    sweep.state = state
    if state == SweepState.RUNNING and sweep.started_at is None:
        sweep.started_at = now
    if state in (SweepState.FINISHED, SweepState.FAILED, SweepState.CANCELED):
        sweep.ended_at = now
    sweep.version += 1
    sweep.save(update_fields=["state", "started_at", "ended_at", "version", "updated_at"])


def _may(sweep: Sweep, event: Event) -> bool:
    return (sweep.state, event) in TRANSITIONS


def _end_trial(sweep: Sweep, trial: Trial, event: Event, objective: list[float] | None) -> None:
    """Apply a run-end `event` to the trial of a locked `sweep`, with its value, and keep the
    best trial current: one write of the trial and one of the sweep."""
    trial.state = TRANSITIONS[(trial.state, event)]
    results.set_objective(trial, objective)
    trial.ended_at = timezone.now()
    complete = trial.state == TrialState.COMPLETE
    sweep_fields = ["version", "updated_at"]
    if complete and results.take_best(sweep, trial):
        sweep_fields.append("best_trial")
    trial.save(update_fields=["state", "value", "values", "ended_at", "is_best"])
    if complete and len(sweep.metric) > 1:
        results.mark_pareto_front(sweep)
    sweep.version += 1
    sweep.save(update_fields=sweep_fields)


def _run_end_event(run: Run, objective: list[float] | None) -> Event:
    if run.state == RunState.FINISHED:
        return Event.RUN_FINISHED if objective else Event.RUN_FINISHED_WITHOUT_VALUE
    if run.state == RunState.CRASHED:
        return Event.RUN_CRASHED
    if run.state == RunState.KILLED:
        return Event.RUN_KILLED
    return Event.RUN_FAILED


# When a sweep ends on its own -------------------------------------------------------------


def done_because(sweep: Sweep, exhausted: bool = False) -> Event | None:
    """Why a locked, unended sweep is done, or None: its best trial reached the target,
    its run cap is used up with no trial still running, or (`exhausted`, which only the
    sampler can tell at a suggestion) every point of its space has run."""
    if exhausted:
        return Event.EXHAUSTED
    if results.target_reached(sweep):
        return Event.TARGET_REACHED
    capped = sweep.run_cap is not None and sweep.next_number >= sweep.run_cap
    if capped and not Trial.objects.filter(sweep=sweep, state=TrialState.RUNNING).exists():
        return Event.CAPPED
    return None


def finish_if_done(sweep: Sweep, exhausted: bool = False) -> None:
    """Finish a locked sweep that is done (see `done_because`): the one place it happens."""
    if sweep.is_ended:
        return
    event = done_because(sweep, exhausted)
    if event is not None and _may(sweep, event):
        _move(sweep, event)


def fail_if_broken(sweep: Sweep) -> None:
    """Fail a locked sweep whose first SWEEP_MAX_INITIAL_FAILURES trials to end all failed
    (see `sweeps.results.first_trials_failed`), so that agents stop asking."""
    if _may(sweep, Event.FIRST_TRIALS_FAILED) and results.first_trials_failed(sweep):
        _move(sweep, Event.FIRST_TRIALS_FAILED)


# A user's actions -------------------------------------------------------------------------


def transition(sweep: Sweep, action: str) -> Sweep:
    """Apply a user's action under the sweep's lock, or raise SweepConflict.

    Cancel kills the runs of the running trials in the same transaction."""
    event = Event(action) if action in ACTIONS else None
    if event is None:
        raise ValueError(f"{action!r} is not an action; use one of {', '.join(ACTIONS)}")
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if not _may(locked, event):
            legal = ", ".join(_sources(event))
            raise SweepConflict(
                locked, f"The sweep is {locked.state}; {action} needs it to be {legal}."
            )
        _move(locked, event)
        if event == Event.CANCEL:
            _kill_running_trials(locked)
    return locked


def _kill_running_trials(sweep: Sweep) -> None:
    """Mark the runs of running trials killed; each run's end fails its trial."""
    running = Trial.objects.filter(sweep=sweep, state=TrialState.RUNNING).select_related("run")
    for trial in running:
        if trial.run is None:
            continue
        try:
            finish_run(trial.run, state=RunState.KILLED)
        except RunConflict:
            continue


def edit_sweep(sweep: Sweep, fields: dict[str, Any]) -> Sweep:
    """Change a sweep's name, description or run_cap under its lock (the state is not
    among them: it moves by `transition`). A cap now used up with nothing running
    finishes the sweep, as the last trial's end would have."""
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        if "run_cap" in fields:
            finish_if_done(locked)
    return Sweep.objects.select_related("project", "best_trial").get(pk=sweep.pk)


# A suggestion -----------------------------------------------------------------------------


# Proposals made outside the sweep lock before one is made under it (see suggest_trial).
UNLOCKED_PROPOSALS = 3


def suggest_trial(
    sweep_id: str, snapshot: Sweep | None = None, agent_id: int | None = None
) -> Trial:
    """Check the sweep may run another trial, ask the sampler, store Run + Trial.

    Before, silent runs are crashed and trials whose run ended are ended, so that their
    points are free again and a cap or grid sees them done.

    The sampler works outside the sweep lock, from a snapshot of the sweep (`snapshot`,
    read just before, or read here) and its rows, so that several server workers serve
    one sweep at once; the lock is held only to check the state, the cap and that no trial
    handed out since the snapshot took the same point, and to insert. A proposal taken
    meanwhile is made again; after UNLOCKED_PROPOSALS, under the lock. Random search
    reads no rows and is proposed under the lock. The trial is `agent_id`'s (sweeps.agents).
    """
    _end_silent_and_ended_runs(sweep_id)
    with sampling.proposing(sweep_id):
        for _ in range(UNLOCKED_PROPOSALS):
            if snapshot is None:
                snapshot = Sweep.objects.select_related("project").get(pk=sweep_id)
            config = SweepConfig.from_dict(snapshot.config)
            if not _proposes_unlocked(snapshot, config):
                break
            try:
                suggestion = _propose(snapshot, config)
            except sampling.NoPoint:
                break  # busy or exhausted: decided under the lock
            trial = _store_if_free(snapshot, suggestion, agent_id)
            if trial is not None:
                return trial
            snapshot = None
        return _suggest_locked(sweep_id, agent_id)


def _proposes_unlocked(snapshot: Sweep, config: SweepConfig) -> bool:
    """Whether a proposal is worth making before the lock: the sweep runs, has room under
    its cap, and its sampler reads rows (random search reads none)."""
    capped = snapshot.run_cap is not None and snapshot.next_number >= snapshot.run_cap
    random = config.method == "random" and not config.without_replacement
    return snapshot.state == SweepState.RUNNING and not capped and not random


def _store_if_free(
    snapshot: Sweep, suggestion: sampling.Suggestion, agent_id: int | None = None
) -> Trial | None:
    """Store a proposal made from `snapshot` unless the sweep cannot take it now: no longer
    running or capped (the locked path says why), or its point handed out since."""
    proposed = snapshot.next_number
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("project").get(pk=snapshot.pk)
        open_ = sweep.state == SweepState.RUNNING
        if not open_ or (sweep.run_cap is not None and sweep.next_number >= sweep.run_cap):
            sampling.withdraw(sweep.pk, proposed)
            return None
        if sweep.next_number != proposed and _taken_since(sweep, proposed, suggestion):
            sampling.withdraw(sweep.pk, proposed)
            return None
        try:
            trial = _store(sweep, suggestion, agent_id)
        except BaseException:
            sampling.forget(sweep.pk)  # its kept study may hold a trial the database never got
            raise
    if trial.number != proposed:
        sampling.renumber(sweep.pk, proposed, trial.number)
    return trial


def _taken_since(sweep: Sweep, number: int, suggestion: sampling.Suggestion) -> bool:
    """Whether a trial handed out from trial `number` on holds the proposed point: the same
    grid point, or (a sampler seeded alike from the same rows) the same coordinates."""
    since = Trial.objects.filter(sweep_id=sweep.pk, number__gte=number)
    for key, internal in since.values_list("point_key", "internal"):
        if (key == suggestion.point_key and key) or internal == suggestion.internal:
            return True
    return False


def _suggest_locked(sweep_id: str, agent_id: int | None) -> Trial:
    """Lock the sweep, check it may run another trial, ask the sampler, store Run + Trial."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("project").get(pk=sweep_id)
        config = SweepConfig.from_dict(sweep.config)
        try:
            _open_or_refuse(sweep)
            suggestion = _propose_or_refuse(sweep, config)
            trial = _store(sweep, suggestion, agent_id)
        except SweepUnavailable as error:
            # Leave the block normally so that a state change (finished) is kept.
            unavailable = error
        except BaseException:
            sampling.forget(sweep.pk)  # its kept study may hold a trial the database never got
            raise
        else:
            return trial
    raise unavailable


def _open_or_refuse(sweep: Sweep) -> None:
    """Start a pending sweep at its first suggestion; refuse one that is paused, ended or
    capped (finishing a capped one whose trials have all ended)."""
    if _may(sweep, Event.FIRST_SUGGESTION):
        _move(sweep, Event.FIRST_SUGGESTION)
    if sweep.state == SweepState.PAUSED:
        raise SweepUnavailable(sweep, "paused", "The sweep is paused; wait for resume.", True)
    if sweep.is_ended:
        raise SweepUnavailable(sweep, sweep.state, f"The sweep is {sweep.state}.")
    if sweep.run_cap is not None and sweep.next_number >= sweep.run_cap:
        finish_if_done(sweep)
        raise SweepUnavailable(
            sweep, "capped", f"The sweep reached its run_cap of {sweep.run_cap}."
        )


def _propose(sweep: Sweep, config: SweepConfig) -> sampling.Suggestion:
    """What the sampler proposes from the sweep's rows (NoPoint: none free now)."""
    if config.method == "random" and not config.without_replacement:
        # W&B's random search never looks at earlier trials: nothing to read.
        return sampling.suggest_random(config, sweep.seed, sweep.next_number)
    records = trial_records.read(sweep.pk)
    # Read after an unlocked snapshot, the rows may hold trials handed out since: the
    # proposal is for the trial after them (a kept study files each number once).
    sweep.next_number = max([sweep.next_number, *(r.number + 1 for r in records)])
    if config.method == "bayes":
        return sampling.suggest_bayes(bayes_history(sweep, config, records))
    return sampling.next_point(sweep.pk, config, sweep.seed, sweep.next_number, records)


def _propose_or_refuse(sweep: Sweep, config: SweepConfig) -> sampling.Suggestion:
    """`_propose` for a locked sweep: no free point is a refusal, an exhausted space
    finishes the sweep."""
    try:
        return _propose(sweep, config)
    except sampling.NoPoint as none:
        if none.reason == "busy":
            raise SweepUnavailable(sweep, "busy", str(none), True) from none
        finish_if_done(sweep, exhausted=True)
        raise SweepUnavailable(sweep, "exhausted", str(none)) from none


def bayes_history(
    sweep: Sweep, config: SweepConfig, records: list[sampling.TrialRecord] | None = None
) -> sampling.History:
    """The rows a Bayesian suggestion reads: only the coordinates its kept study lacks,
    the warm start only when it rebuilds, the last values only when `impute` asks."""
    if records is None:
        records = trial_records.read(sweep.pk)
    needed, rebuild = sampling.needed_coordinates(sweep.pk, config, records)
    coordinates = dict(
        Trial.objects.filter(sweep_id=sweep.pk, number__in=needed).values_list("number", "internal")
    )
    warm_start: list[tuple[dict[str, Any], list[float]]] = []
    if rebuild and sweep.warm_start_from_id is not None:
        source = Trial.objects.filter(
            sweep_id=sweep.warm_start_from_id, state=TrialState.COMPLETE
        ).only("internal", "value", "values")
        warm_start = [(t.internal, o) for t in source if (o := t.objective)]
    return sampling.History(
        sweep_id=sweep.pk,
        config=config,
        seed=sweep.seed,
        number=sweep.next_number,
        trials=records,
        coordinates=coordinates,
        warm_start=warm_start,
        latest=_latest_values(sweep, sampling.wants_latest(config, records)),
    )


def _latest_values(sweep: Sweep, numbers: list[int]) -> dict[int, list[float]]:
    """The objective of each of these trials' run summaries (its last logged values)."""
    if not numbers:
        return {}
    runs = Run.objects.filter(trial__sweep=sweep, trial__number__in=numbers)
    latest = {}
    for number, summary in runs.values_list("trial__number", "summary"):
        if (objective := results.objective_of(sweep, summary)) is not None:
            latest[number] = objective
    return latest


def _store(sweep: Sweep, suggestion: sampling.Suggestion, agent_id: int | None = None) -> Trial:
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
        agent_id=agent_id,
    )
    sweep.next_number = number + 1
    sweep.save(update_fields=["next_number", "updated_at"])
    return trial


# A run's end ------------------------------------------------------------------------------


@receiver(run_ending, dispatch_uid="sweeps.lock_sweep_of_run")
def _on_run_ending(sender: Any, run: Run, trial: Trial | None = None, **kwargs: Any) -> None:
    if trial is not None:
        return  # a report: its caller locked the trial's sweep already
    # The sweep before the run, as suggest, report and cancel lock: no lock-order deadlock.
    list(
        Sweep.objects.select_for_update()
        .filter(pk__in=Trial.objects.filter(run=run).values("sweep_id"))
        .values_list("pk", flat=True)
    )


@receiver(run_finished, dispatch_uid="sweeps.record_run_end")
def _on_run_finished(sender: Any, run: Run, trial: Trial | None = None, **kwargs: Any) -> None:
    if trial is not None:
        _record_end(run, trial)
    else:
        record_run_end(run)


def _lock_sweep(sweep_id: str) -> Sweep:
    """The sweep's row, locked for the transaction, with its best trial (which a trial's
    end compares with). of=("self",): PostgreSQL cannot lock the nullable side of the best
    trial's join."""
    return (
        Sweep.objects.select_for_update(of=("self",)).select_related("best_trial").get(pk=sweep_id)
    )


def record_run_end(run: Run) -> Trial | None:
    """End the run's trial, keep the best current, and fail or finish the sweep when so.

    Idempotent: a trial already complete or failed is left as it is, so that a retried
    run end (and `repair_ended_runs`) ends it exactly once."""
    ids = Trial.objects.filter(run=run).values_list("pk", "sweep_id").first()
    if ids is None:
        return None
    # No savepoint: inside a run's end (the usual caller) a failure here must roll that end
    # back as a whole anyway, and two statements fewer per end add up.
    with transaction.atomic(savepoint=False):
        # Read the trial only once the sweep is locked: before, another end may still change it.
        trial = Trial.objects.get(pk=ids[0])
        trial.sweep = _lock_sweep(ids[1])
        _record_end(run, trial)
    return trial


def _record_end(run: Run, trial: Trial) -> None:
    """`record_run_end` for a trial read after its sweep (`trial.sweep`) was locked."""
    if trial.state in (TrialState.COMPLETE, TrialState.FAILED):
        return
    sweep = trial.sweep
    # A pruned run was stopped on purpose: its last value still counts for the sampler.
    counts = run.state == RunState.FINISHED or trial.state == TrialState.PRUNED
    objective = results.objective_of(sweep, run.summary) if counts else None
    event = _run_end_event(run, objective)
    late = trial.state == TrialState.PRUNED and trial.stop_came_too_late()
    if event == Event.RUN_FINISHED and late:
        event = Event.RUN_FINISHED_BEFORE_STOP
    _end_trial(sweep, trial, event, objective)
    if trial.state == TrialState.FAILED:
        fail_if_broken(sweep)
    finish_if_done(sweep)


# Sweep id -> time.monotonic() of this process's last check of its runs.
_RUNS_CHECKED: dict[str, float] = {}
MAX_RUNS_CHECKED = 4096


def _end_silent_and_ended_runs(sweep_id: str) -> None:
    """`crash_silent_runs` and `repair_ended_runs` with one read: most suggestions find
    neither a silent run nor a trial whose run ended without it. At most once a
    SWEEP_RUN_CHECK_INTERVAL per sweep from this process."""
    now = time.monotonic()
    if now - _RUNS_CHECKED.get(sweep_id, -math.inf) < settings.SWEEP_RUN_CHECK_INTERVAL:
        return
    if len(_RUNS_CHECKED) >= MAX_RUNS_CHECKED:
        _RUNS_CHECKED.clear()
    _RUNS_CHECKED[sweep_id] = now
    cutoff = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
    running = RunState.RUNNING
    found = Run.objects.filter(trial__sweep_id=sweep_id).filter(
        Q(state=running, heartbeat_at__lt=cutoff)
        | (Q(trial__state=TrialState.RUNNING) & ~Q(state=running))
    )
    if found.exists():
        crash_silent_runs(sweep_id)
        repair_ended_runs(sweep_id)


def repair_ended_runs(sweep_id: str) -> None:
    """End the trials still running whose run has ended (left so by a failed end before)."""
    stuck = Run.objects.filter(trial__sweep_id=sweep_id, trial__state=TrialState.RUNNING).exclude(
        state=RunState.RUNNING
    )
    for run in stuck:
        record_run_end(run)


def crash_silent_runs(sweep_id: str) -> None:
    """Crash this sweep's runs that went silent, so their trials fail and free their points."""
    run_lifecycle.crash_silent_runs(Run.objects.filter(trial__sweep_id=sweep_id))


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
        locked = _lock_sweep(sweep.pk)
        current = Trial.objects.select_related("run").get(pk=trial.pk)
        current.sweep = locked
        if current.state != TrialState.RUNNING:
            if current.state == TrialState.COMPLETE and objective == current.objective:
                return current
            why = f" (the sweep is {locked.state})" if locked.is_ended else ""
            raise TrialConflict(f"Trial {trial.number} already ended as {current.state}{why}.")
        if current.run is None:
            raise TrialConflict(f"Trial {trial.number} has no run to report for.")
        if objective is None:
            summary, state = None, RunState.FAILED
        else:
            summary = dict(zip(sweep.metric_names, objective, strict=True))
            state = RunState.FINISHED
        try:
            # The trial, read under its sweep's lock, goes to the run's listeners: they end
            # it without reading and locking again.
            current.run = finish_run(
                current.run, state=state, summary=summary, context={"trial": current}
            )
        except RunConflict as error:
            raise TrialConflict(f"Trial {trial.number}: {error}") from error
    return current


def report_end(trial: Trial, finish: bool) -> Trial:
    """A report that the trial's run ended by itself: with `finish`, a run still running is
    finished (exit code 0: its summary holds the value, as `finish_run` takes it); a run
    that ended already, either way, stays as it ended. The trial as it stands after."""
    run = trial.run
    if finish and run is not None and run.state == RunState.RUNNING:
        # A run that ended another way meanwhile (a cancel killed it) keeps that end.
        with contextlib.suppress(RunConflict):
            finish_run(run, state=RunState.FINISHED)
        trial.refresh_from_db()
    return trial


# Pruning ----------------------------------------------------------------------------------


def prune(trial: Trial) -> bool:
    """Prune a running trial (`sweeps.early_stop` decided it), keeping its checkpoints.

    Only this write takes the sweep lock: the decision before it reads without one, so a
    log batch that prunes nothing stays cheap. False when the trial ended meanwhile."""
    with transaction.atomic():
        sweep = (
            Sweep.objects.select_for_update().only("version", "updated_at").get(pk=trial.sweep_id)
        )
        target = TRANSITIONS[(TrialState.RUNNING, Event.PRUNED)]
        pruned = Trial.objects.filter(pk=trial.pk, state=TrialState.RUNNING).update(
            state=target,
            checkpoints=trial.checkpoints,
            stop_step=trial.stop_step,
            stop_after_end=trial.stop_after_end,
        )
        if pruned:
            sweep.version += 1
            sweep.save(update_fields=["version", "updated_at"])
    return bool(pruned)
