from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from projects.access import create_project
from projects.models import ApiKey, Membership, Project
from runs.models import Run

pytest_plugins = ["tests.browser"]

# Playwright's sync API keeps an event loop running in the test thread; the
# ORM calls the tests make beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Bad-key counts live in the cache: one test's bad keys must not block the next."""
    cache.clear()


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> Any:
    return get_user_model().objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def project(user: Any) -> Project:
    return create_project(user, "demo", "Demo project")


@pytest.fixture
def run(project: Project) -> Run:
    return Run.objects.create(project=project, name="first-run", config={"lr": 0.1})


@pytest.fixture
def member(project: Project) -> Any:
    """Make `user` a member of `project` with a role: member(bob, "viewer")."""

    def add(someone: Any, role: str) -> Membership:
        return Membership.objects.create(project=project, user=someone, role=role)

    return add


@pytest.fixture
def api_key(user: Any) -> str:
    return ApiKey.issue(user)[1]


@pytest.fixture
def other_api_key(other_user: Any) -> str:
    return ApiKey.issue(other_user)[1]


@pytest.fixture
def api(api_key: str) -> APIClient:
    """An API client for alice that authenticates with her key, as the real client does."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api(other_api_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def live_url(live_server: Any) -> str:
    return live_server.url


@pytest.fixture
def client_env(live_url: str, api_key: str, tmp_path: Any, monkeypatch: Any) -> Iterator[str]:
    """Point the client library at the live server as alice, with its files in tmp_path."""
    monkeypatch.setenv("SWEEPTRACKER_BASE_URL", live_url)
    monkeypatch.setenv("SWEEPTRACKER_API_KEY", api_key)
    monkeypatch.setenv("SWEEPTRACKER_PROJECT", "demo")
    monkeypatch.setenv("SWEEPTRACKER_DIR", str(tmp_path / "sweeptracker"))
    yield live_url
