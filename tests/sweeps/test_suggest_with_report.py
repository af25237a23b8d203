"""One round trip per trial: a suggestion that reports the previous trial, and sampling
outside the sweep lock (a proposal whose point another server took is not stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from runs.ingest import log_batch
from runs.lifecycle import finish_run
from runs.models import Run
from sweeps import sampling, state_machine
from sweeps.config import SweepConfig
from sweeps.models import Sweep, Trial
from tests.sweeps.conftest import GRID, RANDOM

BAYES = {
    "method": "bayes",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}},
}


def _suggest(api: APIClient, sweep: Sweep, report: dict[str, Any] | None = None) -> Any:
    body = {"report": report} if report else {}
    return api.post(f"/api/v1/sweeps/{sweep.pk}/suggest/", body, format="json")


def test_it_reports_the_previous_trial_and_suggests_the_next_in_one_request(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    first = _suggest(api, sweep).json()
    assert first["reported"] is None
    assert first["run"]["pk"] == first["run_id"] and first["run"]["sweep"] == sweep.pk

    second = _suggest(api, sweep, {"trial": first["trial"], "value": 0.25})

    assert second.status_code == 201
    body = second.json()
    assert body["trial"] == first["trial"] + 1
    assert (body["reported"]["number"], body["reported"]["state"]) == (first["trial"], "complete")
    assert body["reported"]["value"] == 0.25
    assert Trial.objects.get(sweep=sweep, number=first["trial"]).run.state == "finished"  # type: ignore[union-attr]
    # Sending it again (a retry of a request whose answer was lost) counts once.
    third = _suggest(api, sweep, {"trial": first["trial"], "value": 0.25}).json()
    assert third["reported"]["state"] == "complete" and third["trial"] == body["trial"] + 1


def test_ended_reads_how_a_run_ended_and_finished_ends_one_from_its_summary(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    a, b = _suggest(api, sweep).json(), _suggest(api, sweep).json()
    runs = {run.trial.number: run for run in Run.objects.filter(trial__sweep=sweep)}
    for number, loss in ((a["trial"], 0.5), (b["trial"], 0.7)):
        row = {"step": 0, "values": {"loss": loss}}
        log_batch(runs[number], {"rows": [row], "summary": {"loss": loss}})
    finish_run(runs[a["trial"]], exit_code=0)

    told_a = _suggest(api, sweep, {"trial": a["trial"], "state": "ended"}).json()["reported"]
    told_b = _suggest(api, sweep, {"run_id": b["run_id"], "state": "finished"}).json()["reported"]

    assert (told_a["state"], told_a["value"]) == ("complete", 0.5)
    assert (told_b["state"], told_b["value"]) == ("complete", 0.7)
    # Ended changes nothing: a run still going stays so.
    c = Trial.objects.get(sweep=sweep, number=2)
    told_c = _suggest(api, sweep, {"trial": 2, "state": "ended"}).json()["reported"]
    assert told_c["state"] == "running" and c.run.state == "running"  # type: ignore[union-attr]


def test_a_report_that_conflicts_hands_out_nothing(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    first = _suggest(api, sweep).json()
    assert _suggest(api, sweep, {"trial": first["trial"], "value": 1.0}).status_code == 201

    changed = _suggest(api, sweep, {"trial": first["trial"], "value": 2.0})
    unknown = _suggest(api, sweep, {"trial": 99, "value": 2.0})
    nameless = _suggest(api, sweep, {"value": 2.0})

    assert [changed.status_code, unknown.status_code, nameless.status_code] == [409, 404, 400]
    assert sweep.trials.count() == 2


def test_a_capped_sweep_still_takes_the_report(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep({**RANDOM, "run_cap": 1})
    first = _suggest(api, sweep).json()

    answer = _suggest(api, sweep, {"trial": first["trial"], "value": 0.1})

    # The report ended the last trial under the cap: the sweep finished with it.
    assert (answer.status_code, answer.json()["reason"]) == (409, "finished")
    sweep.refresh_from_db()
    assert sweep.state == "finished" and sweep.trials.get().state == "complete"


def test_suggest_and_report_together_cost_fewer_statements_than_apart(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    apart, together = make_sweep(GRID), make_sweep(GRID)
    numbers = {apart.pk: _suggest(api, apart).json()["trial"]}
    numbers[together.pk] = _suggest(api, together).json()["trial"]
    for value in (0.3, 0.2, 0.1):
        with CaptureQueriesContext(connection) as two_calls:
            url = f"/api/v1/sweeps/{apart.pk}/report/"
            assert api.post(url, {"trial": numbers[apart.pk], "value": value}).status_code == 200
            numbers[apart.pk] = _suggest(api, apart).json()["trial"]
        with CaptureQueriesContext(connection) as one_call:
            report = {"trial": numbers[together.pk], "value": value}
            numbers[together.pk] = _suggest(api, together, report).json()["trial"]
        # The API key and the sweep are read once.
        assert len(one_call) <= len(two_calls) - 2


def test_a_point_taken_while_proposing_is_not_stored_twice(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = make_sweep(GRID)
    state_machine.suggest_trial(sweep.pk)  # running now
    snapshot = Sweep.objects.select_related("project").get(pk=sweep.pk)
    config = SweepConfig.from_dict(snapshot.config)
    proposal = state_machine._propose(snapshot, config)
    # Another server hands out the same point from the same rows meanwhile.
    other = state_machine.suggest_trial(sweep.pk)
    assert other.point_key == proposal.point_key

    assert state_machine._store_if_free(snapshot, proposal) is None
    # Asked again, it proposes from fresh rows: another point, the next number.
    again = state_machine.suggest_trial(sweep.pk, snapshot)
    keys = list(sweep.trials.values_list("point_key", flat=True))
    assert again.number == 2 and len(set(keys)) == len(keys) == 3


def test_a_bayes_proposal_stored_under_a_later_number_keeps_the_study_right(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = make_sweep(BAYES)
    for _ in range(3):
        state_machine.report_result(state_machine.suggest_trial(sweep.pk), [0.5])
    snapshot = Sweep.objects.select_related("project").get(pk=sweep.pk)
    config = SweepConfig.from_dict(snapshot.config)
    with sampling.proposing(sweep.pk):
        proposal = state_machine._propose(snapshot, config)
    # Another server hands out trial 3 meanwhile, from its own study: another point.
    point = {"x": 0.9, "y": 0.9}
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().select_related("project").get(pk=sweep.pk)
        taken = state_machine._store(locked, sampling.Suggestion(dict(point), dict(point)))
    assert taken.number == 3 and taken.internal != proposal.internal

    stored = state_machine._store_if_free(snapshot, proposal)

    assert stored is not None and stored.number == 4 and stored.internal == proposal.internal
    # The kept study files the proposal as trial 4; trial 3 comes from its row when next read.
    state_machine.report_result(taken, [0.9])
    state_machine.report_result(stored, [0.1])
    after = state_machine.suggest_trial(sweep.pk)
    study = sampling._KEPT[sweep.pk].study
    values = {round(t.params["x"], 9): t.value for t in study.get_trials() if t.value is not None}
    assert values[round(stored.internal["x"], 9)] == 0.1
    assert values[round(taken.internal["x"], 9)] == 0.9
    assert after.number == 5
