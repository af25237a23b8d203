"""POST /api/v1/runs/ with `id` and `resume`: W&B's rules for continuing a run."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.models import Project
from runs.ingest import log_batch
from runs.lifecycle import finish_run
from runs.models import Run, RunState
from runs.resume import ResumeRefused, RunExists, RunStart, start_run


def start(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/runs/", {"project": "demo", **body}, format="json")


def crashed_run(project: Project, explicit_id: str = "abc-1") -> Run:
    run = Run.objects.create(project=project, explicit_id=explicit_id, config={"lr": 0.1})
    run.set_tags(["old"])
    rows = [{"step": s, "values": {"loss": 1.0 / (s + 1)}} for s in range(5)]
    log_batch(run, {"rows": rows})
    return finish_run(run, state=RunState.CRASHED, exit_code=137)


def test_it_creates_a_new_run_without_an_id(api: APIClient, project: Project) -> None:
    response = start(api, name="plain", group="g", job_type="train")

    assert response.status_code == 201
    body = response.json()
    run = Run.objects.get()
    assert body["id"] == str(run.pk) and body["pk"] == run.pk
    assert (body["resumed"], body["last_step"]) == (False, None)
    assert (run.explicit_id, run.group, run.job_type) == ("", "g", "train")


@pytest.mark.parametrize("resume", [None, "allow", "never"])
def test_it_creates_a_run_with_a_new_id(
    api: APIClient, project: Project, resume: str | None
) -> None:
    response = start(api, id="abc-1", resume=resume, config={"lr": 0.2})

    assert response.status_code == 201
    assert response.json()["id"] == "abc-1"
    run = Run.objects.get()
    assert (run.explicit_id, run.config, run.state) == ("abc-1", {"lr": 0.2}, "running")


@pytest.mark.parametrize("resume", ["allow", "must"])
def test_it_resumes_a_crashed_run(api: APIClient, project: Project, resume: str) -> None:
    run = crashed_run(project)

    response = start(api, id="abc-1", resume=resume, config={"epochs": 3}, tags=["again"])

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["pk"], body["resumed"], body["last_step"]) == (
        "abc-1",
        run.pk,
        True,
        4,
    )
    run.refresh_from_db()
    assert (run.state, run.exit_code, run.finished_at) == ("running", None, None)
    assert run.heartbeat_at > run.created_at
    assert run.config == {"lr": 0.1, "epochs": 3}
    assert run.tag_names == ["again"]
    assert run.points.count() == 5
    assert Run.objects.count() == 1


def test_it_keeps_what_a_resume_does_not_name(api: APIClient, project: Project) -> None:
    run = crashed_run(project)
    Run.objects.filter(pk=run.pk).update(name="kept-name", group="g", notes="n")

    start(api, id="abc-1", resume="allow")

    run.refresh_from_db()
    assert (run.name, run.group, run.notes, run.tag_names) == ("kept-name", "g", "n", ["old"])


def test_it_refuses_must_for_a_run_that_does_not_exist(api: APIClient, project: Project) -> None:
    response = start(api, id="abc", resume="must")

    assert response.status_code == 400
    message = "resume='must' but run 'abc' does not exist in project 'demo'."
    assert response.json() == {
        "detail": message,
        "code": "invalid",
        "errors": [{"path": "resume", "message": message}],
    }
    assert not Run.objects.exists()


def test_it_refuses_must_without_an_id(api: APIClient, project: Project) -> None:
    response = start(api, resume="must")

    assert response.status_code == 400
    assert "needs the id" in response.json()["detail"]


@pytest.mark.parametrize("resume", [None, "never"])
def test_it_refuses_an_id_that_exists_unless_asked_to_resume(
    api: APIClient, project: Project, resume: str | None
) -> None:
    run = crashed_run(project)

    response = start(api, id="abc-1", resume=resume)

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "'abc-1' already exists in project 'demo'" in detail
    assert "resume='allow'" in detail
    run.refresh_from_db()
    assert run.state == "crashed"


def test_it_refuses_an_unknown_resume_mode(api: APIClient, project: Project) -> None:
    response = start(api, id="abc-1", resume="auto")

    assert response.status_code == 400
    assert "resume" in response.json()
    assert not Run.objects.exists()


def test_it_resumes_only_in_the_project_named(api: APIClient, project: Project, user: Any) -> None:
    from projects.access import create_project

    other = create_project(user, "other", "Other")
    crashed_run(other)

    response = start(api, id="abc-1", resume="allow")

    assert response.status_code == 201
    assert Run.objects.filter(explicit_id="abc-1").count() == 2


def test_it_needs_an_editor_to_resume(
    other_api: APIClient, project: Project, other_user: Any, member: Any
) -> None:
    run = crashed_run(project)
    member(other_user, "viewer")

    response = start(other_api, id="abc-1", resume="must")

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.state == "crashed"


def test_it_keeps_the_rules_in_a_plain_module(project: Project) -> None:
    made = start_run(project, RunStart(fields={"name": "m"}, run_id="abc-1", resume="allow"))
    resumed = start_run(project, RunStart(fields={}, run_id="abc-1", resume="allow"))

    with pytest.raises(RunExists):
        start_run(project, RunStart(fields={}, run_id="abc-1"))
    with pytest.raises(ResumeRefused):
        start_run(project, RunStart(fields={}, run_id="zzz", resume="must"))
    assert not made.resumed
    assert resumed.resumed and resumed.run.pk == made.run.pk and resumed.run.name == "m"
