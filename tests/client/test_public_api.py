"""W&B's public Api: an analysis notebook written as W&B's docs write it, import changed only,
reading back a sweep that real agents ran, checked against what the server stored."""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd
import pytest
import sweeptracker_client as wandb
from sweeptracker_client import public

from projects.models import Project
from runs.models import Run as RunRow
from sweeps.models import Trial

LRS = [0.001, 0.005, 0.02, 0.05, 0.1]
SWEEP: dict[str, Any] = {
    "method": "grid",
    "name": "lr-grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": LRS}, "epochs": {"value": 4}},
}


def train() -> None:
    run = wandb.init()
    for epoch in range(run.config.epochs):
        wandb.log({"loss": run.config.lr * 10 / (epoch + 1), "epoch": epoch})
    run.finish()


@pytest.fixture
def sweep_id(client_env: str, project: Project) -> str:
    """A grid sweep over five learning rates, run to the end by an agent."""
    sweep_id = wandb.sweep(SWEEP, project="demo")
    report = wandb.agent(sweep_id, function=train)
    assert [t.state for t in report.trials] == ["complete"] * len(LRS)
    return sweep_id


def test_it_reads_a_sweep_back_as_wandb_docs_do(sweep_id: str) -> None:
    # The analysis script, as W&B's docs write it.
    api = wandb.Api()
    sweep = api.sweep(f"demo/{sweep_id}")
    runs = sweep.runs
    best = sweep.best_run()
    fast = api.runs("alice/demo", filters={"config.lr": {"$gt": 0.01}, "state": "finished"})
    frame = best.history()

    rows = RunRow.objects.filter(trial__sweep_id=sweep_id).order_by("created_at", "pk")
    assert (sweep.id, sweep.name, sweep.state, sweep.project) == (
        sweep_id,
        "lr-grid",
        "finished",
        "demo",
    )
    assert (sweep.entity, sweep.path) == ("alice", ["alice", "demo", sweep_id])
    assert sweep.config == SWEEP
    assert sweep.url.endswith(f"/sweeps/{sweep_id}/")
    assert sweep.expected_run_count == len(LRS)
    assert sweep.load(force=True).state == "finished"
    assert len(runs) == len(LRS)
    assert [r.id for r in runs] == [str(row.pk) for row in rows]
    assert [r.config["lr"] for r in runs] == [row.config["lr"] for row in rows]

    best_row = Trial.objects.get(sweep_id=sweep_id, is_best=True).run
    assert best is not None and best.id == str(best_row.pk)  # type: ignore[union-attr]
    assert best.config["lr"] == min(LRS)
    assert best.summary["loss"] == pytest.approx(min(LRS) * 10 / 4)
    assert best.summary_metrics == best.summary
    assert best.sweep is not None and best.sweep.id == sweep_id == best.sweep_name
    assert (best.state, best.project, best.entity) == ("finished", "demo", "alice")
    assert best.path == ["alice", "demo", best.id]
    assert f"/p/demo/runs/{best.id}/" in best.url
    assert isinstance(best.created_at, str)
    # The sweep's own trial data stays: the best trial and every trial.
    assert sweep.best_trial.run_id == best_row.pk  # type: ignore[union-attr]
    assert len(sweep.trials) == len(LRS)

    expected = {
        str(row.pk)
        for row in rows
        if row.config["lr"] > 0.01 and row.state == "finished"  # type: ignore[operator]
    }
    assert len(expected) == 3
    assert {r.id for r in fast} == expected and len(fast) == 3

    assert isinstance(frame, pd.DataFrame)
    assert list(frame["_step"]) == [0, 1, 2, 3]
    assert list(frame["loss"]) == pytest.approx([min(LRS) * 10 / (e + 1) for e in range(4)])
    assert list(frame["epoch"]) == [0, 1, 2, 3]
    assert frame["epoch"].dtype.kind == "i"  # logged as ints, read back as ints
    assert {"_step", "_timestamp", "loss", "epoch"} <= set(frame.columns)


def test_it_orders_best_run_by_the_given_key(sweep_id: str) -> None:
    sweep = wandb.Api().sweep(sweep_id)

    assert sweep.order == "+summary_metrics.loss"
    worst = sweep.best_run(order="loss")  # W&B: no sign means descending
    newest = sweep.best_run(order="-created_at")
    by_lr = sweep.best_run(order="+config.lr")

    assert worst is not None and worst.config["lr"] == max(LRS)
    last = RunRow.objects.filter(trial__sweep_id=sweep_id).order_by("-created_at", "-pk")[0]
    assert newest is not None and newest.id == str(last.pk)
    assert by_lr is not None and by_lr.config["lr"] == min(LRS)


def test_it_takes_paths_with_the_entity_and_names_a_wrong_one(sweep_id: str) -> None:
    with wandb.Api() as api:
        run_id = str(RunRow.objects.filter(trial__sweep_id=sweep_id).first().pk)  # type: ignore[union-attr]

        assert api.sweep(f"alice/demo/{sweep_id}").id == sweep_id
        assert api.sweep(f"alice/demo/sweeps/{sweep_id}").id == sweep_id
        assert api.run(f"alice/demo/{run_id}").id == run_id
        assert api.run(f"demo/{run_id}").id == run_id
        assert api.run(f"alice/demo/runs/{run_id}").id == run_id
        assert len(api.runs("alice/demo")) == len(LRS)

        for call in (
            lambda: api.sweep(f"bob/demo/{sweep_id}"),
            lambda: api.run(f"bob/demo/{run_id}"),
            lambda: api.runs("bob/demo"),
            lambda: api.project("demo", entity="bob"),
        ):
            with pytest.raises(wandb.SweepTrackerError, match="'bob' does not own project 'demo'"):
                call()
        with pytest.raises(wandb.SweepTrackerError, match="in 'demo'") as error:
            api.sweep(f"other/{sweep_id}")
        assert error.value.status == 404
        with pytest.raises(wandb.SweepTrackerError, match="No run 'nosuch' in project 'demo'"):
            api.run("demo/nosuch")
        with pytest.raises(ValueError, match="Invalid path"):
            api.run("a/b/c/d/e")


def test_it_reads_projects_and_their_sweeps(sweep_id: str) -> None:
    api = wandb.Api()

    project = api.project("demo")
    projects = api.projects()
    sweeps = project.sweeps()

    assert (project.name, project.entity, project.path) == ("demo", "alice", ["alice", "demo"])
    assert project.display_name == "Demo project"
    assert project.url.endswith("/p/demo/")
    assert [p.name for p in projects] == ["demo"]
    assert api.projects(entity="bob") == []
    assert [s.id for s in sweeps] == [sweep_id] and len(sweeps) == 1
    assert sweeps[0].entity == "alice" and sweeps[0].best_trial is not None
    assert api.from_path("alice/demo").name == "demo"
    assert api.from_path(f"alice/demo/sweeps/{sweep_id}").id == sweep_id  # type: ignore[union-attr]
    runs = api.runs("demo", filters={"sweep": sweep_id}, order="+config.lr")
    assert [r.config["lr"] for r in runs] == LRS
    first = runs[0]
    assert api.from_path(f"alice/demo/runs/{first.id}").id == first.id  # type: ignore[union-attr]


def test_it_pages_runs_lazily_filters_and_orders_them(client_env: str, project: Project) -> None:
    for number in range(7):
        with wandb.init(
            name=f"run-{number}", config={"lr": number / 10, "model": {"depth": number % 3}}
        ) as run:
            run.log({"loss": 1.0 - number / 10})
            if number % 2:
                run.summary["acc"] = number / 7

    api = wandb.Api(overrides={"project": "demo", "entity": "alice"}, timeout=20)
    runs = api.runs(per_page=3)

    assert len(runs) == 7
    assert len(wandb.Api({"project": "demo"}).runs()) == 7  # overrides, W&B's first argument
    assert len(runs.objects) == 3  # one page read so far
    assert runs[4].name == "run-2"  # newest first: reading index 4 fetched a second page
    assert len(runs.objects) == 6
    assert [r.name for r in runs] == [f"run-{n}" for n in reversed(range(7))]
    assert [r.name for r in runs[-2:]] == ["run-1", "run-0"]

    def names(filters: dict[str, Any], order: str = "+created_at") -> list[str]:
        return [r.name for r in api.runs("demo", filters=filters, order=order)]

    assert names({"config.model.depth": 2}) == ["run-2", "run-5"]
    assert names({"config.lr": {"$gte": 0.3, "$lt": 0.5}}) == ["run-3", "run-4"]
    assert names({"$or": [{"name": "run-0"}, {"summary_metrics.loss": {"$lte": 0.45}}]}) == [
        "run-0",
        "run-6",
    ]
    assert names({"summary_metrics.acc": {"$exists": True}}, "-summary_metrics.acc") == [
        "run-5",
        "run-3",
        "run-1",
    ]
    assert names({"display_name": {"$regex": "^run-[12]$"}}) == ["run-1", "run-2"]
    assert names({"name": {"$in": ["run-1", "run-4"]}}) == ["run-1", "run-4"]
    assert names({}, "-config.lr")[:2] == ["run-6", "run-5"]
    histories = api.runs("demo", filters={"name": "run-3"}).histories()
    assert [(row["loss"], row["run_id"]) for row in histories] == [
        (pytest.approx(0.7), str(RunRow.objects.get(name="run-3").pk))
    ]
    frame = api.runs("demo", filters={"name": {"$nin": ["run-3"]}}).histories(format="pandas")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 6


def test_it_names_a_filter_the_server_refuses(client_env: str, project: Project) -> None:
    with wandb.Api() as api:
        with pytest.raises(wandb.SweepTrackerError, match=r"\$near") as error:
            api.runs("demo", filters={"config.lr": {"$near": 0.1}})
        assert error.value.status == 400
        with pytest.raises(ValueError, match="colour"):
            api.runs("demo", filters={"colour": "red"})


def test_it_reads_history_and_scans_it_page_by_page(client_env: str, project: Project) -> None:
    with wandb.init(name="long") as live:
        for step in range(30):
            row: dict[str, Any] = {"loss": 1 / (step + 1), "step_count": step}
            if step % 10 == 9:
                row["val_loss"] = step / 100
            live.log(row)
    run = wandb.Api().run(f"demo/{live.id}")

    frame = run.history()
    sampled = run.history(samples=5, pandas=False)
    val = run.history(keys=["val_loss"])
    by_count = run.history(keys=["val_loss"], x_axis="step_count", pandas=False)
    rows = list(run.scan_history())
    val_rows = list(run.scan_history(keys=["val_loss", "_step"], page_size=1))
    window = [r["_step"] for r in run.scan_history(min_step=5, max_step=8, page_size=2)]

    assert len(frame) == 30 and list(frame["_step"]) == list(range(30))
    assert frame["val_loss"].isna().sum() == 27
    assert [r["_step"] for r in sampled][0] == 0 and sampled[-1]["_step"] == 29
    assert len(sampled) == 5
    assert list(val.columns) == ["_step", "val_loss"]
    assert list(val["_step"]) == [9, 19, 29]
    assert by_count == [{"step_count": s, "val_loss": s / 100} for s in (9, 19, 29)]
    assert [r["_step"] for r in rows] == list(range(30))
    assert rows[3]["loss"] == pytest.approx(0.25) and "_timestamp" in rows[3]
    assert val_rows == [{"val_loss": s / 100, "_step": s} for s in (9, 19, 29)]
    assert window == [5, 6, 7]
    assert run.lastHistoryStep == 29
    scan = run.scan_history(keys=["loss"])
    assert next(scan) == {"loss": 1.0}


def test_it_writes_run_changes_back(client_env: str, project: Project) -> None:
    with wandb.init(name="before", config={"lr": 0.1}, tags=["a"]) as live:
        live.log({"loss": 0.5})
    api = wandb.Api()

    run = api.run(live.id)
    run.name = "after"
    run.tags.append("b")
    run.notes = "checked by hand"
    run.group = "ablation"
    run.job_type = "eval"
    run.config["extra"] = 3
    run.summary["loss"] = 0.25  # W&B writes a summary key at once
    row = RunRow.objects.get(pk=live.id)
    assert row.summary["loss"] == 0.25 and row.name == "before"
    run.update()
    run.summary.update({"acc": 0.9})
    run.display_name = "after"
    run.save()  # W&B's other name for update()

    row.refresh_from_db()
    assert (row.name, row.notes, row.group, row.job_type) == (
        "after",
        "checked by hand",
        "ablation",
        "eval",
    )
    assert sorted(row.tag_names) == ["a", "b"]
    assert row.config == {"lr": 0.1, "extra": 3}
    assert row.summary == {"loss": 0.25, "acc": 0.9}
    again = api.run(live.id)
    assert (again.group, again.job_type, again.display_name) == ("ablation", "eval", "after")
    assert [r.name for r in api.runs("demo", filters={"group": "ablation", "tags": "b"})] == [
        "after"
    ]
    run.wait_until_finished()  # ended already: returns at once
    assert run.load(force=True)["name"] == "after"

    run.delete()
    assert not RunRow.objects.filter(pk=live.id).exists()


def test_it_answers_lists_of_dicts_without_pandas(
    client_env: str, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with wandb.init() as live:
        live.log({"loss": 0.5})
        live.log({"loss": 0.25})
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed

    history = wandb.Api().run(live.id).history(keys=["loss"])

    assert history == [{"_step": 0, "loss": 0.5}, {"_step": 1, "loss": 0.25}]


def test_it_keeps_none_of_the_files_or_artifacts_and_says_so(
    client_env: str,
    project: Project,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with wandb.init() as live:
        live.log({"loss": 0.5})
    run = wandb.Api().run(live.id)
    monkeypatch.setattr(public, "_warned", set())

    with caplog.at_level("WARNING", logger="sweeptracker_client"):
        results = [run.files(), run.logged_artifacts(), run.used_artifacts(), run.files()]
        system = run.history(stream="system", pandas=False)

    assert results == [[], [], [], []] and system == []
    assert (run.system_metrics, run.metadata) == ({}, None)
    for call in (
        lambda: run.file("model.pt"),
        lambda: run.upload_file("model.pt"),
        lambda: run.use_artifact("data:v0"),
        lambda: run.log_artifact("model"),
    ):
        with pytest.raises(wandb.SweepTrackerError, match="SweepTracker keeps no"):
            call()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("SweepTracker keeps no files: the public Api answers none.") == 1
    assert messages.count("SweepTracker keeps no artifacts: the public Api answers none.") == 1
    assert any("system metrics" in m for m in messages)
