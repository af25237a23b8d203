"""A suggestion's reads of its sweep's trials, kept between suggestions: every change
that a whole read would see is seen, reading only what may have changed."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sweeps import state_machine, trial_records
from sweeps.models import Sweep, TrialState
from tests.sweeps.conftest import GRID


def whole_read(sweep: Sweep) -> list[tuple[int, str, float | None]]:
    return list(sweep.trials.order_by("number").values_list("number", "state", "value"))


def kept_read(sweep: Sweep) -> list[tuple[int, str, float | None]]:
    return [(r.number, r.state, r.value) for r in trial_records.read(sweep.pk)]


def test_kept_rows_follow_new_ended_pruned_and_deleted_trials(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = make_sweep(GRID)
    trials = [state_machine.suggest_trial(sweep.pk) for _ in range(4)]
    assert kept_read(sweep) == whole_read(sweep)

    state_machine.report_result(trials[0], [0.5])
    state_machine.report_result(trials[1], None)
    trials[2].checkpoints = {}
    assert state_machine.prune(trials[2])
    state_machine.suggest_trial(sweep.pk)
    assert kept_read(sweep) == whole_read(sweep)
    assert [r.state for r in trial_records.read(sweep.pk)][:3] == [
        TrialState.COMPLETE,
        TrialState.FAILED,
        TrialState.PRUNED,
    ]

    # Deleting a run deletes its trial: the kept rows drop it.
    assert trials[3].run is not None
    trials[3].run.delete()
    assert kept_read(sweep) == whole_read(sweep)
    assert 3 not in [r.number for r in trial_records.read(sweep.pk)]


def test_a_kept_read_reads_only_the_open_and_new_trials(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = make_sweep(GRID)
    trials = [state_machine.suggest_trial(sweep.pk) for _ in range(6)]
    for trial in trials[:5]:
        state_machine.report_result(trial, [0.1])
    trial_records.read(sweep.pk)
    state_machine.suggest_trial(sweep.pk)

    with CaptureQueriesContext(connection) as queries:
        numbers = [r.number for r in trial_records.read(sweep.pk)]

    assert numbers == list(range(7))
    changed = next(q["sql"] for q in queries.captured_queries if '"point_key"' in q["sql"])
    # Trial 5 was running at the last read; trial 6 is new. The five complete ones are kept.
    assert '"number" >= 6' in changed and "IN (5)" in changed
