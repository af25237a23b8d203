"""mode="disabled": every call works and nothing is sent, as in W&B (tests, dry runs)."""

from __future__ import annotations

from pathlib import Path

from runs.models import Run as RunRow
from tests.client.scripts import printed, run_script

SCRIPT = """
    import json

    import sweeptracker_client as wandb

    run = wandb.init(project="demo", mode="disabled", config={"lr": 0.1}, tags=["t"])
    wandb.define_metric("loss", summary="min")
    for step in range(3):
        wandb.log({"loss": 1.0 / (step + 1), "nested": {"a": step}, "text": "x"})
    wandb.config.update({"batch": 8})
    run.summary.update({"best": 1})
    run.name = "renamed"
    wandb.watch(None)
    print("RESULT " + json.dumps({
        "id": run.id, "disabled": run.disabled, "lr": wandb.config.lr, "step": run.step,
        "summary": dict(run.summary), "name": run.name, "url": run.url,
    }))
    run.finish()
"""


def test_a_disabled_run_sends_nothing(client_env: str, client_home: Path, tmp_path: Path) -> None:
    # A server that cannot be reached: any request would fail (and be retried, spooled).
    done = run_script(
        SCRIPT, tmp_path, env={"SWEEPTRACKER_BASE_URL": "http://localhost:1", "WANDB_DIR": ""}
    )

    assert done.returncode == 0, done.stderr
    seen = printed(done)
    assert seen["disabled"] is True and isinstance(seen["id"], str)
    assert (seen["lr"], seen["step"], seen["name"], seen["url"]) == (0.1, 3, "renamed", None)
    assert seen["summary"]["loss"] == {"min": 1 / 3} and seen["summary"]["nested/a"] == 2
    assert not RunRow.objects.exists()
    assert not (client_home / "spool").exists()


def test_it_needs_no_settings_at_all(client_home: Path, tmp_path: Path) -> None:
    done = run_script(SCRIPT, tmp_path, env={"WANDB_MODE": "disabled"})

    assert done.returncode == 0, done.stderr
    assert printed(done)["disabled"] is True
