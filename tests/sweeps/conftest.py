from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.models import Project
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
        "batch_size": {"values": [32, 64]},
        "layers": {"min": 1, "max": 4},
        "epochs": {"value": 10},
    },
}
RANDOM = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
        "optimizer": {
            "parameters": {
                "name": {"values": ["adam", "sgd"]},
                "beta": {"distribution": "beta", "a": 2, "b": 5},
            }
        },
    },
}


@pytest.fixture
def make_sweep(project: Project) -> Callable[..., Sweep]:
    def make(config: dict[str, Any] | None = None, **fields: Any) -> Sweep:
        return create_sweep(project, config or RANDOM, **fields)

    return make


def suggest(api: APIClient, sweep: Sweep) -> Any:
    return api.post(f"/api/v1/sweeps/{sweep.pk}/suggest/")


def report(api: APIClient, sweep: Sweep, trial: int, value: float | None = None) -> Any:
    body: dict[str, Any] = {"trial": trial, "value": value}
    if value is None:
        body = {"trial": trial, "state": "failed"}
    return api.post(f"/api/v1/sweeps/{sweep.pk}/report/", body, format="json")
