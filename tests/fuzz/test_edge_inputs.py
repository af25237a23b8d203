"""The inputs the property tests found breaking PostgreSQL, pinned on every database."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from projects.models import Project
from runs.models import MetricPoint, Run
from sweeps.models import Sweep

HUGE_ID = "9" * 25


def post_json(api: APIClient, url: str, body: Any) -> Any:
    return api.post(url, json.dumps(body), content_type="application/json")


def test_it_refuses_nul_characters_in_json_and_says_where(api: APIClient, run: Run) -> None:
    response = post_json(
        api, f"/api/v1/runs/{run.pk}/log/", {"rows": [], "summary": {"note": "a\x00b"}}
    )

    assert response.status_code == 400
    assert "summary.note" in response.json()["detail"]
    assert "NUL" in response.json()["detail"]
    run.refresh_from_db()
    assert run.summary == {}


def test_it_refuses_nul_characters_in_a_config_text(api: APIClient, project: Project) -> None:
    text = json.dumps({"method": "random", "parameters": {"a": {"values": ["x\x00"]}}})

    response = post_json(api, "/api/v1/sweeps/", {"project": project.slug, "config": text})

    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "parameters.a.values[0]"
    assert not Sweep.objects.exists()


def test_it_refuses_nul_characters_in_the_url(api: APIClient, client: Client, run: Run) -> None:
    client.force_login(run.project.owner)

    for response in [
        api.get("/api/v1/runs/", {"search": "a\x00"}),
        client.get(f"/p/{run.project.slug}/", {"q": "\x00"}),
        api.get("/api/v1/sweeps/%00/"),
    ]:
        assert response.status_code == 400
        assert "NUL" in response.json()["detail"]


def test_it_answers_404_for_ids_too_large_for_the_database(
    api: APIClient, client: Client, run: Run
) -> None:
    client.force_login(run.project.owner)

    for response in [
        api.get(f"/api/v1/runs/{HUGE_ID}/"),
        api.delete(f"/api/v1/keys/{HUGE_ID}/"),
        client.get(f"/p/{run.project.slug}/runs/{HUGE_ID}/"),
        client.post(f"/keys/{HUGE_ID}/revoke/"),
    ]:
        assert response.status_code == 404


def test_it_refuses_steps_and_trial_numbers_past_the_columns(
    api: APIClient, run: Run, project: Project
) -> None:
    rows = [{"step": 2**63, "values": {"loss": 1.0}}]
    logged = post_json(api, f"/api/v1/runs/{run.pk}/log/", {"rows": rows})
    sweep = post_json(
        api,
        "/api/v1/sweeps/",
        {
            "project": project.slug,
            "config": {"method": "random", "parameters": {"a": {"value": 1}}},
        },
    ).json()["id"]
    reported = post_json(api, f"/api/v1/sweeps/{sweep}/report/", {"trial": 2**40, "value": 1})

    assert logged.status_code == 400
    assert "rows[0].step" in json.dumps(logged.json())
    assert not MetricPoint.objects.exists()
    assert reported.status_code == 400
    assert "trial" in reported.json()


def test_it_caps_a_huge_limit_on_every_list(api: APIClient, run: Run, project: Project) -> None:
    for url in ["/api/v1/sweeps/", "/api/v1/keys/", "/api/v1/runs/", "/api/v1/projects/"]:
        response = api.get(url, {"limit": "9" * 20})
        assert response.status_code == 200, url
        assert "results" in response.json(), url


def test_it_refuses_a_metric_goal_that_is_not_a_string(api: APIClient, run: Run) -> None:
    body = {"rows": [], "metrics": {"loss": {"goal": {"min": 1}}}}

    response = post_json(api, f"/api/v1/runs/{run.pk}/log/", body)

    assert response.status_code == 400
    assert "metrics.loss.goal" in json.dumps(response.json())
