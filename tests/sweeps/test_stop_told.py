"""Early termination told truthfully: a run told to stop on the batch its client sent after
the script had ended (`?final=true`) ran to its end, and its trial ends complete, keeping
the step where the stop was asked; one told while its script ran stays pruned."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from rest_framework.test import APIClient

from runs.ingest import log_batch
from runs.lifecycle import finish_run
from sweeps.models import Sweep, Trial
from sweeps.state_machine import suggest_trial
from tests.sweeps.conftest import RANDOM

# Bands at 2, 6, 18 logged values; with eta 3 the worse of two runs at a band is cut.
HYPERBAND = {**RANDOM, "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3}}


def log(trial: Trial, steps: range, loss: float, final: bool = False) -> bool:
    rows = [{"step": step, "time": 1.0, "values": {"loss": loss}} for step in steps]
    assert trial.run is not None
    return log_batch(trial.run, {"rows": rows, "summary": {"loss": loss}}, final).stop_run


def sweep_with_a_good_trial(make_sweep: Callable[..., Sweep]) -> Sweep:
    sweep = make_sweep(HYPERBAND)
    good = suggest_trial(sweep.pk)
    # Batch by batch, as a script's are sent: its value at each band is kept.
    assert not log(good, range(2), 0.1)
    assert not log(good, range(2, 6), 0.1)
    assert good.run is not None
    finish_run(good.run, exit_code=0)
    return sweep


def ended(trial: Trial) -> Trial:
    assert trial.run is not None
    finish_run(trial.run, exit_code=0)
    return Trial.objects.get(pk=trial.pk)


def test_a_run_told_to_stop_after_its_script_ended_is_complete(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = sweep_with_a_good_trial(make_sweep)
    late = suggest_trial(sweep.pk)

    # The rows left when the script called finish(): told to stop, too late to see it.
    assert log(late, range(2), 0.9, final=True)
    trial = ended(late)

    assert (trial.state, trial.stop_step, trial.value) == ("complete", 1, 0.9)
    sweep.refresh_from_db()
    assert sweep.best_trial is not None and sweep.best_trial.number == 0


def test_a_run_told_to_stop_while_its_script_ran_stays_pruned(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = sweep_with_a_good_trial(make_sweep)
    stopped, stopped_later = suggest_trial(sweep.pk), suggest_trial(sweep.pk)

    assert log(stopped, range(2), 0.9)  # it stops at once, logging nothing more
    assert log(stopped_later, range(2), 0.95)
    assert log(stopped_later, range(2, 3), 0.8, final=True)  # its last rows, as it ends

    assert [(t.state, t.stop_step, t.value) for t in map(ended, [stopped, stopped_later])] == [
        ("pruned", 1, 0.9),
        ("pruned", 1, 0.8),
    ]


def test_the_api_and_the_trials_table_tell_the_step_where_the_stop_was_asked(
    api: APIClient, client: Client, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = sweep_with_a_good_trial(make_sweep)
    late = suggest_trial(sweep.pk)
    assert late.run is not None
    rows = [{"step": s, "time": 1.0, "values": {"loss": 0.9}} for s in range(2)]

    told = api.post(
        f"/api/v1/runs/{late.run.pk}/log/?final=true",
        {"rows": rows, "summary": {"loss": 0.9}},
        format="json",
    )
    ended(late)
    trials = api.get(f"/api/v1/sweeps/{sweep.pk}/trials/").json()["results"]

    assert told.json()["should_stop"] is True
    assert [(t["state"], t["stop_step"]) for t in trials] == [
        ("complete", None),
        ("complete", 1),
    ]
    client.force_login(sweep.project.owner)
    page = client.get(f"/sweeps/{sweep.pk}/?tab=trials").content.decode()
    row = page[page.index('id="trial-1"') :]
    row = row[: row.index("</tr>")]
    assert "complete" in row and "stop requested at step 1" in row
    assert "It ran to its end before it saw the stop." in row
