"""A run killed with SIGKILL and resumed with id + resume="must", as after a preemption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sweeptracker_client as wandb
from sweeptracker_client import SweepTrackerError

from projects.models import Project
from runs.models import MetricPoint
from runs.models import Run as RunRow
from tests.client.polling import wait_until
from tests.client.scripts import printed, run_script

# A training script as W&B's resume docs write it: the id is fixed by the job, so a
# restarted job continues the same run; it picks up at the step the run reached.
SCRIPT = """
    import json
    import sys
    import threading

    import sweeptracker_client as wandb

    RESUME = sys.argv[1]
    EPOCHS = 20
    run = wandb.init(project="demo", id="job-1234", resume=RESUME, config={"lr": 0.1})
    print("RESULT " + json.dumps({
        "step": run.step, "starting_step": run.starting_step, "resumed": run.resumed,
        "config": dict(run.config), "summary": dict(run.summary),
    }), flush=True)
    stop_at = int(sys.argv[2])
    for epoch in range(run.step, EPOCHS):
        if epoch == stop_at:
            threading.Event().wait()  # preempted here: the test kills the process
        wandb.log({"epoch": epoch, "loss": 1 / (epoch + 1)})
    wandb.finish()
"""


def test_a_killed_run_resumes_where_it_stopped(client_env: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    first = subprocess.Popen(
        [sys.executable, str(script), "allow", "7"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (
                MetricPoint.objects.filter(run__explicit_id="job-1234", key="epoch").count() == 7
            ),
            "the first 7 epochs are on the server",
        )
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    assert RunRow.objects.get(explicit_id="job-1234").state == "running"

    done = subprocess.run(
        [sys.executable, str(script), "must", "-1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    seen = printed(done)
    assert (seen["step"], seen["resumed"], seen["config"]) == (7, True, {"lr": 0.1})
    assert seen["starting_step"] == 7
    assert seen["summary"]["epoch"] == 6
    row = RunRow.objects.get(explicit_id="job-1234")
    assert (row.state, row.exit_code) == ("finished", 0)
    for key in ("epoch", "loss"):
        steps = list(MetricPoint.objects.filter(run=row, key=key).values_list("step", flat=True))
        assert sorted(steps) == list(range(20))
    epochs = dict(MetricPoint.objects.filter(run=row, key="epoch").values_list("step", "value"))
    assert all(epochs[step] == step for step in range(20))
    assert row.summary["epoch"] == 19


def test_resume_must_and_never_answer_as_wandb(
    client_env: str, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SweepTrackerError, match="must.*'nope'"):
        wandb.init(id="nope", resume="must")
    assert not RunRow.objects.exists()

    run = wandb.init(id="taken")
    run.finish()
    with pytest.raises(SweepTrackerError, match="'taken'"):
        wandb.init(id="taken", resume="never")
    with pytest.raises(SweepTrackerError, match="'taken'.*resume='allow'"):
        wandb.init(id="taken")
    with pytest.raises(SweepTrackerError, match="needs the id"):
        wandb.init(resume="must")
    assert RunRow.objects.count() == 1
    # The same through W&B's environment variables.
    monkeypatch.setenv("WANDB_RUN_ID", "taken")
    monkeypatch.setenv("WANDB_RESUME", "must")
    resumed = wandb.init()
    assert (resumed.id, resumed.resumed) == ("taken", True)
    resumed.finish()
    monkeypatch.setenv("WANDB_RESUME", "never")
    with pytest.raises(SweepTrackerError, match="'taken'"):
        wandb.init()
    assert RunRow.objects.count() == 1


def test_resume_true_continues_the_run_a_crash_left(client_env: str, tmp_path: Path) -> None:
    crash = """
        import sweeptracker_client as wandb

        run = wandb.init(project="demo", resume=True)
        print("RESULT " + '{"id": "%s", "step": %d}' % (run.id, run.step), flush=True)
        wandb.log({"loss": 1.0})
        1 / 0
    """
    first = printed(run_script(crash, tmp_path))
    second = printed(run_script(crash.replace("1 / 0", ""), tmp_path))
    third = printed(run_script(crash, tmp_path))

    assert second == {"id": first["id"], "step": 1}
    assert third["id"] != first["id"] and third["step"] == 0
    row = RunRow.objects.get(pk=int(first["id"]))
    assert list(row.points.values_list("step", flat=True).order_by("step")) == [0, 1]
