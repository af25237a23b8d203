"""The background thread: heartbeats, stop requests, batches the server refuses."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

import pytest
import sweeptracker_client as st
from django.utils import timezone
from sweeptracker_client.sender import MAX_POINTS, MAX_ROWS, take_batch

from projects.models import Membership
from runs.lifecycle import finish_run
from runs.models import Run as RunRow
from tests.client.polling import wait_until


def test_it_sends_heartbeats(client_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEPTRACKER_HEARTBEAT_INTERVAL", "0.2")
    run = st.init()
    started = timezone.now()

    wait_until(lambda: RunRow.objects.get(pk=run.id).heartbeat_at > started, "a heartbeat arrives")
    run.finish()


def test_it_sets_should_stop_from_the_server(
    client_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEPTRACKER_HEARTBEAT_INTERVAL", "0.2")
    run = st.init()
    run.log({"loss": 1.0})
    assert not run.should_stop

    finish_run(RunRow.objects.get(pk=run.id), state="killed")
    wait_until(lambda: run.should_stop, "the run is told to stop")
    run.finish()


def test_it_drops_what_the_server_refuses_with_one_warning(
    client_env: str, client_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = st.init()
    # No longer a member: every request about the run now gets 404, which no retry can fix.
    Membership.objects.filter(user__username="alice").delete()
    with caplog.at_level(logging.WARNING, logger="sweeptracker_client"):
        for step in range(3):
            run.log({"loss": step})
            run.config.update({"step": step}, allow_val_change=True)
        run.finish(timeout=5)

    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped and len(dropped) == len(set(dropped))
    assert "404" in dropped[0]
    assert not (client_home / "spool").exists()


def test_it_splits_batches_at_the_limits() -> None:
    rows = deque({"step": s, "time": 0.0, "values": {"a": 1.0}} for s in range(MAX_ROWS + 5))
    assert len(take_batch(rows)) == MAX_ROWS
    assert len(take_batch(rows)) == 5

    wide = {f"k{i}": 1.0 for i in range(MAX_POINTS + 10)}
    rows = deque([{"step": 0, "time": 0.0, "values": wide}])
    first, second = take_batch(rows), take_batch(rows)
    assert len(first[0]["values"]) <= MAX_POINTS
    assert {**first[0]["values"], **second[0]["values"]} == wide
    assert not rows
