"""group and job_type as W&B's docs use them (cross-validation folds, then an evaluation)."""

from __future__ import annotations

from pathlib import Path

from runs.models import Run as RunRow
from tests.client.scripts import run_script

# W&B's "Group runs" pattern: one run per fold, in one group, then an evaluation run.
SCRIPT = """
    import sweeptracker_client as wandb

    for fold in range(3):
        run = wandb.init(
            project="cross-val",
            group="experiment-1",
            job_type="train",
            name=f"fold-{fold}",
            config={"fold": fold},
            reinit=True,
        )
        for epoch in range(3):
            run.log({"loss": 1 / (epoch + 1 + fold)})
        run.finish()

    with wandb.init(project="cross-val", group="experiment-1", job_type="eval") as run:
        assert (run.group, run.job_type) == ("experiment-1", "eval")
        run.log({"accuracy": 0.9})
"""


def test_runs_are_stored_with_their_group_and_job_type(client_env: str, tmp_path: Path) -> None:
    done = run_script(SCRIPT, tmp_path)

    assert done.returncode == 0, done.stderr
    rows = RunRow.objects.filter(project__slug="cross-val").order_by("pk")
    assert [(r.name, r.group, r.job_type, r.state) for r in rows][:3] == [
        (f"fold-{fold}", "experiment-1", "train", "finished") for fold in range(3)
    ]
    assert (rows[3].group, rows[3].job_type, rows[3].state) == ("experiment-1", "eval", "finished")
    assert [r.points.count() for r in rows] == [3, 3, 3, 1]


def test_the_group_comes_from_wandbs_environment_too(client_env: str, tmp_path: Path) -> None:
    done = run_script(
        """
        import sweeptracker_client as wandb

        wandb.init(project="demo")
        wandb.log({"loss": 1.0})
        """,
        tmp_path,
        env={"WANDB_RUN_GROUP": "ddp-7", "WANDB_JOB_TYPE": "worker"},
    )

    assert done.returncode == 0, done.stderr
    row = RunRow.objects.get(project__slug="demo")
    assert (row.group, row.job_type, row.state) == ("ddp-7", "worker", "finished")
