"""Every API error answers in one shape: detail and code; errors by path on a 400; state,
reason and retry on a 409 (docs/api-errors.md)."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from projects.models import ApiKey, Project
from runs.models import Run
from sweeps.lifecycle import create_sweep
from tests.sweeps.conftest import RANDOM


def assert_shape(body: dict[str, Any], code: str) -> None:
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body


def test_it_names_every_problem_of_a_serializer_by_path(api: APIClient, project: Project) -> None:
    response = api.post("/api/v1/sweeps/", {"config": 3, "seed": -1}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert_shape(body, "invalid")
    paths = {problem["path"] for problem in body["errors"]}
    assert paths == {"project", "config", "seed"}
    # The detail says them all in one line; the field keys are kept for older clients.
    assert "project: " in body["detail"] and "seed: " in body["detail"]
    assert isinstance(body["seed"], list)


def test_it_raises_a_config_error_in_the_shape_keeping_problems(
    api: APIClient, project: Project
) -> None:
    config = {"method": "nope", "parameters": {"lr": {"min": 1, "max": 0}}}

    response = api.post("/api/v1/sweeps/", {"project": "demo", "config": config}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert_shape(body, "invalid_config")
    assert body["problems"] == body["errors"]
    assert body["config"] == [f"{p['path']}: {p['message']}" for p in body["errors"]]
    assert any(p["path"] == "method" for p in body["errors"])


def test_it_answers_a_conflict_with_its_state(api: APIClient, project: Project) -> None:
    sweep = create_sweep(project, RANDOM)

    resumed = api.post(f"/api/v1/sweeps/{sweep.pk}/resume/")
    assert api.post(f"/api/v1/sweeps/{sweep.pk}/cancel/").status_code == 200
    suggested = api.post(f"/api/v1/sweeps/{sweep.pk}/suggest/")

    assert resumed.status_code == 409
    assert_shape(resumed.json(), "conflict")
    assert resumed.json()["state"] == "pending"
    assert suggested.status_code == 409
    body = suggested.json()
    assert_shape(body, "conflict")
    assert (body["state"], body["reason"], body["retry"]) == ("canceled", "canceled", False)


def test_it_answers_a_finished_run_finished_again_in_the_shape(api: APIClient, run: Run) -> None:
    assert api.post(f"/api/v1/runs/{run.pk}/finish/", {"exit_code": 0}).status_code == 200

    again = api.post(f"/api/v1/runs/{run.pk}/finish/", {"state": "killed"}, format="json")

    assert again.status_code == 409
    assert_shape(again.json(), "conflict")
    assert "finished" in again.json()["detail"]


def test_it_answers_drf_and_django_errors_in_the_shape(
    api: APIClient, project: Project, other_api: APIClient
) -> None:
    missing = api.get("/api/v1/runs/999999/")
    nowhere = api.get("/api/v1/nothing-here/")
    hidden = other_api.get("/api/v1/projects/demo/")
    anonymous = APIClient().get("/api/v1/runs/")
    bad_key = APIClient(headers={"Authorization": "Bearer st_nope"}).get("/api/v1/runs/")
    not_json = api.post("/api/v1/runs/", "{bad", content_type="application/json")
    nul = api.get("/api/v1/runs/?search=%00")

    assert_shape(missing.json(), "not_found")
    assert_shape(nowhere.json(), "not_found")
    assert_shape(hidden.json(), "not_found")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    assert bad_key.status_code == 401 and bad_key.json()["code"] == "authentication_failed"
    assert not_json.status_code == 400
    assert_shape(not_json.json(), "parse_error")
    assert not_json.json()["errors"] == [{"path": "", "message": not_json.json()["detail"]}]
    assert nul.status_code == 400
    assert_shape(nul.json(), "bad_request")
    assert nul.json()["errors"][0]["path"] == ""


def test_it_answers_a_role_too_low_in_the_shape(
    other_api: APIClient, project: Project, member: Any, other_user: Any
) -> None:
    member(other_user, "viewer")

    response = other_api.patch("/api/v1/projects/demo/", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert_shape(response.json(), "permission_denied")
    assert "viewer" in response.json()["detail"]


def test_the_schema_documents_the_shape_on_every_operation(api: APIClient) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operations = [op for path in schema["paths"].values() for op in path.values()]
    for operation in operations:
        for status in ("400", "401", "403", "404", "503"):
            assert status in operation["responses"], operation["operationId"]
    suggest = schema["paths"]["/api/v1/sweeps/{id}/suggest/"]["post"]["responses"]["409"]
    conflict = suggest["content"]["application/json"]["schema"]["$ref"]
    assert conflict.endswith("/ConflictError")
    assert {"state", "reason", "retry"} <= set(
        schema["components"]["schemas"]["ConflictError"]["properties"]
    )
    assert "errors" in schema["components"]["schemas"]["ValidationError"]["required"]


def test_it_counts_the_problems_past_twenty_in_the_detail(api: APIClient, run: Run) -> None:
    rows = [{"step": i, "values": {"x": "text"}} for i in range(25)]

    response = api.post(f"/api/v1/runs/{run.pk}/log/", {"rows": rows}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert len(body["errors"]) == 25
    assert body["detail"].endswith("and 5 more (see errors)")
    assert ApiKey.objects.exists()
