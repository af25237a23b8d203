"""The specification's parameter block over the API: random, bayes and grid sweeps are
created with their warnings, then serve trials with W&B's meaning of each parameter."""

from __future__ import annotations

import math
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.models import Project
from runs.models import Run
from sweeps.models import Sweep, Trial
from tests.sweeps.conftest import report, suggest
from tests.sweeps.test_config_warnings import LR_WARNING, SPEC_PARAMETERS

SPEC_TEXT = """\
method: {method}
metric: {{name: best_accuracy, goal: maximize}}
parameters:
  learning_rate: {{distribution: log_uniform, min: 0.0001, max: 0.01}}
  batch_size:    {{values: [16, 32, 64, 128]}}
  optimizer:     {{values: [adam, sgd, rmsprop]}}
  dropout:       {{distribution: uniform, min: 0.0, max: 0.5, q: 0.1}}
  epochs:        {{value: 20}}
"""


def create(api: APIClient, method: str) -> dict[str, Any]:
    body = {"project": "demo", "config": SPEC_TEXT.format(method=method)}
    response = api.post("/api/v1/sweeps/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def on_dropout_grid(value: float) -> bool:
    return 0 <= value <= 0.5 and math.isclose(value * 10, round(value * 10), abs_tol=1e-9)


@pytest.mark.parametrize("method", ["random", "bayes", "grid"])
def test_it_creates_and_serves_the_spec_block(
    api: APIClient, project: Project, method: str
) -> None:
    # An earlier run logged accuracy, not best_accuracy: the metric gets its hint.
    Run.objects.create(project=project, name="before", summary={"accuracy": 0.8})

    body = create(api, method)

    warnings = body["warnings"]
    assert warnings[0] == {"path": "parameters.learning_rate", "message": LR_WARNING}
    assert body["config_warnings"] == [f"{w['path']}: {w['message']}" for w in warnings]
    paths = [w["path"] for w in warnings]
    assert paths.count("parameters.dropout") == (2 if method == "grid" else 1)
    assert paths.count("parameters.learning_rate") == (2 if method == "grid" else 1)
    assert paths[-1] == "metric.name" and "did you mean 'accuracy'" in warnings[-1]["message"]
    sweep = Sweep.objects.get(pk=body["id"])
    assert sweep.warnings == warnings
    assert api.get(f"/api/v1/sweeps/{sweep.pk}/").json()["warnings"] == warnings

    for number in range(8):
        answer = suggest(api, sweep)
        assert answer.status_code == 201, answer.json()
        params = answer.json()["params"]
        assert set(params) == set(SPEC_PARAMETERS)
        # W&B's log_uniform: exp of the bounds, never 0.0001-0.01.
        assert 1.0001 <= params["learning_rate"] <= 1.0101 + 1e-12
        assert on_dropout_grid(params["dropout"]), params["dropout"]
        assert params["batch_size"] in (16, 32, 64, 128)
        assert params["optimizer"] in ("adam", "sgd", "rmsprop")
        assert params["epochs"] == 20
        assert (
            report(api, sweep, number, params["learning_rate"] - params["dropout"]).status_code
            == 200
        )

    trials = Trial.objects.filter(sweep=sweep)
    assert trials.filter(state="complete").count() == 8
    sweep.refresh_from_db()
    assert sweep.best_trial is not None
    assert sweep.best_trial.value == max(t.value for t in trials)


def test_it_walks_the_spec_grid_in_discretized_steps(api: APIClient, project: Project) -> None:
    body = create(api, "grid")
    sweep = Sweep.objects.get(pk=body["id"])
    lr_values = {round(math.exp(0.0001 + k * (0.01 - 0.0001) / 4), 9) for k in range(5)}

    seen_lr, seen_dropout = set(), set()
    # learning_rate varies slowest: 60 points per value. Walk the first two of its values.
    for number in range(0, 120):
        params = suggest(api, sweep).json()["params"]
        seen_lr.add(round(params["learning_rate"], 9))
        seen_dropout.add(round(params["dropout"], 9))
        report(api, sweep, number, 0.5)

    assert seen_lr <= lr_values and len(seen_lr) == 2
    assert seen_dropout == {0.0, 0.1, 0.2, 0.3, 0.4}
    assert Trial.objects.filter(sweep=sweep).count() == 120


def test_it_creates_without_warnings_when_there_are_none(api: APIClient, project: Project) -> None:
    config = {"method": "random", "parameters": {"lr": {"min": 0.001, "max": 0.1}}}
    response = api.post("/api/v1/sweeps/", {"project": "demo", "config": config}, format="json")
    assert response.status_code == 201
    assert (response.json()["warnings"], response.json()["config_warnings"]) == ([], [])


@pytest.mark.parametrize("sampler", ["tpe", "gp"])
def test_bayes_serves_a_parameter_whose_min_equals_max(
    api: APIClient, project: Project, sampler: str
) -> None:
    config = {
        "method": "bayes",
        "metric": {"name": "loss"},
        "optuna": {"sampler": sampler, "n_startup_trials": 2, "seed": 1},
        "parameters": {
            "pinned": {"distribution": "log_uniform_values", "min": 0.01, "max": 0.01},
            "steps": {"min": 4, "max": 4},
            "x": {"min": -1.0, "max": 1.0},
        },
    }
    body = api.post("/api/v1/sweeps/", {"project": "demo", "config": config}, format="json")
    assert [w["path"] for w in body.json()["warnings"]] == ["parameters.pinned", "parameters.steps"]
    sweep = Sweep.objects.get(pk=body.json()["id"])

    for number in range(5):
        params = suggest(api, sweep).json()["params"]
        assert params["pinned"] == pytest.approx(0.01) and params["steps"] == 4
        assert report(api, sweep, number, params["x"] ** 2).status_code == 200
