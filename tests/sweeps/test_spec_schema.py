"""The OpenAPI schema describes the specification's sweep endpoints."""

from __future__ import annotations

from typing import Any

from django.test import Client


def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_it_describes_every_sweep_endpoint(client: Client, db: None) -> None:
    paths = schema(client)["paths"]

    one = paths["/api/v1/sweeps/{id}/"]
    assert {"get", "put", "patch", "delete"} <= set(one)
    for action in ("start", "pause", "resume", "finish", "cancel", "suggest", "report"):
        assert "post" in paths[f"/api/v1/sweeps/{{id}}/{action}/"], action
    for action in ("stats", "runs", "trials", "parallel-coordinates"):
        assert "get" in paths[f"/api/v1/sweeps/{{id}}/{action}/"], action
    listed = {p["name"] for p in paths["/api/v1/sweeps/"]["get"]["parameters"]}
    assert {"state", "method", "project", "search", "limit", "offset"} <= listed
    assert "400" in paths["/api/v1/sweeps/"]["get"]["responses"]
    assert "400" in one["put"]["responses"] and "400" in one["patch"]["responses"]


def test_it_describes_what_the_new_endpoints_answer(client: Client, db: None) -> None:
    document = schema(client)
    paths, components = document["paths"], document["components"]["schemas"]

    def answer(path: str, code: str = "200") -> dict[str, Any]:
        body = paths[path]["get"]["responses"][code]["content"]["application/json"]["schema"]
        return components[body["$ref"].rsplit("/", 1)[1]]

    detail = answer("/api/v1/sweeps/{id}/")
    assert "stats" in detail["properties"]
    stats = components["Stats"]["properties"]
    assert {"counts", "total", "best", "best_value", "best_params", "importance"} <= set(stats)
    importance = components["Importance"]["properties"]
    assert {"fanova", "ped_anova", "correlation", "trials", "needed", "stale"} <= set(importance)
    parallel = answer("/api/v1/sweeps/{id}/parallel-coordinates/")["properties"]
    assert {"dimensions", "rows", "best_index", "metric", "goal"} <= set(parallel)
    dimension = components["Dimension"]["properties"]
    assert {"name", "scale", "range", "tick_values", "tick_labels"} <= set(dimension)
    runs = answer("/api/v1/sweeps/{id}/runs/")["properties"]
    assert {"count", "next", "previous", "results"} <= set(runs)  # paginated
    run = components["SweepRun"]["properties"]
    assert {"trial", "params", "value", "is_best", "state", "name", "summary"} <= set(run)
    update = components["PatchedSweepUpdate"]["properties"]
    assert set(update) == {"name", "description", "run_cap"}
