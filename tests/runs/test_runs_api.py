from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from projects.models import Project
from runs.models import Run


def test_it_creates_a_run_with_config_and_tags(api: APIClient, project: Project) -> None:
    body = {"project": "demo", "name": "r1", "config": {"lr": 0.1}, "tags": ["a", "b"]}
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["state"], data["config"], data["tags"]) == ("running", {"lr": 0.1}, ["a", "b"])


def test_it_names_a_missing_field(api: APIClient, project: Project) -> None:
    response = api.post("/api/v1/runs/", {"name": "r1"}, format="json")
    assert response.status_code == 400
    assert "project" in response.json()
    assert not Run.objects.exists()


def test_it_refuses_malformed_json(api: APIClient, project: Project) -> None:
    response = api.post("/api/v1/runs/", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Run.objects.exists()


def test_it_refuses_a_config_that_is_not_an_object(api: APIClient, project: Project) -> None:
    response = api.post("/api/v1/runs/", {"project": "demo", "config": [1]}, format="json")
    assert response.status_code == 400
    assert "config" in response.json()


def test_it_filters_by_state_tag_and_name(api: APIClient, project: Project) -> None:
    for name, tags in [("alpha", ["x"]), ("beta", ["y"]), ("alphabet", ["x", "y"])]:
        api.post("/api/v1/runs/", {"project": "demo", "name": name, "tags": tags}, format="json")
    Run.objects.filter(name="beta").update(state="failed")

    def names(query: str) -> set[str]:
        return {run["name"] for run in api.get(f"/api/v1/runs/?{query}").json()["results"]}

    assert names("project=demo") == {"alpha", "beta", "alphabet"}
    assert names("state=failed") == {"beta"}
    assert names("tag=x") == {"alpha", "alphabet"}
    assert names("search=alpha&tag=y") == {"alphabet"}


def test_it_updates_name_notes_config_and_tags(api: APIClient, run: Run) -> None:
    body = {"name": "renamed", "notes": "n", "config": {"lr": 0.2}, "tags": ["t"]}
    response = api.patch(f"/api/v1/runs/{run.pk}/", body, format="json")
    assert response.status_code == 200
    run.refresh_from_db()
    assert (run.name, run.notes, run.config, run.tag_names) == ("renamed", "n", {"lr": 0.2}, ["t"])


def test_it_finishes_once_and_repeats_harmlessly(api: APIClient, run: Run) -> None:
    url = f"/api/v1/runs/{run.pk}/finish/"
    assert api.post(url, {"exit_code": 0}, format="json").json()["state"] == "finished"
    assert api.post(url, {"exit_code": 0}, format="json").status_code == 200
    conflict = api.post(url, {"exit_code": 1}, format="json")
    assert conflict.status_code == 409
    assert "finished" in conflict.json()["detail"]


def test_it_fails_a_run_with_a_nonzero_exit_code(api: APIClient, run: Run) -> None:
    api.post(f"/api/v1/runs/{run.pk}/finish/", {"exit_code": 3}, format="json")
    run.refresh_from_db()
    assert (run.state, run.exit_code) == ("failed", 3)


def test_it_heartbeats(api: APIClient, run: Run) -> None:
    before = run.heartbeat_at
    response = api.post(f"/api/v1/runs/{run.pk}/heartbeat/", {}, format="json")
    assert response.json() == {"state": "running", "should_stop": False}
    run.refresh_from_db()
    assert run.heartbeat_at > before


def test_it_hides_runs_from_non_members(other_api: APIClient, run: Run) -> None:
    assert other_api.get("/api/v1/runs/").json()["count"] == 0
    for url in [f"/api/v1/runs/{run.pk}/", f"/api/v1/runs/{run.pk}/history/"]:
        assert other_api.get(url).status_code == 404
    log = other_api.post(f"/api/v1/runs/{run.pk}/log/", {"rows": []}, format="json")
    assert log.status_code == 404
    create = other_api.post("/api/v1/runs/", {"project": "demo"}, format="json")
    assert create.status_code == 404


def test_it_lets_viewers_read_but_not_write(
    other_api: APIClient, run: Run, other_user: Any, member: Any
) -> None:
    member(other_user, "viewer")
    assert other_api.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    rows = {"rows": [{"step": 0, "time": 1.0, "values": {"loss": 1}}]}
    assert other_api.post(f"/api/v1/runs/{run.pk}/log/", rows, format="json").status_code == 403
    assert other_api.post("/api/v1/runs/", {"project": "demo"}, format="json").status_code == 403
    assert run.points.count() == 0
