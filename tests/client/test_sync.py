"""A run that ends while the server is away leaves a spool file; `sweeptracker sync` uploads it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sweeptracker_client as st
from sweeptracker_client import cli

from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.conftest import RestartableServer
from tests.client.polling import wait_until


def test_it_spools_at_finish_and_sync_uploads_every_point_once(
    restartable_env: RestartableServer,
    client_home: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = st.init()
    for step in range(100):
        run.log({"loss": step, "acc": -step})
    wait_until(lambda: MetricPoint.objects.filter(run_id=run.id).exists(), "some rows arrive")

    restartable_env.stop()
    for step in range(100, 3000):
        run.log({"loss": step, "acc": -step})
    run.summary["best"] = 42
    started = time.monotonic()
    run.finish(exit_code=0, timeout=1)
    assert time.monotonic() - started < 6

    spool = client_home / "spool" / f"{run.id}.jsonl"
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert lines[0]["run_id"] == run.id and lines[0]["base_url"] == restartable_env.url
    assert lines[-1] == {"finish": {"exit_code": 0}}
    assert "sweeptracker sync" in caplog.text

    restartable_env.start()
    assert cli.main(["sync"]) == 0
    assert f"Synced run {run.id}" in capsys.readouterr().out
    assert not spool.exists()
    points = MetricPoint.objects.filter(run_id=run.id)
    assert points.count() == 6000
    assert sorted(points.filter(key="acc").values_list("step", flat=True)) == list(range(3000))
    row = RunRow.objects.get(pk=run.id)
    assert (row.state, row.exit_code, row.summary["best"]) == ("finished", 0, 42)

    assert cli.main(["sync"]) == 0
    assert "Nothing to sync" in capsys.readouterr().out


def test_it_keeps_the_file_when_the_server_is_still_away(
    restartable_env: RestartableServer, client_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = st.init()
    restartable_env.stop()
    run.log({"loss": 1.0})
    run.finish(timeout=0.5)
    spool = client_home / "spool" / f"{run.id}.jsonl"

    assert cli.main(["sync", "--dir", str(spool.parent)]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the server at {restartable_env.url}" in err
    assert "Traceback" not in err
    assert spool.exists()

    restartable_env.start()
    assert cli.main(["sync", "--dir", str(spool.parent)]) == 0
    assert RunRow.objects.get(pk=run.id).state == "finished"


def test_it_leaves_the_spool_of_a_running_run_alone(
    restartable_env: RestartableServer,
    client_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWEEPTRACKER_SPOOL_AFTER", "0")
    run = st.init()
    spool = client_home / "spool" / f"{run.id}.jsonl"
    restartable_env.stop()
    run.log({"loss": 1.0})
    wait_until(spool.exists, "the row goes to the spool file")

    assert cli.main(["sync"]) == 1
    assert "still running" in capsys.readouterr().err
    assert spool.exists()

    restartable_env.start()
    run.finish()
    assert not spool.exists()
    assert MetricPoint.objects.filter(run_id=run.id).count() == 1
