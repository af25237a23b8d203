"""define_metric specs travel in log batches (`metrics`) and are merged into the run's."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from runs.metric_definitions import spec_for, step_metrics
from runs.models import MetricPoint, Run


def log(api: APIClient, run: Run, body: dict[str, Any]) -> Any:
    return api.post(f"/api/v1/runs/{run.pk}/log/", body, format="json")


def test_it_merges_specs_into_the_run(api: APIClient, run: Run) -> None:
    first = {
        "metrics": {
            "epoch": {"hidden": True},
            "val/*": {"step_metric": "epoch", "summary": "min,max", "goal": "minimize"},
        },
        "rows": [{"step": 0, "values": {"epoch": 0, "val/loss": 0.5}}],
    }
    assert log(api, run, first).json()["stored"] == 2
    assert log(api, run, {"metrics": {"val/*": {"summary": "last"}, "acc": {}}}).status_code == 200

    definitions = api.get(f"/api/v1/runs/{run.pk}/").json()["metric_definitions"]

    assert definitions == {
        "epoch": {"step_metric": None, "summary": None, "goal": None, "hidden": True},
        "val/*": {"step_metric": "epoch", "summary": "last", "goal": "minimize", "hidden": False},
        "acc": {"step_metric": None, "summary": None, "goal": None, "hidden": False},
    }


def test_it_takes_a_batch_of_only_metrics(api: APIClient, run: Run) -> None:
    response = log(api, run, {"metrics": {"loss": {"summary": "min", "goal": "minimize"}}})

    assert response.json()["stored"] == 0
    run.refresh_from_db()
    assert run.metric_definitions["loss"]["summary"] == "min"


@pytest.mark.parametrize(
    ("metrics", "path"),
    [
        ([1], "metrics"),
        ({"loss": "min"}, "metrics.loss"),
        ({"loss": {"goal": "up"}}, "metrics.loss.goal"),
        ({"loss": {"summary": "median"}}, "metrics.loss.summary"),
        ({"loss": {"step_metric": 3}}, "metrics.loss.step_metric"),
        ({"loss": {"hidden": "yes"}}, "metrics.loss.hidden"),
        ({"loss": {"colour": "red"}}, "metrics.loss.colour"),
        ({"": {}}, "metrics."),
    ],
)
def test_it_names_a_bad_spec_and_stores_nothing(
    api: APIClient, run: Run, metrics: Any, path: str
) -> None:
    body = {"metrics": metrics, "rows": [{"step": 0, "values": {"loss": 1.0}}]}

    response = log(api, run, body)

    assert response.status_code == 400
    assert path in response.json()
    assert not MetricPoint.objects.exists()
    run.refresh_from_db()
    assert run.metric_definitions == {}


def test_it_names_an_integer_too_large_to_store(api: APIClient, run: Run) -> None:
    # Written out by hand: a JSON number of 401 digits, which Python parses as an int.
    response = api.post(
        f"/api/v1/runs/{run.pk}/log/",
        f'{{"rows": [{{"step": 0, "values": {{"huge": {10**400}}}}}]}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "too large" in response.json()["rows[0].values.huge"]


def test_it_matches_keys_to_their_spec_as_wandb_does() -> None:
    # Written in the order PostgreSQL's jsonb gives keys back: shortest first.
    definitions = {
        "*": {"step_metric": "step"},
        "val/*": {"step_metric": "epoch"},
        "val/acc": {"step_metric": "batch"},
    }

    assert spec_for(definitions, "val/acc") == {"step_metric": "batch"}
    assert spec_for(definitions, "val/loss") == {"step_metric": "epoch"}
    assert spec_for(definitions, "loss") == {"step_metric": "step"}
    assert spec_for({}, "loss") is None
    assert step_metrics(definitions, ["val/loss", "epoch", "val/acc"]) == {
        "val/loss": "epoch",
        "epoch": "step",
        "val/acc": "batch",
    }
