from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from projects.models import Project


def test_it_creates_a_project_owned_by_its_creator(api: APIClient) -> None:
    response = api.post("/api/v1/projects/", {"slug": "mnist", "name": "MNIST"}, format="json")
    assert response.status_code == 201
    assert response.json()["role"] == "admin"
    assert Project.objects.get(slug="mnist").owner.username == "alice"


def test_it_refuses_a_taken_or_bad_slug(api: APIClient, project: Project) -> None:
    taken = api.post("/api/v1/projects/", {"slug": "demo"}, format="json")
    assert taken.status_code == 400
    assert "slug" in taken.json()
    bad = api.post("/api/v1/projects/", {"slug": "no spaces"}, format="json")
    assert bad.status_code == 400
    assert "slug" in bad.json()


def test_it_hides_projects_from_non_members(other_api: APIClient, project: Project) -> None:
    assert other_api.get("/api/v1/projects/").json()["count"] == 0
    assert other_api.get("/api/v1/projects/demo/").status_code == 404
    assert (
        other_api.patch("/api/v1/projects/demo/", {"name": "x"}, format="json").status_code == 404
    )


def test_it_lets_viewers_see_but_not_change(
    other_api: APIClient, project: Project, other_user: Any, member: Any
) -> None:
    member(other_user, "viewer")
    assert other_api.get("/api/v1/projects/demo/").json()["role"] == "viewer"
    response = other_api.patch("/api/v1/projects/demo/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "viewer" in response.json()["detail"]


def test_it_lets_an_admin_add_members(api: APIClient, project: Project, other_user: Any) -> None:
    response = api.post(
        "/api/v1/projects/demo/members/", {"username": "bob", "role": "editor"}, format="json"
    )
    assert response.status_code == 200
    assert {"username": "bob", "role": "editor"} in response.json()
    assert project.memberships.get(user=other_user).role == "editor"
