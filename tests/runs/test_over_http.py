"""The API's promises checked over real HTTP against the live server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from projects.models import ApiKey
from runs.models import MetricPoint, Run

pytestmark = pytest.mark.django_db(transaction=True)


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


@pytest.fixture
def alice(api_key: str) -> requests.Session:
    return _session(api_key)


@pytest.fixture
def live_run(run: Run, live_url: str) -> str:
    return f"{live_url}/api/v1/runs/{run.pk}"


def test_it_stores_a_batch_sent_twice_once(alice: requests.Session, live_run: str) -> None:
    rows = [{"step": s, "time": 1.0, "values": {"a": s, "b": -s}} for s in range(500)]
    first = alice.post(f"{live_run}/log/", json={"rows": rows})
    second = alice.post(f"{live_run}/log/", json={"rows": rows})
    assert (first.json()["stored"], second.json()["stored"]) == (1000, 0)
    assert MetricPoint.objects.count() == 1000


def test_it_answers_401_to_bad_keys(api_key: str, live_url: str, project: Any) -> None:
    url = f"{live_url}/api/v1/projects/"
    assert requests.get(url).status_code == 401
    assert _session("st_wrong-key-wrong-key").get(url).status_code == 401
    ApiKey.find(api_key).revoke()
    response = _session(api_key).get(url)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_it_hides_alices_things_from_bob(
    other_api_key: str, live_url: str, live_run: str, user: Any
) -> None:
    bob = _session(other_api_key)
    for url in [
        f"{live_url}/api/v1/projects/demo/",
        f"{live_run}/",
        f"{live_run}/history/",
    ]:
        response = bob.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"]
    assert bob.post(f"{live_run}/log/", json={"rows": []}).status_code == 404


def test_it_answers_bad_bodies_with_messages_and_stores_nothing(
    alice: requests.Session, live_url: str, live_run: str, run: Run
) -> None:
    headers = {"Content-Type": "application/json"}
    malformed = alice.post(f"{live_run}/log/", data="{not json", headers=headers)
    missing = alice.post(f"{live_url}/api/v1/runs/", json={"name": "no project"})
    string_value = alice.post(
        f"{live_run}/log/", json={"rows": [{"step": 0, "time": 1, "values": {"loss": "low"}}]}
    )
    huge = alice.post(f"{live_run}/log/", data=b"x" * (10 * 1024 * 1024), headers=headers)
    for response, needle in [
        (malformed, "JSON"),
        (missing, "project"),
        (string_value, "loss"),
        (huge, "limit"),
    ]:
        assert 400 <= response.status_code < 500
        assert needle in json.dumps(response.json())
    assert huge.status_code == 413
    assert not MetricPoint.objects.exists()
    assert Run.objects.count() == 1
