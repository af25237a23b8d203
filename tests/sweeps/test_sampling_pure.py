"""The sampler without a database: config + trial records + seed in, parameters out.

No test here takes the `db` fixture, so pytest-django refuses any query the sampler
might make: these tests pass only while `sweeps.sampling` reads nothing itself."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sweeps import sampling
from sweeps.config import SweepConfig, normalize
from sweeps.models import TrialState

BAYES = normalize(
    {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": -2.0, "max": 2.0}, "y": {"min": -2.0, "max": 2.0}},
        "optuna": {"sampler": "tpe", "n_startup_trials": 4},
    }
)
GRID = normalize(
    {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2]}, "b": {"values": ["u", "v"]}},
    }
)
_IDS = itertools.count()


def fresh_id() -> str:
    """A sweep id no kept study or grid of this process has seen."""
    return f"pure{next(_IDS)}"


def loss(params: dict[str, Any]) -> float:
    return float((params["x"] - 0.5) ** 2 + (params["y"] + 0.5) ** 2)


def record(number: int, state: str, value: float | None = None, key: str = "") -> Any:
    return sampling.TrialRecord(number, state, value, None, key)


def history(
    sweep_id: str,
    config: SweepConfig,
    records: list[Any],
    coordinates: dict[int, dict[str, Any]],
    latest: dict[int, list[float]] | None = None,
) -> sampling.History:
    needed, _ = sampling.needed_coordinates(sweep_id, config, records)
    return sampling.History(
        sweep_id=sweep_id,
        config=config,
        seed=7,
        number=len(records),
        trials=records,
        coordinates={n: coordinates[n] for n in needed},
        latest=latest or {},
    )


def run_bayes(sweep_id: str, count: int) -> tuple[list[Any], dict[int, dict[str, Any]]]:
    """`count` trials asked and told in order, as the state machine would store them."""
    records: list[Any] = []
    coordinates: dict[int, dict[str, Any]] = {}
    for number in range(count):
        suggestion = sampling.suggest_bayes(history(sweep_id, BAYES, records, coordinates))
        coordinates[number] = suggestion.internal
        records.append(record(number, TrialState.COMPLETE, loss(suggestion.params)))
    return records, coordinates


def test_random_is_reproducible_from_config_seed_and_number() -> None:
    config = normalize(_random_config())

    first = sampling.suggest_random(config, 11, 3)
    again = sampling.suggest_random(config, 11, 3)
    other = sampling.suggest_random(config, 11, 4)

    assert first == again and first.params != other.params
    assert 1e-4 <= first.params["lr"] <= 1e-1
    assert first.internal["lr"] == pytest.approx(first.params["lr"])


def _random_config() -> dict[str, Any]:
    return {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.1}},
    }


def test_bayes_proposes_inside_the_space_and_improves_on_its_startup() -> None:
    records, _ = run_bayes(fresh_id(), 24)

    values = [r.value for r in records]
    assert min(values[4:]) < min(values[:4])
    assert min(values) < 0.3


def test_bayes_gives_the_same_answer_for_the_same_records_and_seed() -> None:
    records, coordinates = run_bayes(fresh_id(), 8)

    # Two sweeps with the same rows and seed: one study built afresh each time.
    first = sampling.suggest_bayes(history(fresh_id(), BAYES, records, coordinates))
    second = sampling.suggest_bayes(history(fresh_id(), BAYES, records, coordinates))

    assert first.params == second.params


def test_a_kept_study_needs_only_the_coordinates_of_new_trials() -> None:
    sweep_id = fresh_id()
    records, _ = run_bayes(sweep_id, 5)

    assert sampling.needed_coordinates(sweep_id, BAYES, records) == ([], False)
    more = [*records, record(5, TrialState.RUNNING)]
    assert sampling.needed_coordinates(sweep_id, BAYES, more) == ([5], False)
    assert sampling.needed_coordinates(fresh_id(), BAYES, records) == (list(range(5)), True)


def test_a_failed_trial_counts_with_its_latest_value_when_impute_says_latest() -> None:
    config = normalize(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize", "impute": "latest"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    records = [
        record(0, TrialState.COMPLETE, 0.5),
        record(1, TrialState.COMPLETE, 0.2),
        record(2, TrialState.FAILED),
    ]
    coordinates = {0: {"x": 0.1}, 1: {"x": 0.2}, 2: {"x": 0.3}}
    assert sampling.wants_latest(config, records) == [2]

    kept = sampling._study(history(fresh_id(), config, records, coordinates, {2: [0.9]}))

    values = sorted(t.value for t in kept.study.get_trials() if t.value is not None)
    assert values == [0.2, 0.5, 0.9]


def test_grid_hands_out_each_point_once_then_says_busy_then_exhausted() -> None:
    sweep_id, records, handed = fresh_id(), list[Any](), list[dict[str, Any]]()
    for number in range(4):
        point = sampling.next_point(sweep_id, GRID, 0, number, records)
        handed.append(point.params)
        records.append(record(number, TrialState.RUNNING, key=point.point_key))

    assert handed == [
        {"a": 1, "b": "u"},
        {"a": 1, "b": "v"},
        {"a": 2, "b": "u"},
        {"a": 2, "b": "v"},
    ]
    with pytest.raises(sampling.NoPoint) as busy:
        sampling.next_point(sweep_id, GRID, 0, 4, records)
    assert busy.value.reason == "busy"

    done = [r._replace(state=TrialState.COMPLETE, value=1.0) for r in records]
    with pytest.raises(sampling.NoPoint) as exhausted:
        sampling.next_point(sweep_id, GRID, 0, 4, done)
    assert exhausted.value.reason == "exhausted"


def test_grid_hands_a_failed_point_out_again() -> None:
    sweep_id = fresh_id()
    first = sampling.next_point(sweep_id, GRID, 0, 0, [])
    failed = [record(0, TrialState.FAILED, key=first.point_key)]

    assert sampling.next_point(sweep_id, GRID, 0, 1, failed).params == first.params


def test_importance_ranks_the_parameter_that_matters_from_rows() -> None:
    records, coordinates = run_bayes(fresh_id(), 30)
    config = normalize(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"x": {"min": -2.0, "max": 2.0}, "y": {"min": -2.0, "max": 2.0}},
        }
    )
    # Only x matters in this objective.
    rows = [(coordinates[r.number], (coordinates[r.number]["x"] - 0.5) ** 2) for r in records]

    scores = sampling.param_importances(config, rows, "fanova", 0)

    assert set(scores) == {"x", "y"} and scores["x"] > scores["y"]
