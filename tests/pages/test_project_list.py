from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from projects.access import create_project
from projects.models import Membership, Project, Role
from runs.models import Run

URL = reverse("projects:list")


def test_it_redirects_anonymous_to_login(client: Client, db: None) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lists_my_projects_with_run_counts(
    client: Client, project: Project, other_user: Any
) -> None:
    Run.objects.create(project=project, name="a")
    Run.objects.create(project=project, name="b")
    create_project(other_user, "secret", "Bob's secret project")
    client.force_login(project.owner)

    response = client.get(URL)

    assert response.status_code == 200
    assert b"Demo project" in response.content
    assert reverse("runs:project", args=["demo"]).encode() in response.content
    assert b"2 runs" in response.content
    assert b"last run" in response.content
    assert b"secret" not in response.content


def test_it_shows_my_role_even_with_other_members(
    client: Client, project: Project, other_user: Any, member: Any
) -> None:
    member(other_user, Role.VIEWER)
    Run.objects.create(project=project)
    client.force_login(other_user)

    response = client.get(URL)

    assert response.content.count(b"project-card-head") == 1
    assert b'class="role role-viewer"' in response.content
    # The second membership must not double the count.
    assert b"1 run<" in response.content


def test_it_creates_a_project(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.post(URL, {"slug": "mnist", "name": "MNIST", "description": "digits"})

    assert response.status_code == 302
    assert response["Location"] == reverse("runs:project", args=["mnist"])
    project = Project.objects.get(slug="mnist")
    assert project.name == "MNIST"
    assert Membership.objects.get(project=project, user=user).role == Role.ADMIN


def test_it_shows_errors_inline(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    taken = client.post(URL, {"slug": "demo", "name": "Again"})
    invalid = client.post(URL, {"slug": "not a slug!", "name": "x"})

    assert taken.status_code == 200
    assert b"errorlist" in taken.content
    assert b"already exists" in taken.content
    assert invalid.status_code == 200
    assert b"errorlist" in invalid.content
    assert b'value="not a slug!"' in invalid.content
    assert Project.objects.count() == 1


def test_it_escapes_project_fields(client: Client, user: Any) -> None:
    create_project(user, "xss", "<script>alert(1)</script>", "<b>bold</b>")
    client.force_login(user)

    response = client.get(URL)

    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
    assert b"<b>bold</b>" not in response.content


def test_it_shows_the_menu(client: Client, user: Any) -> None:
    client.force_login(user)

    content = client.get(URL).content

    assert b'href="/keys/"' in content
    assert f'action="{reverse("logout")}"'.encode() in content
    assert b'method="post"' in content
    assert b"X-CSRFToken" in content
    assert b'href="/admin/"' not in content


def test_it_links_the_admin_for_staff(client: Client, user: Any) -> None:
    user.is_staff = True
    user.save()
    client.force_login(user)

    assert b'href="/admin/"' in client.get(URL).content


@pytest.mark.parametrize("projects", [2, 30])
def test_it_uses_the_same_queries_for_any_number_of_projects(
    client: Client, user: Any, projects: int, django_assert_max_num_queries: Any
) -> None:
    for i in range(projects):
        project = create_project(user, f"p{i}", f"Project {i}")
        Run.objects.create(project=project)
    client.force_login(user)

    with django_assert_max_num_queries(3):
        response = client.get(URL)

    assert response.content.count(b"project-card-head") == projects
