from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def test_it_shows_the_login_form(client: Client, db: None) -> None:
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    # No menu for someone who is not signed in.
    assert b'href="/keys/"' not in response.content


def test_it_logs_in_and_goes_to_the_projects(client: Client, user: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("projects:list")


def test_it_rejects_a_wrong_password(client: Client, user: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"form-errors" in response.content


def test_it_logs_out_with_a_post(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("projects:list")).status_code == 302


def test_it_renders_the_error_pages_in_the_layout(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert b"Nothing here" in response.content
    assert b"SweepTracker" in response.content
