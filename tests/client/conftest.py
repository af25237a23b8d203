"""Fixtures of the client tests: a clean client setup, and a server that can be
stopped and started again on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from pytest_django.live_server_helper import LiveServer
from sweeptracker_client import assignment, live_run

SETTINGS_ENV = ["SWEEPTRACKER_BASE_URL", "SWEEPTRACKER_API_KEY", "SWEEPTRACKER_PROJECT"]
# W&B's variables init() falls back on: a developer's own must not leak into a test.
WANDB_ENV = [
    "WANDB_PROJECT",
    "WANDB_NAME",
    "WANDB_NOTES",
    "WANDB_TAGS",
    "WANDB_RUN_GROUP",
    "WANDB_JOB_TYPE",
    "WANDB_MODE",
    "WANDB_RUN_ID",
    "WANDB_RESUME",
    "WANDB_DIR",
]


@pytest.fixture(autouse=True)
def client_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No settings but the test's own, files in tmp_path, and short waits."""
    for name in [*SETTINGS_ENV, *WANDB_ENV]:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "sweeptracker"
    monkeypatch.setenv("SWEEPTRACKER_DIR", str(home))
    monkeypatch.setenv("SWEEPTRACKER_FINISH_TIMEOUT", "20")
    monkeypatch.setenv("SWEEPTRACKER_SPOOL_AFTER", "30")
    monkeypatch.setenv("SWEEPTRACKER_HEARTBEAT_INTERVAL", "30")
    # Agents ask again and watch their commands often, so that tests wait little.
    monkeypatch.setenv("SWEEPTRACKER_AGENT_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("SWEEPTRACKER_AGENT_HEARTBEAT_INTERVAL", "0.1")
    monkeypatch.setenv("SWEEPTRACKER_AGENT_KILL_DELAY", "5")
    yield home
    # A test that failed halfway must not leave a sender thread running into the next one.
    for run in list(live_run._unfinished):
        run.finish(exit_code=1, timeout=0)
    # Nor a sweep run offered to init() (by an agent or a SweepController) into the next.
    assignment.withdraw()


class RestartableWSGIServer(ThreadedWSGIServer):
    """A live server whose stop is a real outage, and which can start again on its port.

    Django's keeps serving open keep-alive connections after shutdown and does
    not set SO_REUSEADDR; this one cuts its connections and reuses the port.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_reuse_address"] = True
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            for connection in self._connections:
                # Already closed by the client: nothing left to cut.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class RestartableServer:
    """A LiveServer on a fixed port that tests stop and start at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://localhost:{port}"
        self._server: LiveServer | None = None

    def start(self) -> None:
        self._server = LiveServer(f"localhost:{self.port}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def restartable_server(
    transactional_db: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RestartableServer]:
    """A running server the test may stop and start again; stopped at the end."""
    monkeypatch.setattr(LiveServerThread, "server_class", RestartableWSGIServer)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    server = RestartableServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def restartable_env(
    restartable_server: RestartableServer, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> RestartableServer:
    """The client pointed at the restartable server as alice, in project "demo"."""
    monkeypatch.setenv("SWEEPTRACKER_BASE_URL", restartable_server.url)
    monkeypatch.setenv("SWEEPTRACKER_API_KEY", api_key)
    monkeypatch.setenv("SWEEPTRACKER_PROJECT", "demo")
    return restartable_server
