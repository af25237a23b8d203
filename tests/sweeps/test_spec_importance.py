"""Importance: fANOVA and PED-ANOVA through Optuna, Pearson correlation, computed once per
sweep version however many requests ask at once."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from projects.models import Project
from sweeps import importance
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep
from sweeps.state_machine import report_result, suggest_trial

CONFIG: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
        "batch_size": {"values": [16, 32, 64, 128]},
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
        "noise": {"min": 0.0, "max": 1.0},
        "epochs": {"value": 10},
    },
}


def loss(params: dict[str, Any]) -> float:
    """lr matters most, then the optimizer; batch size a little; noise not at all."""
    penalty = {"adam": 0.0, "sgd": 1.0, "rmsprop": 0.5}[params["optimizer"]]
    return (math.log10(params["lr"]) + 3) ** 2 + penalty + params["batch_size"] / 640


@pytest.fixture
def sweep_of(project: Project) -> Callable[[int], Sweep]:
    def make(trials: int) -> Sweep:
        sweep = create_sweep(project, CONFIG, seed=21)
        for _ in range(trials):
            trial = suggest_trial(sweep.pk)
            report_result(trial, [loss(trial.params)])
        return Sweep.objects.get(pk=sweep.pk)

    return make


def test_it_ranks_parameters_by_fanova_and_ped_anova(sweep_of: Callable[[int], Sweep]) -> None:
    sweep = sweep_of(60)

    result = importance.cached_or_compute(sweep)

    assert result is not None and result["trials"] == 60 and result["needed"] == 0
    fanova = result["fanova"]
    assert (fanova["method"], fanova["trials"]) == ("fANOVA", 60)
    ranked = sorted(fanova["importances"], key=fanova["importances"].get, reverse=True)
    assert ranked[:2] == ["lr", "optimizer"]
    assert fanova["importances"]["noise"] < 0.05
    assert set(result["ped_anova"]["importances"]) == {"lr", "batch_size", "optimizer", "noise"}
    assert result["importances"] == fanova["importances"]  # what the charts read


def test_it_correlates_each_parameter_as_w_and_b_shows_it(
    sweep_of: Callable[[int], Sweep],
) -> None:
    sweep = sweep_of(60)

    result = importance.cached_or_compute(sweep)

    rows = {(c["parameter"], c["value"]): c["r"] for c in result["correlation"]["correlations"]}
    # Numbers as values: one correlation on the numbers; strings: one per value.
    assert set(rows) == {
        ("lr", None),
        ("batch_size", None),
        ("optimizer", "adam"),
        ("optimizer", "sgd"),
        ("optimizer", "rmsprop"),
        ("noise", None),
    }
    assert rows[("optimizer", "sgd")] > 0 > rows[("optimizer", "adam")]
    assert abs(rows[("noise", None)]) < 0.4
    assert all(-1 <= r <= 1 for r in rows.values())


def test_it_says_how_many_more_trials_it_needs(sweep_of: Callable[[int], Sweep]) -> None:
    sweep = sweep_of(3)

    result = importance.cached_or_compute(sweep)

    assert (result["trials"], result["needed"], result["importances"]) == (3, 7, {})
    assert result["correlation"]["correlations"] == []


def test_a_plain_read_computes_nothing(
    sweep_of: Callable[[int], Sweep], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every result counts as quick, however loaded the machine: a stale one is redone.
    monkeypatch.setattr(importance, "FRESH_BELOW", float("inf"))
    sweep = sweep_of(12)

    assert importance.stored(sweep) is None
    importance.cached_or_compute(sweep)
    trial = suggest_trial(sweep.pk)
    report_result(trial, [1.0])
    sweep.refresh_from_db()

    kept = importance.stored(sweep)
    assert kept is not None and kept["stale"] is True and kept["trials"] == 12
    assert importance.cached_or_compute(sweep)["trials"] == 13


def test_only_the_request_that_claims_a_version_computes_it(
    sweep_of: Callable[[int], Sweep],
) -> None:
    sweep = sweep_of(12)
    # Two workers that read the sweep row at the same moment.
    first, second = Sweep.objects.get(pk=sweep.pk), Sweep.objects.get(pk=sweep.pk)

    assert importance._claim(first) is True
    assert importance._claim(second) is False
    # The loser gets what is stored (nothing yet) instead of computing it again.
    assert importance.cached_or_compute(second) is None
    row = Sweep.objects.get(pk=sweep.pk)
    assert row.importance_version == sweep.version and "claimed_at" in row.importance


def test_a_claim_whose_computation_died_is_taken_over(sweep_of: Callable[[int], Sweep]) -> None:
    sweep = sweep_of(12)
    assert importance._claim(Sweep.objects.get(pk=sweep.pk))
    long_ago = (timezone.now() - importance.CLAIM_TIMEOUT - timedelta(seconds=1)).isoformat()
    Sweep.objects.filter(pk=sweep.pk).update(importance={"claimed_at": long_ago})

    result = importance.cached_or_compute(Sweep.objects.get(pk=sweep.pk))

    assert result is not None and result["trials"] == 12
    assert Sweep.objects.get(pk=sweep.pk).importance["version"] == sweep.version


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_compute_a_version_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared between threads")
    sweep = create_sweep(project, CONFIG, seed=21)
    for _ in range(12):
        trial = suggest_trial(sweep.pk)
        report_result(trial, [loss(trial.params)])
    computed = []
    real = importance.compute
    monkeypatch.setattr(importance, "compute", lambda s: computed.append(s.pk) or real(s))
    start = threading.Barrier(4)
    answers: list[Any] = []

    def ask() -> None:
        start.wait()
        try:
            answers.append(importance.cached_or_compute(Sweep.objects.get(pk=sweep.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert computed == [sweep.pk]
    assert len(answers) == 4
    assert sum(answer is not None for answer in answers) >= 1


def test_it_samples_large_sweeps_evenly_and_the_same_way_each_time() -> None:
    rows = list(range(10_000))

    sample = importance.subsample(rows, 1000)

    assert len(sample) == 1000 and sample == importance.subsample(rows, 1000)
    assert sample[0] == 0 and sample[-1] == 9_999
    gaps = {b - a for a, b in zip(sample, sample[1:], strict=False)}
    assert gaps <= {10, 11}
    assert importance.subsample(rows[:50], 1000) == rows[:50]


def test_a_slow_result_stands_for_a_while_instead_of_being_redone_per_trial(
    sweep_of: Callable[[int], Sweep],
) -> None:
    sweep = sweep_of(12)
    first = importance.cached_or_compute(sweep)
    # As if it had taken 2 s (a large sweep): redone only 20 s after it was computed.
    Sweep.objects.filter(pk=sweep.pk).update(importance=first | {"seconds": 2.0})
    trial = suggest_trial(sweep.pk)
    report_result(trial, [1.0])

    kept = importance.cached_or_compute(Sweep.objects.get(pk=sweep.pk))
    later = (timezone.now() - timedelta(seconds=21)).isoformat()
    Sweep.objects.filter(pk=sweep.pk).update(importance=kept | {"computed_at": later})
    redone = importance.cached_or_compute(Sweep.objects.get(pk=sweep.pk))

    assert (kept["stale"], kept["trials"]) == (True, 12)
    assert (redone["stale"], redone["trials"]) == (False, 13)
