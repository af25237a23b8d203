from __future__ import annotations

from io import StringIO
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from projects.management.commands.create_api_key import Command
from projects.models import ApiKey


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_it_creates_user_and_prints_key_last(db: None) -> None:
    out = StringIO()
    Command(stdout=out).handle(username="carol", name="laptop")
    key = out.getvalue().strip().splitlines()[-1]
    assert get_user_model().objects.filter(username="carol").exists()
    assert _client(key).get("/api/v1/projects/").status_code == 200


def test_it_stores_only_a_hash(user: Any) -> None:
    api_key, key = ApiKey.issue(user)
    api_key.refresh_from_db()
    assert key not in (api_key.hashed, api_key.lookup)
    assert ApiKey.find(key) == api_key


def test_it_answers_401_for_wrong_revoked_or_missing_key(api_key: str) -> None:
    assert APIClient().get("/api/v1/projects/").status_code == 401
    assert _client("st_not-a-real-key-at-all").get("/api/v1/projects/").status_code == 401
    wrong = api_key[:-4] + ("aaaa" if not api_key.endswith("aaaa") else "bbbb")
    response = _client(wrong).get("/api/v1/runs/")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]
    ApiKey.find(api_key).revoke()
    assert _client(api_key).get("/api/v1/projects/").status_code == 401


def test_it_records_last_use(api: APIClient, api_key: str) -> None:
    assert ApiKey.find(api_key).last_used_at is None
    api.get("/api/v1/projects/")
    assert ApiKey.find(api_key).last_used_at is not None


def test_it_shows_a_new_key_once_and_revokes_on_delete(api: APIClient) -> None:
    response = api.post("/api/v1/keys/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    listed = api.get("/api/v1/keys/").json()["results"]
    assert all("key" not in item for item in listed)
    assert _client(key).get("/api/v1/projects/").status_code == 200
    assert api.delete(f"/api/v1/keys/{response.json()['id']}/").status_code == 204
    assert _client(key).get("/api/v1/projects/").status_code == 401


def test_it_hides_other_users_keys(api: APIClient, other_api: APIClient) -> None:
    key_id = api.post("/api/v1/keys/", {}, format="json").json()["id"]
    assert other_api.delete(f"/api/v1/keys/{key_id}/").status_code == 404
