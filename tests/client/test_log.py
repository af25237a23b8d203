"""Logging metrics: every row arrives, in step order, with W&B's step rules."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import sweeptracker_client as st
from sweeptracker_client import Api

from runs.models import MetricPoint
from runs.models import Run as RunRow


def test_it_delivers_10000_rows_of_3_keys_whole(client_env: str) -> None:
    run = st.init(config={"lr": 0.01})
    for step in range(10_000):
        run.log({"loss": 1 / (step + 1), "acc": step / 10_000, "epoch": step // 1000})
    run.finish()

    with Api() as api:
        history = api.run(run.id).history(samples=10_000, pandas=False)
    assert len(history) == 10_000
    assert [row["_step"] for row in history] == list(range(10_000))
    assert history[9_999]["loss"] == pytest.approx(1 / 10_000)
    assert history[1234] == {
        "_step": 1234,
        "_timestamp": pytest.approx(history[1234]["_timestamp"]),
        "loss": pytest.approx(1 / 1235),
        "acc": pytest.approx(0.1234),
        "epoch": 1.0,
    }
    assert MetricPoint.objects.filter(run_id=run.id).count() == 30_000


def test_it_returns_from_log_without_waiting_for_the_server(client_env: str) -> None:
    run = st.init()
    for step in range(2_000):
        run.log({"loss": float(step)})
    # Nothing may have been sent yet: log() only queued the rows.
    assert run.step == 2_000
    run.finish()
    assert MetricPoint.objects.filter(run_id=run.id).count() == 2_000


def test_it_keeps_non_numbers_in_the_summary_not_the_history(client_env: str) -> None:
    run = st.init()
    run.log({"loss": 0.5, "optimizer": "adam"})
    run.log({"weights": [1.0, 2.0], "nothing": None, "model": object()})
    run.log({"loss": 0.25})
    with pytest.raises(TypeError, match="metric names must be strings"):
        run.log({1: 0.5})
    run.finish()

    # Each call took a step, as in W&B, though the second logged no number.
    assert run.step == 3
    points = MetricPoint.objects.filter(run_id=run.pk).order_by("step")
    assert [(p.key, p.step, p.value) for p in points] == [("loss", 0, 0.5), ("loss", 2, 0.25)]
    summary = RunRow.objects.get(pk=run.pk).summary
    assert (summary["optimizer"], summary["weights"]) == ("adam", [1.0, 2.0])
    assert summary["nothing"] is None
    assert summary["model"].startswith("<object object at")
    assert summary["loss"] == 0.25


def test_it_round_trips_nan_and_infinities(client_env: str) -> None:
    run = st.init()
    run.log({"nan": math.nan, "inf": math.inf, "neg": -math.inf, "one": 1.0})
    run.summary["best"] = math.inf
    run.finish()

    with Api() as api:
        info = api.run(run.id)
        (row,) = info.history(pandas=False)
    assert math.isnan(row["nan"])
    assert (row["inf"], row["neg"], row["one"]) == (math.inf, -math.inf, 1.0)
    assert math.isnan(info.summary["nan"])
    assert info.summary["best"] == math.inf
    assert info.summary["neg"] == -math.inf


def test_it_takes_numpy_scalars_and_bools(client_env: str) -> None:
    run = st.init()
    run.log({"f32": np.float32(0.5), "i64": np.int64(7), "flag": True, "np_bool": np.bool_(False)})
    run.finish()

    with Api() as api:
        (row,) = api.run(run.id).history(pandas=False)
    assert (row["f32"], row["i64"], row["flag"], row["np_bool"]) == (0.5, 7.0, 1.0, 0.0)


def test_it_follows_wandb_step_rules(client_env: str, caplog: pytest.LogCaptureFixture) -> None:
    run = st.init()
    run.log({"a": 1})  # step 0
    run.log({"a": 2}, commit=False)  # collects at step 1...
    run.log({"b": 2})  # ...and commits it
    run.log({"a": 5}, step=5)  # collects at step 5
    run.log({"b": 5}, step=5)
    with caplog.at_level(logging.WARNING, logger="sweeptracker_client"):
        run.log({"a": 3}, step=3)  # lower than the current step: ignored
    run.log({"c": 5})  # no step: joins step 5 and commits it
    run.log({"a": 6})
    run.log({"a": 9}, step=9, commit=True)
    assert run.step == 10
    run.finish()

    assert "step 3 is lower than the current step 5" in caplog.text
    with Api() as api:
        history = api.run(run.id).history(pandas=False)
    values = [{k: v for k, v in row.items() if k != "_timestamp"} for row in history]
    assert values == [
        {"_step": 0, "a": 1.0},
        {"_step": 1, "a": 2.0, "b": 2.0},
        {"_step": 5, "a": 5.0, "b": 5.0, "c": 5.0},
        {"_step": 6, "a": 6.0},
        {"_step": 9, "a": 9.0},
    ]


def test_it_reads_only_the_asked_keys(client_env: str) -> None:
    run = st.init()
    for step in range(5):
        run.log({"loss": step, "acc": -step, "lr": 0.1})
    run.finish()

    with Api() as api:
        history = api.run(run.id).history(keys=["acc"], pandas=False)
    assert [set(row) for row in history] == [{"_step", "acc"}] * 5  # W&B's: x_axis and keys
    assert [row["acc"] for row in history] == [0.0, -1.0, -2.0, -3.0, -4.0]
