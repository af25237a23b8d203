"""The server going away mid-run: log() goes on, and no point is lost or stored twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sweeptracker_client as st

from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.conftest import RestartableServer
from tests.client.polling import wait_until

KEYS = ("loss", "acc")


def _log(run: st.Run, steps: range) -> None:
    for step in steps:
        run.log({"loss": 1 / (step + 1), "acc": step})


def _stored(run: st.Run) -> int:
    return MetricPoint.objects.filter(run_id=run.id).count()


def _assert_every_point_once(run: st.Run, rows: int) -> None:
    points = MetricPoint.objects.filter(run_id=run.id)
    assert points.count() == rows * len(KEYS)
    assert sorted(points.filter(key="acc").values_list("step", flat=True)) == list(range(rows))


def test_it_retries_through_a_short_outage(restartable_env: RestartableServer) -> None:
    run = st.init()
    _log(run, range(0, 500))
    wait_until(lambda: _stored(run) == 1000, "the first rows arrive")

    restartable_env.stop()
    _log(run, range(500, 1000))
    # Private, but the only sign that the sender met the outage rather than missed it.
    wait_until(lambda: run._sender._down_since is not None, "a send fails")
    restartable_env.start()
    _log(run, range(1000, 1500))
    run.finish()

    _assert_every_point_once(run, 1500)
    assert RunRow.objects.get(pk=run.id).state == "finished"


def test_it_spools_through_a_long_outage_and_uploads_the_spool_first(
    restartable_env: RestartableServer, client_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEPTRACKER_SPOOL_AFTER", "0.5")
    run = st.init()
    spool = client_home / "spool" / f"{run.id}.jsonl"
    _log(run, range(0, 300))
    wait_until(lambda: _stored(run) == 600, "the first rows arrive")

    restartable_env.stop()
    _log(run, range(300, 600))
    run.summary["best"] = 1.5
    wait_until(spool.exists, "the rows go to the spool file")
    _log(run, range(600, 900))
    restartable_env.start()
    wait_until(lambda: not spool.exists(), "the spool is uploaded and removed")
    _log(run, range(900, 1200))
    run.finish()

    _assert_every_point_once(run, 1200)
    row = RunRow.objects.get(pk=run.id)
    assert row.state == "finished"
    assert row.summary["best"] == 1.5
    assert row.summary["acc"] == 1199
