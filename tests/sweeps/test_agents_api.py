"""GET/POST /api/v1/sweeps/{id}/agents/: agents named in their suggest requests' header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from runs.models import Run
from sweeps import state_machine
from sweeps.models import Agent, Sweep, Trial

HEADER = "X-SweepTracker-Agent"
GPU1 = "id=a1b2c3d4&host=gpu-1.example&pid=4242&started=2026-12-01T10:00:00%2B00:00"


def agents(api: APIClient, sweep: Sweep, **query: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/v1/sweeps/{sweep.pk}/agents/", query)
    assert answer.status_code == 200, answer.content
    listed: list[dict[str, Any]] = answer.json()
    return listed


def suggest_as(api: APIClient, sweep: Sweep, header: str = GPU1) -> Any:
    return api.post(f"/api/v1/sweeps/{sweep.pk}/suggest/", headers={HEADER: header})


def test_it_records_the_agent_named_on_its_suggestions(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()

    first, second = suggest_as(api, sweep), suggest_as(api, sweep)
    Run.objects.filter(pk=first.json()["run_id"]).update(state="finished")
    Trial.objects.filter(sweep=sweep, number=0).update(state="complete")

    assert (first.status_code, second.status_code) == (201, 201)
    [agent] = agents(api, sweep)
    assert agent["id"] == "a1b2c3d4"
    assert (agent["host"], agent["pid"]) == ("gpu-1.example", 4242)
    assert agent["started_at"].startswith("2026-12-01T10:00:00")
    assert (agent["trials"], agent["current_trial"]) == (2, 1)
    assert agent["current_run_id"] == second.json()["run_id"]
    assert agent["live"] is True and agent["stopped_at"] is None
    assert set(Trial.objects.filter(sweep=sweep).values_list("agent__key", flat=True)) == {
        "a1b2c3d4"
    }


def test_a_refused_suggestion_still_shows_the_agent_is_there(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    state_machine.transition(sweep, "pause")

    answer = suggest_as(api, sweep)

    assert answer.status_code == 409
    [agent] = agents(api, sweep, live="true")
    assert (agent["trials"], agent["current_trial"], agent["live"]) == (0, None, True)


def test_an_agent_lives_on_its_running_trials_heartbeats_until_it_says_it_stopped(
    api: APIClient, make_sweep: Callable[..., Sweep], settings: Any
) -> None:
    sweep = make_sweep()
    run_id = suggest_as(api, sweep).json()["run_id"]
    long_ago = timezone.now() - timedelta(seconds=settings.AGENT_TIMEOUT + 5)
    Agent.objects.filter(sweep=sweep).update(last_seen_at=long_ago)

    # Its last request is old, but the run of its trial heartbeats: live.
    assert [a["id"] for a in agents(api, sweep, live="true")] == ["a1b2c3d4"]

    Run.objects.filter(pk=run_id).update(heartbeat_at=long_ago)
    assert agents(api, sweep, live="true") == []
    assert agents(api, sweep)[0]["live"] is False

    suggest_as(api, sweep)  # back: live again
    stopped = api.post(
        f"/api/v1/sweeps/{sweep.pk}/agents/",
        {"stopped": True},
        format="json",
        headers={HEADER: GPU1},
    )
    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["live"] is False and stopped.json()["stopped_at"]
    assert agents(api, sweep, live="true") == []


def test_a_bad_header_names_no_agent_and_fails_nothing(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()

    for header in ["id=not valid!", "host=x&pid=1", "%%%", "id=" + "x" * 65]:
        assert suggest_as(api, sweep, header).status_code == 201
    odd = suggest_as(api, sweep, "id=ok-1&pid=-3&started=yesterday&host=" + "h" * 300)

    assert odd.status_code == 201
    [agent] = agents(api, sweep)
    assert (agent["id"], agent["pid"], agent["started_at"]) == ("ok-1", None, None)
    assert len(agent["host"]) == 255
    refused = api.post(f"/api/v1/sweeps/{sweep.pk}/agents/", {"stopped": True}, format="json")
    assert refused.status_code == 400
    assert [e["path"] for e in refused.json()["errors"]] == ["X-SweepTracker-Agent"]


def test_the_schema_lists_the_agents_endpoint(api: APIClient) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operations = schema["paths"]["/api/v1/sweeps/{id}/agents/"]
    assert set(operations) >= {"get", "post"}
    listed = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array"
