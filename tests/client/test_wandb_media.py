"""Objects the server does not keep: scripts finish, what fits is kept, each warns once."""

from __future__ import annotations

from pathlib import Path

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepTrackerError, media

from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.scripts import printed, run_script

# The W&B docs' patterns: log images and a table of predictions, watch the model.
SCRIPT = """
    import json
    import random

    import sweeptracker_client as wandb

    class Model:
        def parameters(self):
            return []

    run = wandb.init(project="demo", config={"epochs": 3})
    model = Model()
    wandb.watch(model, log="all", log_freq=10)
    table = wandb.Table(columns=["id", "prediction", "truth"])
    for epoch in range(3):
        images = [wandb.Image([[0, 1], [1, 0]], caption=f"sample {i}") for i in range(4)]
        wandb.log({
            "examples": images,
            "loss": 1 / (epoch + 1),
            "weights": wandb.Histogram([random.gauss(0, 1) for _ in range(100)], num_bins=8),
        })
        table.add_data(epoch, random.randint(0, 9), epoch % 10)
    wandb.log({"predictions": table})
    wandb.watch(model)
    print("RESULT " + json.dumps({"id": run.id}))
    wandb.finish()
"""


def test_a_script_with_images_a_table_and_watch_finishes(client_env: str, tmp_path: Path) -> None:
    done = run_script(SCRIPT, tmp_path)

    assert done.returncode == 0, done.stderr
    for kind in ("wandb.Image", "wandb.Table", "wandb.watch()", "wandb.Histogram"):
        assert done.stderr.count(f"SweepTracker: {kind}:") == 1, done.stderr
    row = RunRow.objects.get(pk=int(printed(done)["id"]))
    assert row.state == "finished"
    assert MetricPoint.objects.filter(run=row, key="loss").count() == 3
    assert not MetricPoint.objects.filter(run=row).exclude(key="loss").exists()
    assert "examples" not in row.summary
    assert row.summary["predictions"]["columns"] == ["id", "prediction", "truth"]
    assert [r[0] for r in row.summary["predictions"]["data"]] == [0, 1, 2]
    weights = row.summary["weights"]
    assert weights["_type"] == "histogram" and weights["count"] == 100
    assert len(weights["values"]) == 8 and sum(weights["values"]) == 100
    assert weights["min"] == weights["bins"][0] and weights["max"] == weights["bins"][-1]


def test_artifacts_files_and_alerts_are_accepted(
    client_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "_warned", set())
    run = wandb.init()
    with pytest.warns(wandb.NotKeptWarning) as warned:
        artifact = wandb.Artifact("model", type="model", metadata={"acc": 0.9})
        weights = tmp_path / "model.pt"
        weights.write_bytes(b"\0")
        artifact.add_file(str(weights))
        with artifact.new_file("notes.txt") as file:
            file.write("trained")
        run.log_artifact(artifact)
        used = run.use_artifact("dataset:latest")
        wandb.save(str(weights))
        wandb.save("*.pt")
        run.alert(title="done", text="training finished")
        run.log_code(".")
    kinds = [str(w.message).split(":")[1].strip() for w in warned]
    assert kinds == ["wandb.Artifact", "wandb.save()", "wandb.alert()", "wandb.log_code()"]
    assert artifact.files == ["model.pt", "notes.txt"]
    with pytest.raises(SweepTrackerError, match="does not store artifacts"):
        used.download()
    run.log({"loss": 0.5})
    run.finish()
    assert RunRow.objects.get(pk=run.pk).summary == {"loss": 0.5}


def test_a_big_table_keeps_its_first_rows(client_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "_warned", {"Table"})
    run = wandb.init()
    rows = [[i, f"row {i}"] for i in range(media.MAX_TABLE_ROWS + 5)]
    run.log({"big": wandb.Table(columns=["i", "text"], data=rows)})
    run.finish()

    big = RunRow.objects.get(pk=run.pk).summary["big"]
    assert (big["nrows"], len(big["data"]), big["truncated"]) == (1005, 1000, True)
