"""mode="offline": the whole run stays on disk until `sweeptracker sync` uploads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.scripts import printed, run_script

SCRIPT = """
    import json

    import sweeptracker_client as wandb

    run = wandb.init(project="air-gapped", mode="offline", config={"lr": 0.01}, group="g1")
    wandb.define_metric("loss", summary="min")
    for epoch in range(5):
        wandb.log({"epoch": epoch, "loss": 1 / (epoch + 1)})
    wandb.config.update({"batch": 64})
    run.summary["note"] = "made offline"
    print("RESULT " + json.dumps({"id": run.id, "offline": run.offline, "path": run.path}))
    wandb.finish()
"""


def sync() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweeptracker_client", "sync"],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("how", ["argument", "WANDB_MODE"])
def test_an_offline_run_is_uploaded_by_sync_with_its_id(
    client_env: str, client_home: Path, tmp_path: Path, how: str
) -> None:
    source = SCRIPT if how == "argument" else SCRIPT.replace(', mode="offline"', "")
    done = run_script(source, tmp_path, env={"WANDB_MODE": "offline"} if how != "argument" else {})

    assert done.returncode == 0, done.stderr
    seen = printed(done)
    assert seen["offline"] is True and not seen["id"].isdigit()
    assert not RunRow.objects.exists()
    assert (client_home / "spool" / f"{seen['id']}.jsonl").exists()

    synced = sync()

    assert synced.returncode == 0, synced.stderr
    assert f"Synced run {seen['id']} of air-gapped" in synced.stdout
    row = RunRow.objects.get(explicit_id=seen["id"])
    assert (row.project.slug, row.group, row.state, row.exit_code) == (
        "air-gapped",
        "g1",
        "finished",
        0,
    )
    assert row.config == {"lr": 0.01, "batch": 64}
    assert row.summary["loss"] == {"min": 0.2} and row.summary["note"] == "made offline"
    assert row.metric_definitions["loss"]["summary"] == "min"
    steps = MetricPoint.objects.filter(run=row, key="epoch").values_list("step", "value")
    assert sorted(steps) == [(step, float(step)) for step in range(5)]
    assert seen["path"] == f"air-gapped/{seen['id']}"
    assert not (client_home / "spool").exists() or not list((client_home / "spool").iterdir())

    again = sync()
    assert again.returncode == 0 and "Nothing to sync" in again.stdout
