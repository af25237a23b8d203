from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.access import create_project
from projects.models import Project
from sweeps.models import Sweep, SweepState
from sweeps.state_machine import transition
from tests.sweep_pages.helpers import CONFIG, HTMX, XSS, bulk_trials, make_sweep

URL = reverse("sweeps:list")
PROJECT_URL = reverse("sweeps:project_list", args=["demo"])
TABLE = {**HTMX, "HX-Target": "sweep-table"}
GRID = {
    "method": "grid",
    "metric": {"name": "acc", "goal": "maximize"},
    "parameters": {"depth": {"values": [1, 2, 3]}},
}


def names_in(content: bytes) -> list[str]:
    """Sweep names in table order."""
    return re.findall(r'<td class="sweep-name">\s*<a href="[^"]+">([^<]*)</a>', content.decode())


def buttons_in(content: bytes) -> list[str]:
    return re.findall(r"js-action-(\w+)", content.decode())


def make_many(project: Project, count: int) -> list[Sweep]:
    """Sweeps sweep-000... created a minute apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    sweeps = [make_sweep(project, name=f"sweep-{i:03d}") for i in range(count)]
    for i, sweep in enumerate(sweeps):
        Sweep.objects.filter(pk=sweep.pk).update(created_at=start + timedelta(minutes=i))
    return sweeps


def test_it_redirects_anonymous_to_login(client: Client, project: Project) -> None:
    for url in (URL, PROJECT_URL):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_hides_projects_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(PROJECT_URL).status_code == 404
    assert client.get(PROJECT_URL, headers=TABLE).status_code == 404
    assert names_in(client.get(URL).content) == []


def test_it_lists_the_sweeps_of_all_my_projects(
    client: Client, project: Project, user: Any, other_user: Any
) -> None:
    make_sweep(project, name="mine")
    make_sweep(create_project(user, "second", "Second"), name="also-mine")
    make_sweep(create_project(other_user, "theirs", "Theirs"), name="not-mine")
    client.force_login(user)

    content = client.get(URL).content

    assert sorted(names_in(content)) == ["also-mine", "mine"]
    assert b'<option value="second">Second</option>' in content
    assert b'aria-current="page">Sweeps</a>' in content


def test_it_shows_state_method_trials_best_and_created(client: Client, project: Project) -> None:
    sweep = make_sweep(project, {**CONFIG, "run_cap": 50}, name="capped")
    bulk_trials(sweep, 12)
    client.force_login(project.owner)

    content = client.get(PROJECT_URL).content.decode()

    assert "badge-pending" in content
    assert '<span class="badge badge-method" title="Search method">random</span>' in content
    assert "12 / 50" in content
    assert "loss ↓" in content
    assert f"{sweep.best_trial.value:.6g}" in content
    assert "<time datetime=" in content


def test_it_shows_the_pareto_front_size_of_a_multi_objective_sweep(
    client: Client, project: Project
) -> None:
    config = {
        **CONFIG,
        "metric": [{"name": "loss", "goal": "minimize"}, {"name": "ms", "goal": "minimize"}],
    }
    sweep = make_sweep(project, config, name="two-goals")
    bulk_trials(sweep, 4)
    client.force_login(project.owner)

    content = client.get(PROJECT_URL).content.decode()

    assert "Pareto front" in content
    assert "1 trial<" in content


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (SweepState.PENDING, ["start", "pause", "finish", "cancel"]),
        (SweepState.RUNNING, ["pause", "finish", "cancel"]),
        (SweepState.PAUSED, ["resume", "finish", "cancel"]),
        (SweepState.FINISHED, []),
        (SweepState.CANCELED, []),
        (SweepState.FAILED, []),
    ],
)
def test_it_shows_only_the_legal_buttons(
    client: Client, sweep: Sweep, state: str, expected: list[str]
) -> None:
    Sweep.objects.filter(pk=sweep.pk).update(state=state)
    client.force_login(sweep.project.owner)

    content = client.get(PROJECT_URL).content

    assert buttons_in(content) == expected
    assert b"js-delete" in content


def test_it_shows_viewers_no_buttons(client: Client, sweep: Sweep, viewer: Any) -> None:
    client.force_login(viewer)

    content = client.get(PROJECT_URL).content

    assert names_in(content) == ["lr-search"]
    assert buttons_in(content) == []
    assert b"js-delete" not in content
    assert b"New sweep" not in content


def test_it_shows_editors_the_buttons(client: Client, sweep: Sweep, editor: Any) -> None:
    client.force_login(editor)

    content = client.get(URL).content

    assert buttons_in(content) == ["start", "pause", "finish", "cancel"]
    assert reverse("sweeps:new").encode() in content


def test_it_filters_by_state_method_and_project(
    client: Client, project: Project, user: Any
) -> None:
    make_sweep(project, name="waiting")
    transition(make_sweep(project, name="going"), "start")
    make_sweep(project, GRID, name="gridded")
    make_sweep(create_project(user, "second", "Second"), name="elsewhere")
    client.force_login(user)

    assert names_in(client.get(URL, {"state": "running"}, headers=TABLE).content) == ["going"]
    assert names_in(client.get(URL, {"method": "grid"}, headers=TABLE).content) == ["gridded"]
    assert names_in(client.get(URL, {"project": "second"}, headers=TABLE).content) == ["elsewhere"]
    # A value that is not a state means "all states".
    everything = names_in(client.get(URL, {"state": "nonsense"}, headers=TABLE).content)
    assert sorted(everything) == ["elsewhere", "going", "gridded", "waiting"]


def test_it_searches_by_name(client: Client, project: Project) -> None:
    make_sweep(project, name="ResNet-LR")
    make_sweep(project, name="bert-dropout")
    client.force_login(project.owner)

    response = client.get(PROJECT_URL, {"q": "resnet"}, headers=TABLE)

    assert names_in(response.content) == ["ResNet-LR"]
    assert b"1 sweep matches" in response.content
    assert b"clear filters" in response.content


def test_it_answers_htmx_with_the_table_only(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    response = client.get(PROJECT_URL, headers=TABLE)

    assert b"<html" not in response.content
    assert b"<table" in response.content
    assert b"sweep-filters" not in response.content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("per_page", [10, 20, 50])
def test_it_paginates_with_a_chosen_page_size(
    client: Client, project: Project, per_page: int
) -> None:
    make_many(project, 55)
    client.force_login(project.owner)

    first = client.get(PROJECT_URL, {"per_page": per_page})
    last_number = -(-55 // per_page)
    last = client.get(PROJECT_URL, {"per_page": per_page, "page": last_number}, headers=TABLE)

    newest_first = [f"sweep-{i:03d}" for i in reversed(range(55))]
    assert names_in(first.content) == newest_first[:per_page]
    assert f"Page 1 of {last_number}".encode() in first.content
    assert f'<option value="{per_page}" selected>'.encode() in first.content
    assert names_in(last.content) == newest_first[(last_number - 1) * per_page :]


def test_it_falls_back_to_20_a_page(client: Client, project: Project) -> None:
    make_many(project, 25)
    client.force_login(project.owner)

    assert len(names_in(client.get(PROJECT_URL, {"per_page": "7"}).content)) == 20


def test_it_escapes_sweep_names(client: Client, project: Project) -> None:
    make_sweep(project, name=XSS)
    client.force_login(project.owner)

    content = client.get(URL).content

    assert b"<img src=x" not in content
    assert b"&lt;img src=x onerror=alert(1)&gt;" in content


def test_it_says_when_there_are_no_sweeps(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    assert b"No sweeps yet" in client.get(PROJECT_URL).content
    assert b"No sweeps match" in client.get(PROJECT_URL, {"q": "zzz"}).content


@pytest.mark.parametrize(("sweeps", "trials"), [(3, 10), (30, 1000)])
def test_it_uses_the_same_queries_for_any_number_of_sweeps_and_trials(
    client: Client,
    project: Project,
    sweeps: int,
    trials: int,
    django_assert_max_num_queries: Any,
) -> None:
    made = make_many(project, sweeps)
    bulk_trials(made[-1], trials)
    client.force_login(project.owner)

    # session, user, my projects' filter choices, editable projects, count, page
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    with django_assert_max_num_queries(5):
        client.get(PROJECT_URL, headers=TABLE)

    assert len(names_in(response.content)) == min(sweeps, 20)
