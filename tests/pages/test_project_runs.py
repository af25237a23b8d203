from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.models import Project, Role
from runs.models import Run, RunState

URL = reverse("runs:project", args=["demo"])
# What htmx sends from the filters, sort links and pages (hx-target="#run-table").
HTMX = {"HX-Request": "true", "HX-Target": "run-table"}


def make_runs(project: Project, count: int) -> list[Run]:
    """Runs named run-000... with created_at one minute apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    runs = [
        Run(project=project, name=f"run-{i:03d}", summary={"loss": i / 10}) for i in range(count)
    ]
    Run.objects.bulk_create(runs)
    for i, run in enumerate(Run.objects.filter(project=project).order_by("name")):
        Run.objects.filter(pk=run.pk).update(created_at=start + timedelta(minutes=i))
    return list(Run.objects.filter(project=project).order_by("name"))


def names_in(content: bytes) -> list[str]:
    """Run names in table order (their links are the only ones with this shape)."""
    text = content.decode()
    names = []
    for part in text.split('<td class="run-name"><a href="')[1:]:
        names.append(part.split(">", 1)[1].split("<", 1)[0])
    return names


def test_it_redirects_anonymous_to_login(client: Client, project: Project) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_the_project_from_non_members(
    client: Client, project: Project, other_user: Any
) -> None:
    client.force_login(other_user)

    assert client.get(URL).status_code == 404
    assert client.get(URL, headers=HTMX).status_code == 404


def test_it_shows_the_project_and_its_runs(
    client: Client, project: Project, other_user: Any, member: Any
) -> None:
    project.description = "Digits, again."
    project.save()
    run = Run.objects.create(project=project, name="brisk-sun-1", summary={"acc": 0.91})
    run.set_tags(["baseline", "gpu"])
    member(other_user, Role.VIEWER)
    client.force_login(other_user)

    response = client.get(URL)

    assert response.status_code == 200
    content = response.content
    assert b"<html" in content
    assert b"Demo project" in content
    assert b"Digits, again." in content
    assert b"Your role: <strong>viewer</strong>" in content
    assert reverse("runs:detail", args=["demo", run.pk]).encode() in content
    assert b"brisk-sun-1" in content
    assert b"badge-running" in content
    assert b"baseline" in content and b"gpu" in content
    assert b"0.91" in content
    assert b'hx-target="#run-table"' in content
    assert b'hx-push-url="true"' in content
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_answers_htmx_with_the_table_only(client: Client, project: Project, run: Run) -> None:
    client.force_login(project.owner)

    response = client.get(URL, {"state": "running"}, headers=HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"run-filters" in response.content  # the sort field tied to the filter form
    assert b"<table" in response.content
    assert b"first-run" in response.content
    assert b"Demo project" not in response.content


def test_it_answers_a_history_restore_with_the_whole_page(
    client: Client, project: Project, run: Run
) -> None:
    client.force_login(project.owner)

    response = client.get(URL, headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert b"<html" in response.content


def test_it_filters_by_state(client: Client, project: Project) -> None:
    Run.objects.create(project=project, name="still-going")
    Run.objects.create(project=project, name="all-done", state=RunState.FINISHED)
    client.force_login(project.owner)

    response = client.get(URL, {"state": "finished"}, headers=HTMX)

    assert names_in(response.content) == ["all-done"]


def test_it_filters_by_tag(client: Client, project: Project) -> None:
    tagged = Run.objects.create(project=project, name="tagged")
    tagged.set_tags(["sweep-a", "gpu"])
    other = Run.objects.create(project=project, name="other")
    other.set_tags(["gpu"])
    client.force_login(project.owner)

    response = client.get(URL, {"tag": "sweep-a"}, headers=HTMX)
    page = client.get(URL)

    assert names_in(response.content) == ["tagged"]
    assert b'<option value="sweep-a"' in page.content
    assert b'<option value="gpu"' in page.content


def test_it_searches_by_name(client: Client, project: Project) -> None:
    Run.objects.create(project=project, name="Brisk-River-7")
    Run.objects.create(project=project, name="calm-delta-2")
    client.force_login(project.owner)

    response = client.get(URL, {"q": "river"}, headers=HTMX)

    assert names_in(response.content) == ["Brisk-River-7"]
    assert b"1 run matches" in response.content


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie"]),
        ("-name", ["charlie", "bravo", "alpha"]),
        ("created", ["charlie", "alpha", "bravo"]),
        ("-created", ["bravo", "alpha", "charlie"]),
        ("state", ["alpha", "charlie", "bravo"]),
        ("-state", ["bravo", "charlie", "alpha"]),
        ("nonsense", ["bravo", "alpha", "charlie"]),
    ],
)
def test_it_sorts(client: Client, project: Project, sort: str, expected: list[str]) -> None:
    now = timezone.now()
    for name, state, age in [
        ("charlie", RunState.FAILED, 3),
        ("alpha", RunState.CRASHED, 2),
        ("bravo", RunState.RUNNING, 1),
    ]:
        run = Run.objects.create(project=project, name=name, state=state)
        Run.objects.filter(pk=run.pk).update(created_at=now - timedelta(hours=age))
    client.force_login(project.owner)

    response = client.get(URL, {"sort": sort}, headers=HTMX)

    assert names_in(response.content) == expected


def test_it_marks_the_sorted_column_and_links_the_flip(
    client: Client, project: Project, run: Run
) -> None:
    client.force_login(project.owner)

    content = client.get(URL, {"sort": "name", "state": "running"}, headers=HTMX).content

    assert b'aria-sort="ascending"' in content
    assert b'href="/p/demo/?sort=-name&amp;state=running"' in content
    assert b'hx-get="/p/demo/?sort=-name&amp;state=running"' in content


def test_it_paginates(client: Client, project: Project) -> None:
    make_runs(project, 60)
    client.force_login(project.owner)

    first = client.get(URL, {"sort": "name"})
    third = client.get(URL, {"sort": "name", "page": 3}, headers=HTMX)
    beyond = client.get(URL, {"sort": "name", "page": 99}, headers=HTMX)

    assert names_in(first.content) == [f"run-{i:03d}" for i in range(25)]
    assert b"Page 1 of 3" in first.content
    assert b'href="/p/demo/?sort=name&amp;page=2"' in first.content
    assert names_in(third.content) == [f"run-{i:03d}" for i in range(50, 60)]
    assert b"Page 3 of 3" in third.content
    assert names_in(beyond.content) == names_in(third.content)


def test_it_shows_durations_and_summary_columns(client: Client, project: Project) -> None:
    run = Run.objects.create(
        project=project, name="done", state=RunState.FINISHED, summary={"loss": "Infinity"}
    )
    Run.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(minutes=90), finished_at=timezone.now()
    )
    client.force_login(project.owner)

    content = client.get(URL).content

    assert b"1h 30m" in content
    assert b'title="summary: loss"' in content
    assert b">inf<" in content


def test_it_escapes_run_names_and_tags(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="<img src=x onerror=alert(1)>")
    run.set_tags(["<script>alert(2)</script>"])
    client.force_login(project.owner)

    content = client.get(URL).content

    assert b"<img src=x" not in content
    assert b"<script>alert(2)" not in content
    assert b"&lt;img src=x onerror=alert(1)&gt;" in content


def test_it_says_when_there_are_no_runs(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    assert b"No runs yet" in client.get(URL).content
    assert b"No runs match" in client.get(URL, {"q": "zzz"}).content


@pytest.mark.parametrize("count", [3, 60])
def test_it_uses_the_same_queries_for_any_number_of_runs(
    client: Client, project: Project, count: int, django_assert_max_num_queries: Any
) -> None:
    for run in make_runs(project, count):
        run.set_tags(["a", "b"])
    client.force_login(project.owner)

    with django_assert_max_num_queries(7):
        response = client.get(URL)

    assert len(names_in(response.content)) == min(count, 25)
