"""API keys are kept as hashes; bad keys from one address are throttled."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.test import APIClient

from projects.models import ApiKey, hash_key


def test_it_stores_only_the_hash_of_a_key(user: Any) -> None:
    api_key, key = ApiKey.issue(user)
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert row["hashed"] == hash_key(key) != key
    assert not any(key in str(value) for value in row.values())
    # Lookup goes by the clear prefix and compares hashes; the key is never a query parameter.
    with CaptureQueriesContext(connection) as queries:
        assert ApiKey.find(key) == api_key
    assert not any(key in query["sql"] for query in queries.captured_queries)


def bad_key_client(address: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION="Bearer st_guessing-at-keys-0000")
    return client


@override_settings(BAD_KEY_LIMIT=20, BAD_KEY_WINDOW=60)
def test_it_throttles_an_address_that_sends_bad_keys(api_key: str) -> None:
    guesser = bad_key_client("203.0.113.5")
    for _ in range(20):
        assert guesser.get("/api/v1/projects/").status_code == 401

    blocked = guesser.get("/api/v1/projects/")
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert "Too many bad API keys" in blocked.json()["detail"]
    # A good key from the blocked address waits too: a hit must not show.
    guesser.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert guesser.get("/api/v1/projects/").status_code == 429

    neighbour = APIClient(REMOTE_ADDR="203.0.113.6")
    neighbour.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert neighbour.get("/api/v1/projects/").status_code == 200
    assert bad_key_client("203.0.113.6").get("/api/v1/projects/").status_code == 401


@override_settings(BAD_KEY_LIMIT=3, BAD_KEY_WINDOW=60)
def test_it_ignores_a_forged_forwarded_for_header(db: None) -> None:
    """With NUM_PROXIES=0 a client cannot pose as many addresses to dodge the count."""
    for n in range(3):
        client = bad_key_client("203.0.113.7")
        assert client.get("/api/v1/runs/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 401
    assert bad_key_client("203.0.113.7").get("/api/v1/runs/").status_code == 429
