"""The one table of sweep and trial states, and the version bump of every change."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runs.ingest import log_batch
from sweeps import state_machine
from sweeps.models import Sweep, SweepState, Trial, TrialState
from sweeps.state_machine import TRANSITIONS, Event
from tests.sweeps.conftest import GRID

SWEEP_STATES, TRIAL_STATES = set(SweepState.values), set(TrialState.values)
TRIAL_EVENTS = {e for e in Event if e.startswith("run_") or e == Event.PRUNED}


def test_sweep_and_trial_events_never_share_a_name() -> None:
    for (state, event), target in TRANSITIONS.items():
        states = TRIAL_STATES if event in TRIAL_EVENTS else SWEEP_STATES
        assert {state, target} <= states, (state, event, target)
    assert set(state_machine.ACTIONS) <= {e.value for e in Event} - TRIAL_EVENTS


def test_legal_actions_come_from_the_table() -> None:
    assert state_machine.legal_actions(SweepState.PENDING) == ["start", "pause", "finish", "cancel"]
    assert state_machine.legal_actions(SweepState.PAUSED) == ["resume", "finish", "cancel"]
    assert state_machine.legal_actions(SweepState.FINISHED) == []


def test_every_change_bumps_the_version(make_sweep: Callable[..., Sweep]) -> None:
    sweep = make_sweep({**GRID, "run_cap": 1})
    versions = [sweep.version]

    trial = state_machine.suggest_trial(sweep.pk)  # the first suggestion starts it
    versions.append(Sweep.objects.get(pk=sweep.pk).version)
    state_machine.report_result(trial, [0.5])  # the trial completes, the cap finishes it
    sweep.refresh_from_db()
    versions.append(sweep.version)

    assert sweep.state == SweepState.FINISHED
    assert versions[0] < versions[1] < versions[2]


def test_an_exhausted_grid_finishes_in_the_one_place(make_sweep: Callable[..., Sweep]) -> None:
    sweep = make_sweep({**GRID, "parameters": {"a": {"values": [1]}}})
    state_machine.report_result(state_machine.suggest_trial(sweep.pk), [0.1])

    with pytest.raises(state_machine.SweepUnavailable) as refused:
        state_machine.suggest_trial(sweep.pk)

    sweep.refresh_from_db()
    assert (refused.value.reason, sweep.state) == ("exhausted", SweepState.FINISHED)
    assert state_machine.done_because(sweep, exhausted=True) == Event.EXHAUSTED


def test_pruning_bumps_the_version_under_the_sweep_lock(
    make_sweep: Callable[..., Sweep],
) -> None:
    config = {
        **GRID,
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 3},
    }
    sweep = make_sweep(config)
    good, bad = state_machine.suggest_trial(sweep.pk), state_machine.suggest_trial(sweep.pk)
    assert good.run is not None and bad.run is not None
    log_batch(good.run, {"rows": [{"step": 0, "values": {"loss": 0.1}}]})
    before = Sweep.objects.get(pk=sweep.pk).version

    stopped = log_batch(bad.run, {"rows": [{"step": 0, "values": {"loss": 9.0}}]})

    assert stopped.stop_run
    assert Trial.objects.get(pk=bad.pk).state == TrialState.PRUNED
    assert Sweep.objects.get(pk=sweep.pk).version == before + 1


def test_a_refused_action_names_the_states_it_needs(make_sweep: Callable[..., Sweep]) -> None:
    sweep = make_sweep()

    with pytest.raises(state_machine.SweepConflict) as conflict:
        state_machine.transition(sweep, "resume")

    assert str(conflict.value) == "The sweep is pending; resume needs it to be paused."
