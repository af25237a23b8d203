from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from projects.models import ApiKey


def test_it_revokes_my_key(client: Client, user: Any) -> None:
    key, clear = ApiKey.issue(user, "laptop")
    client.force_login(user)

    response = client.post(reverse("projects:revoke_key", args=[key.pk]), follow=True)

    assert response.redirect_chain == [(reverse("projects:keys"), 302)]
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert ApiKey.find(clear) is None
    assert b"revoked" in response.content


def test_it_does_not_revoke_someone_elses_key(client: Client, user: Any, other_user: Any) -> None:
    key, _ = ApiKey.issue(other_user, "bobs")
    client.force_login(user)

    response = client.post(reverse("projects:revoke_key", args=[key.pk]))

    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_only_revokes_on_post(client: Client, user: Any) -> None:
    key, _ = ApiKey.issue(user)
    client.force_login(user)

    response = client.get(reverse("projects:revoke_key", args=[key.pk]))

    assert response.status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_redirects_anonymous_to_login(client: Client, user: Any) -> None:
    key, _ = ApiKey.issue(user)

    response = client.post(reverse("projects:revoke_key", args=[key.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_asks_before_revoking(client: Client, user: Any) -> None:
    key, _ = ApiKey.issue(user)
    client.force_login(user)

    content = client.get(reverse("projects:keys")).content

    # The real button sits in a disclosure; the first click only opens it.
    assert b'<details class="confirm">' in content
    assert reverse("projects:revoke_key", args=[key.pk]).encode() in content
