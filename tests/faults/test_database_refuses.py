"""The database refuses for a while: 503 with a message, never a 500 with a traceback;
nothing half-written; the client's retried batch lands exactly once."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import sweeptracker_client as st
from django.conf import settings
from django.db import connection
from django.test import Client

from projects.models import Project
from runs.models import MetricPoint, Run
from tests.faults.agents import AGENT_ENV
from tests.faults.forwarder import Forwarder
from tests.faults.polling import wait_for
from tests.faults.server import Server, shared_database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 3
LOCKED_LOG = '/log/ HTTP/1.1" 503'


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


@pytest.fixture
def client_for(api_key: str, tmp_path: Path, monkeypatch: Any) -> Any:
    def point_at(server: Server) -> None:
        for name, value in {
            **AGENT_ENV,
            "SWEEPTRACKER_BASE_URL": server.url,
            "SWEEPTRACKER_API_KEY": api_key,
            "SWEEPTRACKER_DIR": str(tmp_path / "client"),
        }.items():
            monkeypatch.setenv(name, value)

    return point_at


def _send_batch(server: Server, key: str, run_id: int) -> requests.Response:
    rows = [{"step": 100 + i, "time": time.time(), "values": {"direct": 1.0}} for i in range(5)]
    return requests.post(
        f"{server.url}/api/v1/runs/{run_id}/log/",
        json={"rows": rows},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _assert_unavailable(answer: requests.Response) -> None:
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert "database is unavailable" in answer.json()["detail"]


def _assert_landed_once(run: st.Run, refused_run: int) -> None:
    assert run.finish() is not False
    stored = MetricPoint.objects.filter(run_id=run.id).order_by("step")
    assert list(stored.values_list("key", "step")) == [("loss", s) for s in range(ROWS)]
    assert Run.objects.get(pk=run.id).state == "finished"
    # The refused batch left nothing behind.
    assert not MetricPoint.objects.filter(run_id=refused_run).exists()


@contextmanager
def _write_lock(path: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock, as a long writer would."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def test_it_answers_503_while_sqlite_stays_locked(
    api_key: str, project: Project, tmp_path: Path, client_for: Any
) -> None:
    if not _is_sqlite():
        pytest.skip("SQLite's write lock; PostgreSQL has the forwarder test")
    access_log = tmp_path / "access.log"
    env = {"SQLITE_BUSY_TIMEOUT": "1", "ACCESS_LOG": str(access_log)}
    refused = Run.objects.create(project=project, name="refused")
    with Server(tmp_path / "server.log", env) as server:
        client_for(server)
        run = st.init(project="demo")
        with _write_lock(connection.settings_dict["NAME"]):
            _assert_unavailable(_send_batch(server, api_key, refused.pk))
            for step in range(ROWS):
                run.log({"loss": float(step)})
            wait_for(lambda: access_log.read_text().count(LOCKED_LOG) >= 2, "a client 503")
        _assert_landed_once(run, refused.pk)


def test_it_answers_503_while_postgres_refuses(
    api_key: str, user: Any, project: Project, tmp_path: Path, client_for: Any
) -> None:
    if _is_sqlite():
        pytest.skip("PostgreSQL behind a forwarder; SQLite has the write-lock test")
    db = connection.settings_dict
    access_log = tmp_path / "access.log"
    refused = Run.objects.create(project=project, name="refused")
    browser = Client()
    browser.force_login(user)
    cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}
    with Forwarder((db["HOST"], int(db["PORT"]))) as forwarder:
        url = shared_database_url().replace(f":{db['PORT']}/", f":{forwarder.port}/")
        env = {"ACCESS_LOG": str(access_log)}
        with Server(tmp_path / "server.log", env, database_url=url) as server:
            client_for(server)
            run = st.init(project="demo")
            forwarder.refuse()
            _assert_unavailable(_send_batch(server, api_key, refused.pk))
            page = requests.get(f"{server.url}/", cookies=cookies, timeout=30)
            assert page.status_code == 503
            assert "Unavailable for a moment" in page.text
            assert "Traceback" not in page.text
            for step in range(ROWS):
                run.log({"loss": float(step)})
            wait_for(lambda: access_log.read_text().count(LOCKED_LOG) >= 2, "a client 503")
            forwarder.allow()
            _assert_landed_once(run, refused.pk)
