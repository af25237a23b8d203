"""The read API: projects, runs with filters and pages, errors with the server's message."""

from __future__ import annotations

import pytest
import sweeptracker_client as st
from rest_framework.test import RequestsClient
from sweeptracker_client import Api, Project, SweepTrackerError, api


def test_it_lists_projects_and_runs_across_pages(
    client_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "LIST_PAGE", 2)
    for name in ("alpha", "beta", "gamma"):
        with st.init(project="demo", name=name, tags=["keep"] if name != "beta" else []) as run:
            run.log({"loss": 1.0})
    with st.init(project="other", name="delta"):
        pass
    failed = st.init(project="demo", name="broken")
    failed.finish(exit_code=2)

    with Api() as client:
        projects = client.projects()
        runs = client.runs("demo")
        tagged = client.runs("demo", {"tag": "keep"})
        found = client.runs("demo", {"search": "amm", "state": "finished"})
        failures = client.runs("demo", {"state": "failed"})
    assert [p.slug for p in projects] == ["demo", "other"]
    assert isinstance(projects[0], Project) and projects[0].role == "admin"
    assert [r.name for r in runs] == ["broken", "gamma", "beta", "alpha"]
    assert [r.name for r in tagged] == ["gamma", "alpha"]
    assert [r.name for r in found] == ["gamma"]
    assert [(r.name, r.exit_code) for r in failures] == [("broken", 2)]


def test_it_reads_history_across_pages(client_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "HISTORY_PAGE", 7)
    with st.init() as run:
        for step in range(20):
            run.log({"a": step, "b": 2 * step})

    with Api() as client:
        info = client.run(run.id)
        history = info.history(pandas=False)
    assert (info.state, info.project, info.created_at is not None) == ("finished", "demo", True)
    assert [(row["_step"], row["a"], row["b"]) for row in history] == [
        (s, s, 2 * s) for s in range(20)
    ]


def test_it_raises_one_error_with_the_status_and_message(client_env: str) -> None:
    with Api() as client:
        with pytest.raises(SweepTrackerError) as error:
            client.run(999_999)
        with pytest.raises(ValueError, match="colour"):
            client.runs("demo", {"colour": "red"})
    assert error.value.status == 404
    assert "404" in str(error.value)

    with Api(api_key="st_wrong-wrong-wrong") as client, pytest.raises(SweepTrackerError) as error:
        client.projects()
    assert error.value.status == 401
    assert "not valid" in error.value.message


def test_it_uses_an_injected_session_as_is(api_key: str, project: object) -> None:
    # DRF's RequestsClient reaches the app in-process, with no server at all.
    with Api("http://testserver", api_key, session=RequestsClient()) as client:
        projects = client.projects()
    assert [p.slug for p in projects] == ["demo"]
