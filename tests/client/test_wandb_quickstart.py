"""W&B's quickstart and everyday run calls, only the import changed, checked on the server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepTrackerError

from projects.models import Project
from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.scripts import printed, run_script

QUICKSTART = """
    import json
    import os
    import random

    import sweeptracker_client as wandb

    wandb.login()

    epochs = 10
    lr = 0.01

    run = wandb.init(
        project="my-awesome-project",
        config={
            "learning_rate": lr,
            "epochs": epochs,
        },
    )

    offset = random.random() / 5
    print(f"lr: {lr}")

    for epoch in range(2, epochs):
        acc = 1 - 2**-epoch - random.random() / epoch - offset
        loss = 2**-epoch + random.random() / epoch + offset
        print(f"epoch={epoch}, accuracy={acc}, loss={loss}")
        wandb.log({"accuracy": acc, "loss": loss})

    checkpoint = os.path.join("ckpt", wandb.run.id)
    print("RESULT " + json.dumps({
        "id": run.id, "path": run.path, "url": run.url, "project": run.project,
        "entity": run.entity, "checkpoint": checkpoint, "lr": wandb.config.learning_rate,
    }))
    wandb.finish()
"""


def test_the_quickstart_runs_unchanged(client_env: str, tmp_path: Path) -> None:
    done = run_script(QUICKSTART, tmp_path)

    assert done.returncode == 0, done.stderr
    seen = printed(done)
    row = RunRow.objects.get(project__slug="my-awesome-project")
    assert (row.state, row.exit_code) == ("finished", 0)
    assert row.config == {"learning_rate": 0.01, "epochs": 10}
    assert seen["id"] == row.wire_id == str(row.pk)
    assert seen["path"] == f"alice/my-awesome-project/{row.wire_id}"
    assert seen["url"] == f"{client_env}/p/my-awesome-project/runs/{row.wire_id}/"
    assert (seen["project"], seen["entity"]) == ("my-awesome-project", "alice")
    assert seen["checkpoint"] == f"ckpt/{row.wire_id}"
    assert seen["lr"] == 0.01
    for key in ("accuracy", "loss"):
        points = MetricPoint.objects.filter(run=row, key=key).order_by("step")
        assert [p.step for p in points] == list(range(8))
        assert row.summary[key] == points.last().value  # type: ignore[union-attr]


def test_the_run_object_is_wandbs(client_env: str, tmp_path: Path) -> None:
    run = wandb.init(project="demo", name="first", notes="n1", tags=["a"], dir=tmp_path)
    assert isinstance(run.id, str) and run.sweep_id is None
    assert (run.group, run.job_type, run.resumed, run.offline, run.disabled) == (
        "",
        "",
        False,
        False,
        False,
    )
    assert Path(run.dir).is_dir() and Path(run.dir).is_relative_to(tmp_path / "wandb")
    assert Path(run.dir).parent.name.endswith(f"-{run.id}")
    assert abs(run.start_time - RunRow.objects.get(pk=run.pk).created_at.timestamp()) < 60
    run.name = "renamed"
    run.tags += ("b",)
    run.notes = "n2"
    run.summary.update({"best": 0.5})
    run.finish(exit_code=3, quiet=True)

    row = RunRow.objects.get(pk=run.pk)
    assert (row.name, row.notes, sorted(row.tag_names)) == ("renamed", "n2", ["a", "b"])
    assert (row.state, row.exit_code, row.summary["best"]) == ("failed", 3, 0.5)
    assert run.name == "renamed" and run.tags == ("a", "b")


def test_log_follows_wandbs_rules(client_env: str, caplog: pytest.LogCaptureFixture) -> None:
    np = pytest.importorskip("numpy")
    run = wandb.init()
    run.log({"val": {"loss": 0.5, "acc": {"top1": 0.25}}, "epoch": 1, "ok": True})
    run.log({"np_f": np.float32(0.5), "np_i": np.int64(7), "note": "warm-up"})
    run.log({"epoch": 3}, step=5)
    run.log({"epoch": 2}, step=4)  # lower than the current step: dropped with a warning
    run.log({"loss": 1.0}, commit=False)
    run.log({"acc": 0.5})  # joins step 5 and commits it
    run.finish()

    assert "step 4 is lower than the current step 5" in caplog.text
    row = RunRow.objects.get(pk=run.pk)
    points = {(p.key, p.step): p.value for p in MetricPoint.objects.filter(run=row)}
    assert points == {
        ("val/loss", 0): 0.5,
        ("val/acc/top1", 0): 0.25,
        ("epoch", 0): 1.0,
        ("ok", 0): 1.0,
        ("np_f", 1): 0.5,
        ("np_i", 1): 7.0,
        ("epoch", 5): 3.0,
        ("loss", 5): 1.0,
        ("acc", 5): 0.5,
    }
    assert {"epoch", "np_i"} <= set(row.int_keys)
    assert "val/loss" not in row.int_keys
    assert (row.summary["note"], row.summary["epoch"], row.summary["val/acc/top1"]) == (
        "warm-up",
        3,
        0.25,
    )


def test_config_follows_wandbs_rules(client_env: str, tmp_path: Path) -> None:
    defaults = tmp_path / "config-defaults.yaml"
    defaults.write_text("wandb_version: 1\nepochs:\n  value: 5\nbatch: 32\nseed: 1\n")
    run = wandb.init(config=str(defaults), config_exclude_keys=["seed"])
    assert dict(run.config) == {"epochs": 5, "batch": 32}
    with pytest.raises(wandb.ConfigError, match='change value of key "epochs"'):
        run.config.update({"epochs": 6})
    with pytest.raises(wandb.ConfigError):
        run.config.epochs = 7
    run.config.update({"epochs": 8, "lr": 0.1}, allow_val_change=True)
    run.config.setdefaults({"lr": 0.5, "dropout": 0.2})
    run.config.epochs = 8  # the same value again is no change
    run.finish()

    assert RunRow.objects.get(pk=run.pk).config == {
        "epochs": 8,
        "batch": 32,
        "lr": 0.1,
        "dropout": 0.2,
    }
    second = wandb.init(
        config={"a": 1, "b": 2, "c": 3}, config_include_keys=["a", "b"], allow_val_change=True
    )
    second.config.a = 10
    second.finish()
    assert RunRow.objects.get(pk=second.pk).config == {"a": 10, "b": 2}


def test_init_falls_back_on_wandbs_environment(
    client_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "from-env")
    monkeypatch.setenv("WANDB_NAME", "env-name")
    monkeypatch.setenv("WANDB_NOTES", "env notes")
    monkeypatch.setenv("WANDB_TAGS", "x,y")
    monkeypatch.setenv("WANDB_RUN_GROUP", "env-group")
    monkeypatch.setenv("WANDB_JOB_TYPE", "env-job")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "env-dir"))
    monkeypatch.setenv("WANDB_RUN_ID", "env-run-1")
    # A W&B key and host must never be used, nor get in the way.
    monkeypatch.setenv("WANDB_API_KEY", "a-wandb-key")
    monkeypatch.setenv("WANDB_BASE_URL", "http://localhost:1")

    run = wandb.init()
    run.finish()

    row = RunRow.objects.get(explicit_id="env-run-1")
    assert (row.project.slug, row.name, row.notes, sorted(row.tag_names)) == (
        "from-env",
        "env-name",
        "env notes",
        ["x", "y"],
    )
    assert (row.group, row.job_type) == ("env-group", "env-job")
    assert Path(run.dir).is_relative_to(tmp_path / "env-dir" / "wandb")


def test_it_never_reads_wandbs_key(client_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "a-wandb-key")
    monkeypatch.setenv("WANDB_BASE_URL", "http://localhost:1")
    with pytest.raises(SweepTrackerError, match="No SweepTracker base_url is set"):
        wandb.init(project="demo")


def test_entity_is_the_project_owner(client_env: str, project: Project) -> None:
    run = wandb.init(entity="alice", project="demo")
    assert run.entity == "alice" and run.path == f"alice/demo/{run.id}"
    run.finish()

    with pytest.raises(SweepTrackerError, match="entity='my-team'.*owner.*'alice'"):
        wandb.init(entity="my-team", project="demo")
    assert RunRow.objects.count() == 1


def test_reinit_finishes_returns_or_keeps_the_current_run(client_env: str) -> None:
    first = wandb.init()
    assert wandb.init(reinit="return_previous") is first
    second = wandb.init(reinit=True)
    assert RunRow.objects.get(pk=first.pk).state == "finished"
    third = wandb.init(reinit="create_new")
    assert wandb.run is second and RunRow.objects.get(pk=second.pk).state == "running"
    third.finish()
    wandb.finish()
    assert RunRow.objects.get(pk=second.pk).state == "finished"


def test_login_writes_the_settings_as_the_cli_does(
    live_url: str, api_key: str, client_home: Path
) -> None:
    assert wandb.login(key=api_key, host=live_url)

    saved = json.loads((client_home / "settings.json").read_text())
    assert saved == {"base_url": live_url, "api_key": api_key}
    assert wandb.login()
    assert oct(os.stat(client_home / "settings.json").st_mode & 0o777) == "0o600"
    with pytest.raises(SweepTrackerError, match="refused the API key"):
        wandb.login(key="wrong", host=live_url)
    (client_home / "settings.json").unlink()
    with pytest.raises(SweepTrackerError, match="No SweepTracker base_url"):
        wandb.login()


def test_inside_an_agent_init_joins_the_sweeps_run(client_env: str, project: Project) -> None:
    seen: list[tuple[str, str | None, float]] = []

    def train() -> None:
        with wandb.init(config={"lr": 1.0, "epochs": 2}) as run:
            seen.append((run.id, run.sweep_id, run.config.lr))
            run.log({"loss": 0.5})

    sweep_id = wandb.sweep(
        {
            "method": "random",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"lr": {"values": [0.1, 0.2]}},
        },
        project="demo",
    )
    wandb.agent(sweep_id, function=train, count=1)

    ((run_id, run_sweep, lr),) = seen
    row = RunRow.objects.get(pk=int(run_id))
    assert (run_sweep, row.trial.sweep_id, row.config["lr"], lr) == (sweep_id, sweep_id, lr, lr)
    assert lr in (0.1, 0.2) and row.config["epochs"] == 2
