"""`agent(sweep_id, function=...)`: trials run in this process, init() joins their runs."""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

import pytest
import sweeptracker_client as st
from sweeptracker_client.agents import Agent

from projects.models import Project
from runs.models import Run as RunRow
from sweeps.models import Sweep, Trial
from tests.client.polling import wait_until

RANDOM: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 0.001, "max": 0.1},
        "layers": {"values": [1, 2, 3]},
        "model": {"parameters": {"width": {"values": [8, 16]}, "act": {"value": "relu"}}},
    },
}


def train() -> None:
    run = st.init(config={"epochs": 3, "lr": 99.0})
    for epoch in range(st.config.epochs):
        st.log({"loss": st.config.lr * st.config.layers / (epoch + 1)})
    assert run.config.model.width in (8, 16)


def test_it_runs_ten_trials_and_the_sweep_shows_their_values(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep({**RANDOM, "run_cap": 10})

    report = st.agent(sweep_id, function=train)

    assert (report.stop_reason, len(report.trials), report.failures) == ("finished", 10, 0)
    info = st.Api().sweep(sweep_id)
    assert info.state == "finished"
    assert [t.number for t in info.trials] == list(range(10))
    for trial in info.trials:
        assert trial.state == "complete"
        # The last logged loss, at epoch 2, with the suggested lr (not the script's 99).
        assert trial.value == pytest.approx(trial.params["lr"] * trial.params["layers"] / 3)
    rows = Trial.objects.filter(sweep_id=sweep_id).select_related("run")
    assert rows.count() == 10
    for row in rows:
        assert row.state == "complete" and row.value is not None
        assert row.run.state == "finished"  # type: ignore[union-attr]
        # The run's config: the suggested params, over the script's defaults.
        config = row.run.config  # type: ignore[union-attr]
        assert (config["epochs"], config["lr"]) == (3, row.params["lr"])
        assert config["model"] == {"width": row.params["model/width"], "act": "relu"}
        assert row.run.points.filter(key="loss").count() == 3  # type: ignore[union-attr]


def test_it_locks_the_suggested_params_in_config(
    client_env: str, project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    seen: dict[str, Any] = {}

    def locked() -> None:
        run = st.init(config={"lr": 99.0, "extra": 1, "model": {"width": 0, "depth": 4}})
        seen["suggested"] = run.config.as_dict()
        run.config.lr = 5.0
        run.config["layers"] = 7
        run.config.update({"lr": 6.0, "other": 2})
        run.config.model.width = 1
        run.config.model["depth"] = 5  # not swept: free to change
        del run.config.layers
        seen["after"] = run.config.as_dict()
        seen["sweep_id"] = run.sweep_id
        run.log({"loss": 1.0})

    sweep_id = st.sweep({**RANDOM, "run_cap": 1})
    with caplog.at_level(logging.WARNING, logger="sweeptracker_client"):
        st.agent(sweep_id, function=locked)

    row = Trial.objects.get(sweep_id=sweep_id)
    params = row.run.config  # type: ignore[union-attr]
    assert seen["suggested"]["lr"] == row.params["lr"]
    width = row.params["model/width"]
    assert seen["suggested"]["model"] == {"width": width, "depth": 4, "act": "relu"}
    changed_model = {**seen["suggested"]["model"], "depth": 5}
    assert seen["after"] == {**seen["suggested"], "other": 2, "model": changed_model}
    assert params == seen["after"]  # what the server holds
    assert seen["sweep_id"] == sweep_id
    warnings = [r.getMessage() for r in caplog.records]
    assert "Config item 'lr' was locked by 'sweep' (ignored update)." in warnings
    assert "Config item 'layers' was locked by 'sweep' (ignored update)." in warnings
    assert "Config item 'model.width' was locked by 'sweep' (ignored update)." in warnings


def test_it_fails_a_crashing_trial_and_goes_on(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        run = st.init()
        run.log({"loss": 1.0})
        if len(calls) == 1:
            raise RuntimeError("diverged")

    sweep_id = st.sweep(RANDOM)
    report = st.agent(sweep_id, function=flaky, count=3)

    assert [t.state for t in report.trials] == ["failed", "complete", "complete"]
    assert report.stop_reason == "count"
    first = Trial.objects.get(sweep_id=sweep_id, number=0).run
    assert (first.state, first.exit_code) == ("failed", 1)  # type: ignore[union-attr]
    assert "RuntimeError: diverged" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("limits", "failures", "reason"),
    [
        ({"MAX_INITIAL_FAILURES": "2", "MAX_FAILURES": "0"}, 2, "within the agent's first 60 s"),
        ({"MAX_INITIAL_FAILURES": "0", "MAX_FAILURES": "3"}, 3, "3 runs failed and only 0"),
    ],
)
def test_it_stops_after_the_configured_failures(
    client_env: str,
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    limits: dict[str, str],
    failures: int,
    reason: str,
) -> None:
    for name, value in limits.items():
        monkeypatch.setenv(f"SWEEPTRACKER_AGENT_{name}", value)

    def crash() -> None:
        st.init()
        raise ValueError("bad")

    sweep_id = st.sweep(RANDOM)
    out = io.StringIO()
    report = Agent(sweep_id, function=crash, count=10, out=out).run()

    assert (report.stop_reason, len(report.trials), report.failures) == (
        "failures",
        failures,
        failures,
    )
    assert reason in report.message and reason in out.getvalue()
    states = Trial.objects.filter(sweep_id=sweep_id).values_list("state", "run__state")
    assert sorted(states) == [("failed", "failed")] * failures


def test_it_finishes_the_run_of_a_function_that_never_called_init(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep(RANDOM)

    report = st.agent(sweep_id, function=lambda: None, count=2)

    # Nothing logged, so no value: the server fails the trials; the agent goes on.
    assert [t.state for t in report.trials] == ["failed", "failed"]
    assert report.failures == 0
    assert set(RunRow.objects.filter(trial__sweep_id=sweep_id).values_list("state", flat=True)) == {
        "finished"
    }


def test_it_waits_while_the_sweep_is_paused_and_goes_on_when_resumed(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep({**RANDOM, "run_cap": 3})
    controller = st.SweepController(sweep_id)
    controller.pause()
    out = io.StringIO()
    agent = Agent(sweep_id, function=train, out=out)
    thread = threading.Thread(target=agent.run)
    thread.start()
    try:
        wait_until(lambda: "the sweep is paused; waiting" in out.getvalue(), "the agent waits")
        assert Sweep.objects.get(pk=sweep_id).next_number == 0
        assert thread.is_alive()

        controller.resume()
        thread.join(timeout=60)
    finally:
        if thread.is_alive():
            controller.cancel()
            thread.join(timeout=30)

    assert not thread.is_alive()
    assert agent.report.stop_reason == "finished"
    states = Trial.objects.filter(sweep_id=sweep_id).values_list("state", flat=True)
    assert list(states) == ["complete"] * 3


def test_it_tells_the_function_to_stop_when_the_sweep_is_canceled(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep(RANDOM)
    seen = {}

    def long_training() -> None:
        run = st.init()
        run.log({"loss": 1.0})
        st.SweepController(sweep_id).cancel()
        # The answer to the next batch carries the verdict.
        run.log({"loss": 0.5})
        wait_until(lambda: run.should_stop, "the run learns it should stop")
        seen["stopped"] = True

    report = st.agent(sweep_id, function=long_training, count=5)

    assert seen == {"stopped": True}
    assert report.stop_reason == "canceled" and len(report.trials) == 1
    trial = Trial.objects.get(sweep_id=sweep_id)
    assert (trial.state, trial.run.state) == ("failed", "killed")  # type: ignore[union-attr]


def test_ctrl_c_in_the_function_kills_its_run_and_ends_the_agent(
    client_env: str, project: Project
) -> None:
    def interrupted() -> None:
        st.init().log({"loss": 1.0})
        raise KeyboardInterrupt

    sweep_id = st.sweep(RANDOM)
    report = st.agent(sweep_id, function=interrupted, count=3)

    assert report.stop_reason == "interrupted"
    trial = Trial.objects.select_related("run").get(sweep_id=sweep_id)
    assert (trial.state, trial.run.state) == ("failed", "killed")  # type: ignore[union-attr]
    assert trial.run.points.count() == 1  # type: ignore[union-attr]


def test_it_keeps_the_run_alive_until_the_function_calls_init(
    client_env: str, project: Project
) -> None:
    sweep_id = st.sweep(RANDOM)

    def slow_start() -> None:
        row = RunRow.objects.get(trial__sweep_id=sweep_id)
        first = row.heartbeat_at
        # Before init(): only the agent can be heartbeating this run.
        wait_until(
            lambda: RunRow.objects.get(pk=row.pk).heartbeat_at > first, "the agent heartbeats"
        )
        st.init().log({"loss": 1.0})

    report = st.agent(sweep_id, function=slow_start, count=1)

    assert [t.state for t in report.trials] == ["complete"]
