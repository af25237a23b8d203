from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from projects.models import ApiKey

URL = reverse("projects:keys")


def test_it_redirects_anonymous_to_login(client: Client, db: None) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lists_my_keys_only(client: Client, user: Any, other_user: Any) -> None:
    mine, _ = ApiKey.issue(user, "laptop")
    theirs, _ = ApiKey.issue(other_user, "bobs-box")
    revoked, _ = ApiKey.issue(user, "old-one")
    revoked.revoke()
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 200
    assert f"st_{mine.lookup}…".encode() in response.content
    assert b"laptop" in response.content
    assert b"never" in response.content
    assert b"revoked " in response.content
    assert b"bobs-box" not in response.content
    assert theirs.lookup.encode() not in response.content


def test_it_shows_a_new_key_once(client: Client, user: Any) -> None:
    client.force_login(user)

    created = client.post(URL, {"name": "gpu-box"})

    assert created.status_code == 200
    key = ApiKey.objects.get(user=user, name="gpu-box")
    clear = created.context["new_key"]
    assert ApiKey.find(clear) == key
    assert clear.encode() in created.content
    assert b"shown only this once" in created.content
    assert b"sweeptracker login" in created.content
    assert f"SWEEPTRACKER_API_KEY={clear}".encode() in created.content
    assert "no-store" in created["Cache-Control"]

    again = client.get(URL)

    assert clear.encode() not in again.content
    assert f"st_{key.lookup}…".encode() in again.content


def test_it_escapes_key_names(client: Client, user: Any) -> None:
    ApiKey.issue(user, "<script>alert(1)</script>")
    client.force_login(user)

    response = client.get(URL)

    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content
