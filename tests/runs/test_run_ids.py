"""Run ids on the wire: strings, the pk's digits or an explicit W&B id, in URLs and bodies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from projects.access import create_project
from projects.models import Project
from runs.models import Run
from sweeps.lifecycle import create_sweep
from sweeps.models import Trial
from tests.sweeps.conftest import RANDOM


def test_it_answers_the_run_json_of_the_contract(api: APIClient, run: Run) -> None:
    run.group, run.job_type = "grp", "train"
    run.save()
    sweep = create_sweep(run.project, RANDOM)
    Trial.objects.create(sweep=sweep, number=0, run=run)

    body = api.get(f"/api/v1/runs/{run.pk}/").json()

    assert body["id"] == str(run.pk) and isinstance(body["id"], str)
    assert body["pk"] == run.pk
    assert (body["entity"], body["project"], body["sweep"]) == ("alice", "demo", sweep.pk)
    assert (body["group"], body["job_type"]) == ("grp", "train")
    assert body["metric_definitions"] == {}
    assert body["url"] == f"http://testserver/p/demo/runs/{run.pk}/"
    assert body["last_step"] is None
    listed = api.get("/api/v1/runs/").json()["results"][0]
    assert listed["sweep"] == sweep.pk and listed["id"] == str(run.pk)
    assert "last_step" not in listed


def test_it_finds_a_run_by_its_explicit_id(api: APIClient, project: Project) -> None:
    created = api.post("/api/v1/runs/", {"project": "demo", "id": "my-run_1"}, format="json")
    run = Run.objects.get()

    assert created.json()["url"] == "http://testserver/p/demo/runs/my-run_1/"
    for run_id in ["my-run_1", str(run.pk)]:
        assert api.get(f"/api/v1/runs/{run_id}/").json()["pk"] == run.pk
    rows = {"rows": [{"step": 3, "values": {"loss": 1.0}}]}
    assert api.post("/api/v1/runs/my-run_1/log/", rows, format="json").json()["stored"] == 1
    assert api.post("/api/v1/runs/my-run_1/heartbeat/", {}, format="json").status_code == 200
    assert api.get("/api/v1/runs/my-run_1/history/").json()["count"] == 1
    assert api.get("/api/v1/runs/my-run_1/").json()["last_step"] == 3
    patched = api.patch("/api/v1/runs/my-run_1/", {"group": "g2"}, format="json")
    assert patched.json()["group"] == "g2"
    finished = api.post("/api/v1/runs/my-run_1/finish/", {"exit_code": 0}, format="json")
    assert finished.json()["state"] == "finished"
    assert api.get("/api/v1/runs/no-such-run/").status_code == 404


def test_it_asks_for_the_project_when_an_id_is_in_several(
    api: APIClient, project: Project, user: Any
) -> None:
    other = create_project(user, "other", "Other")
    mine = Run.objects.create(project=project, explicit_id="same")
    theirs = Run.objects.create(project=other, explicit_id="same")

    response = api.get("/api/v1/runs/same/")

    assert response.status_code == 400
    assert "?project=SLUG" in response.json()["detail"]
    assert "demo, other" in response.json()["detail"]
    assert api.get("/api/v1/runs/same/?project=demo").json()["pk"] == mine.pk
    assert api.get("/api/v1/runs/same/", {"project": "other"}).json()["pk"] == theirs.pk
    assert api.get(f"/api/v1/runs/{mine.pk}/?project=other").status_code == 404


def test_it_keeps_explicit_ids_unique_in_a_project(api: APIClient, project: Project) -> None:
    Run.objects.create(project=project, explicit_id="taken")

    response = api.post("/api/v1/runs/", {"project": "demo", "id": "taken"}, format="json")

    assert response.status_code == 409
    assert Run.objects.count() == 1


def test_it_refuses_an_explicit_id_of_digits_only(api: APIClient, project: Project) -> None:
    response = api.post("/api/v1/runs/", {"project": "demo", "id": "12345"}, format="json")

    assert response.status_code == 400
    assert "digits only" in response.json()["detail"]
    assert not Run.objects.exists()


def test_it_takes_digits_that_name_the_same_run(api: APIClient, run: Run) -> None:
    body = {"project": "demo", "id": str(run.pk), "resume": "allow"}

    response = api.post("/api/v1/runs/", body, format="json")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["resumed"]) == (str(run.pk), True)
    run.refresh_from_db()
    assert run.explicit_id == ""


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "x" * 65, "ü", "a.b"])
def test_it_refuses_malformed_explicit_ids(api: APIClient, project: Project, bad: str) -> None:
    response = api.post("/api/v1/runs/", {"project": "demo", "id": bad}, format="json")

    assert response.status_code == 400
    assert "id" in response.json()
    assert not Run.objects.exists()


def test_it_serves_the_run_page_by_either_id(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="named", explicit_id="run-x")
    client.force_login(project.owner)

    by_id = client.get("/p/demo/runs/run-x/")
    by_pk = client.get(f"/p/demo/runs/{run.pk}/")

    assert by_id.status_code == by_pk.status_code == 200
    assert b"run run-x" in by_id.content
    assert b'hx-get="/p/demo/runs/run-x/"' in by_id.content
    assert client.get("/p/demo/runs/run-y/").status_code == 404
    runs_table = client.get("/p/demo/").content
    assert b'href="/p/demo/runs/run-x/"' in runs_table
