"""W&B's MongoDB-style filters and order strings on GET /api/v1/runs/, run by the database."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import Project
from runs.models import Run, RunState
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep, Trial
from tests.sweeps.conftest import RANDOM

RUNS: list[dict[str, Any]] = [
    {
        "name": "alpha",
        "state": RunState.FINISHED,
        "group": "g1",
        "job_type": "train",
        "config": {"lr": 0.1, "model": {"layers": 3, "act": "relu"}, "opt": "adam"},
        "summary": {"loss": 0.5, "val/acc": 0.8},
        "tags": ["x"],
        "age_days": 3,
    },
    {
        "name": "beta",
        "state": RunState.FAILED,
        "group": "g2",
        "job_type": "eval",
        "config": {"lr": 0.01, "model": {"layers": 5}, "opt": "sgd", "flag": True},
        "summary": {"loss": 0.2},
        "tags": ["y"],
        "age_days": 2,
    },
    {
        "name": "gamma",
        "state": RunState.RUNNING,
        "config": {"lr": "high"},
        "summary": {},
        "tags": [],
        "age_days": 1,
    },
    {
        "name": "delta",
        "state": RunState.FINISHED,
        "group": "g1",
        "job_type": "train",
        "config": {"lr": 0.05, "model": {"layers": 4}},
        "summary": {"loss": "NaN"},
        "tags": [],
        "age_days": 0,
    },
]


@pytest.fixture
def sweep(project: Project) -> Sweep:
    return create_sweep(project, RANDOM)


@pytest.fixture
def runs(project: Project, sweep: Sweep) -> dict[str, Run]:
    made = {}
    now = timezone.now()
    for spec in RUNS:
        fields = {k: v for k, v in spec.items() if k not in ("tags", "age_days")}
        run = Run.objects.create(project=project, **fields)
        run.set_tags(spec["tags"])
        Run.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=spec["age_days"]))
        made[run.name] = run
    Trial.objects.create(sweep=sweep, number=0, run=made["delta"])
    return made


def listed(api: APIClient, **params: Any) -> Any:
    query = {k: json.dumps(v) if k == "filters" else v for k, v in params.items()}
    return api.get("/api/v1/runs/", {"project": "demo", **query})


def names(api: APIClient, **params: Any) -> list[str]:
    response = listed(api, **params)
    assert response.status_code == 200, response.json()
    return [run["name"] for run in response.json()["results"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # Comparisons keep to one type: the string "high" is neither above nor below a number.
        ({"config.lr": {"$gt": 0.02}}, {"alpha", "delta"}),
        ({"config.lr": {"$gte": 0.05}}, {"alpha", "delta"}),
        ({"config.lr": {"$lt": 0.05}}, {"beta"}),
        ({"config.lr": {"$lte": 0.05}}, {"beta", "delta"}),
        ({"config.lr": {"$gt": 0.02, "$lt": 0.08}}, {"delta"}),
        ({"config.lr": {"$gt": "a"}}, {"gamma"}),
        ({"config.lr": 0.1}, {"alpha"}),
        ({"config.lr": {"$eq": "high"}}, {"gamma"}),
        # $ne, $nin and $not also match runs without the key, as MongoDB's do.
        ({"config.lr": {"$ne": 0.1}}, {"beta", "gamma", "delta"}),
        ({"config.lr.value": 0.01}, {"beta"}),
        ({"config.model.layers": {"$in": [3, 4]}}, {"alpha", "delta"}),
        ({"config.model.value.layers": {"$nin": [3, 4]}}, {"beta", "gamma"}),
        ({"config.model.layers": {"$not": {"$gte": 4}}}, {"alpha", "gamma"}),
        ({"config.model.act": {"$regex": "^re"}}, {"alpha"}),
        ({"config.model": {"$exists": True}}, {"alpha", "beta", "delta"}),
        ({"config.flag": True}, {"beta"}),
        ({"config.flag": {"$exists": False}}, {"alpha", "gamma", "delta"}),
        ({"summary_metrics.loss": {"$lt": 0.3}}, {"beta"}),
        ({"summary_metrics.loss": {"$gte": 0}}, {"alpha", "beta"}),
        ({"summary_metrics.val/acc": {"$gte": 0.8}}, {"alpha"}),
        ({"summary_metrics.loss": {"$exists": False}}, {"gamma"}),
        ({"state": "finished"}, {"alpha", "delta"}),
        ({"state": {"$in": ["failed", "running"]}}, {"beta", "gamma"}),
        ({"state": {"$ne": "finished"}}, {"beta", "gamma"}),
        ({"state": {"$in": ["preempted"]}}, set()),
        ({"display_name": {"$regex": "^(al|be)"}}, {"alpha", "beta"}),
        ({"name": {"$gt": "c"}}, {"gamma", "delta"}),
        ({"name": {"$lte": "beta"}}, {"alpha", "beta"}),
        ({"group": "g1"}, {"alpha", "delta"}),
        ({"group": None}, {"gamma"}),
        ({"group": {"$exists": False}}, {"gamma"}),
        ({"group": {"$regex": "2$"}}, {"beta"}),
        ({"jobType": "eval"}, {"beta"}),
        ({"job_type": {"$nin": ["train"]}}, {"beta", "gamma"}),
        ({"tags": "x"}, {"alpha"}),
        ({"tags": {"$in": ["x", "y"]}}, {"alpha", "beta"}),
        ({"tags": {"$nin": ["x"]}}, {"beta", "gamma", "delta"}),
        ({"tags": {"$ne": "y"}}, {"alpha", "gamma", "delta"}),
        ({"tags": {"$regex": "^[xy]$"}}, {"alpha", "beta"}),
        ({"tags": {"$exists": False}}, {"gamma", "delta"}),
        ({"sweep": {"$exists": True}}, {"delta"}),
        ({"sweep": None}, {"alpha", "beta", "gamma"}),
        ({"$or": [{"config.lr": 0.1}, {"state": "failed"}]}, {"alpha", "beta"}),
        ({"$and": [{"group": "g1"}, {"summary_metrics.loss": {"$lt": 1}}]}, {"alpha"}),
        (
            {"$and": [{"$or": [{"tags": "x"}, {"tags": "y"}]}, {"config.opt": {"$ne": "adam"}}]},
            {"beta"},
        ),
        ({"state": "finished", "config.model.layers": {"$gt": 3}}, {"delta"}),
    ],
)
def test_it_filters_like_wandb(
    api: APIClient, runs: dict[str, Run], filters: dict[str, Any], expected: set[str]
) -> None:
    assert set(names(api, filters=filters)) == expected


def test_it_filters_by_sweep_id(api: APIClient, runs: dict[str, Run], sweep: Sweep) -> None:
    assert names(api, filters={"sweep": sweep.pk}) == ["delta"]
    assert set(names(api, filters={"sweep": {"$ne": sweep.pk}})) == {"alpha", "beta", "gamma"}
    assert names(api, filters={"sweep": {"$in": [sweep.pk, "nope"]}}) == ["delta"]
    assert names(api, sweep=sweep.pk) == ["delta"]


def test_it_filters_by_creation_time(api: APIClient, runs: dict[str, Run]) -> None:
    cutoff = (timezone.now() - timedelta(days=1, hours=12)).isoformat()

    assert set(names(api, filters={"created_at": {"$lt": cutoff}})) == {"alpha", "beta"}
    assert set(names(api, filters={"createdAt": {"$gte": cutoff}})) == {"gamma", "delta"}
    day = (timezone.now() + timedelta(days=2)).date().isoformat()
    assert len(names(api, filters={"created_at": {"$lt": day}})) == 4


def test_it_filters_with_the_plain_parameters(api: APIClient, runs: dict[str, Run]) -> None:
    assert set(names(api, group="g1")) == {"alpha", "delta"}
    assert names(api, job_type="eval") == ["beta"]
    assert names(api, group="g1", job_type="train", state="finished", tag="x") == ["alpha"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("-created_at", ["delta", "gamma", "beta", "alpha"]),
        ("+created_at", ["alpha", "beta", "gamma", "delta"]),
        ("createdAt", ["alpha", "beta", "gamma", "delta"]),
        ("name", ["alpha", "beta", "delta", "gamma"]),
        ("-display_name", ["gamma", "delta", "beta", "alpha"]),
        ("+config.lr", ["beta", "delta", "alpha"]),
        ("-config.lr", ["alpha", "delta", "beta"]),
    ],
)
def test_it_orders_like_wandb(
    api: APIClient, runs: dict[str, Run], order: str, expected: list[str]
) -> None:
    only_numbers = {"config.lr": {"$gte": 0}} if "config" in order else {}
    assert names(api, order=order, filters=only_numbers or {"name": {"$exists": True}}) == expected


def test_it_orders_by_nested_config_and_summary_with_missing_keys_last(
    api: APIClient, runs: dict[str, Run]
) -> None:
    assert names(api, order="config.model.layers") == ["alpha", "delta", "beta", "gamma"]
    assert names(api, order="-config.model.layers") == ["beta", "delta", "alpha", "gamma"]
    numeric = {"summary_metrics.loss": {"$gte": 0}}
    assert names(api, order="-summary_metrics.loss", filters=numeric) == ["alpha", "beta"]
    assert names(api, order="+summary_metrics.loss", filters=numeric) == ["beta", "alpha"]
    assert names(api, order="-summary_metrics.val/acc")[0] == "alpha"


def test_it_pages_the_filtered_runs(api: APIClient, runs: dict[str, Run]) -> None:
    first = listed(api, filters={"group": {"$exists": True}}, order="name", limit=2).json()

    assert first["count"] == 3
    assert [run["name"] for run in first["results"]] == ["alpha", "beta"]
    assert [run["name"] for run in api.get(first["next"]).json()["results"]] == ["delta"]


@pytest.mark.parametrize(
    ("params", "where", "words"),
    [
        ({"filters": {"config.lr": {"$foo": 1}}}, "filters.config.lr.$foo", ["$foo", "$gt"]),
        ({"filters": {"$nor": [{"state": "x"}]}}, "filters.$nor", ["$nor"]),
        ({"filters": {"colour": "red"}}, "filters.colour", ["colour", "config.<key>"]),
        ({"filters": {"config.model..x": 1}}, "filters.config.model..x", ["empty key"]),
        ({"filters": {"config.": 1}}, "filters.config.", ["unknown field"]),
        ({"filters": [1]}, "filters", ["object"]),
        ({"filters": {"name": {"$regex": "(unclosed"}}}, "filters.name.$regex", ["regular"]),
        ({"filters": {"config.lr": {"$in": 0.1}}}, "filters.config.lr.$in", ["list"]),
        ({"filters": {"config.lr": {"$gt": [1]}}}, "filters.config.lr.$gt", ["number"]),
        ({"filters": {"tags": {"$gt": "a"}}}, "filters.tags.$gt", ["tags"]),
        ({"filters": {"$or": []}}, "filters.$or", ["non-empty"]),
        ({"filters": {"created_at": {"$lt": "yesterday"}}}, "filters.created_at.$lt", ["ISO"]),
        ({"filters": {"name": 3}}, "filters.name", ["string"]),
        ({"filters": {"state": {"$exists": "yes"}}}, "filters.state.$exists", ["true or false"]),
        ({"order": "colour"}, "order", ["colour", "summary_metrics.<key>"]),
        ({"state": "bogus"}, "state", ["bogus", "running, finished, failed, crashed, killed"]),
    ],
)
def test_it_names_what_is_wrong_with_a_query(
    api: APIClient, runs: dict[str, Run], params: dict[str, Any], where: str, words: list[str]
) -> None:
    response = listed(api, **params)

    assert response.status_code == 400
    body = response.json()
    assert where in body, body
    for word in words:
        assert word in body[where]


def test_it_refuses_filters_that_are_not_json(api: APIClient, runs: dict[str, Run]) -> None:
    response = api.get("/api/v1/runs/", {"filters": "{bad"})

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["filters"]


@pytest.mark.parametrize("count", [4, 40])
def test_it_evaluates_filters_in_the_database(
    api: APIClient, project: Project, count: int, django_assert_max_num_queries: Any
) -> None:
    Run.objects.bulk_create(
        Run(project=project, name=f"r{i}", config={"lr": i / count, "model": {"layers": i % 5}})
        for i in range(count)
    )
    filters = {
        "$or": [{"config.lr": {"$gte": 0.5}}, {"config.model.layers": {"$in": [0, 1]}}],
        "tags": {"$nin": ["skip"]},
        "summary_metrics.loss": {"$exists": False},
    }

    # The key (read, stamped), a savepoint around the list (taken, released), the count,
    # the page and its tags: the same for any number of runs, none per run.
    with django_assert_max_num_queries(7):
        response = listed(api, filters=filters, order="-config.lr", limit=100)

    expected = {i for i in range(count) if i / count >= 0.5 or i % 5 in (0, 1)}
    assert response.json()["count"] == len(expected)
    assert [run["name"] for run in response.json()["results"]][0] == f"r{count - 1}"


def test_it_answers_a_regex_the_database_refuses_with_400(
    api: APIClient, runs: dict[str, Run]
) -> None:
    # Python takes named groups; PostgreSQL's regular expressions do not.
    response = listed(api, filters={"name": {"$regex": "^(?P<start>al)"}})

    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert "refused" in response.json()["filters"]
    else:
        assert [run["name"] for run in response.json()["results"]] == ["alpha"]
    # The request's transaction is still usable afterwards.
    assert names(api, filters={"name": "beta"}) == ["beta"]


def test_it_caps_a_huge_page_size(api: APIClient, runs: dict[str, Run]) -> None:
    response = api.get("/api/v1/runs/", {"limit": 10**27, "offset": -3})

    assert response.status_code == 200
    assert response.json()["count"] == 4
