"""Creating sweeps with `sweep()`, reading them with `Api().sweep()`, and ask/tell by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sweeptracker_client as st
from sweeptracker_client import SweepConfigError, SweepController, SweepUnavailable

from projects.models import Project
from sweeps.models import Sweep, Trial

CONFIG: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "x": {"min": -2.0, "max": 2.0},
        "model": {"parameters": {"layers": {"values": [1, 2, 3]}}},
    },
}


def test_it_creates_a_sweep_from_a_dict_and_says_how_to_run_it(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_id = st.sweep(CONFIG, name="by-dict")

    row = Sweep.objects.get(pk=sweep_id)
    assert (row.project.slug, row.name, row.method) == ("demo", "by-dict", "random")
    err = capsys.readouterr().err
    assert f"{client_env}/sweeps/{sweep_id}/" in err
    assert f"sweeptracker agent {sweep_id}" in err


def test_it_creates_a_sweep_from_a_file_in_the_configs_project(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "# kept as written\nproject: fresh\nmethod: grid\nparameters:\n  a:\n    values: [1, 2]\n"
    )

    sweep_id = st.sweep(str(path))

    row = Sweep.objects.get(pk=sweep_id)
    assert row.project.slug == "fresh"  # created on the way, as init() does
    assert row.config_text.startswith("# kept as written")


def test_it_lists_every_problem_of_a_bad_config(client_env: str, project: Project) -> None:
    bad = {"method": "sideways", "parameters": {"lr": {"min": 1.0, "max": 0.1}}}

    with pytest.raises(SweepConfigError) as raised:
        st.sweep(bad)

    problems = raised.value.problems
    assert len(problems) >= 2
    assert any(p.startswith("method: ") for p in problems)
    assert any(p.startswith("parameters.lr") for p in problems)
    for problem in problems:
        assert problem in str(raised.value)
    assert not Sweep.objects.exists()


def test_it_reads_a_sweep_with_its_trials(client_env: str, project: Project) -> None:
    sweep_id = st.sweep(CONFIG)
    with SweepController(sweep_id) as controller:
        first, second = controller.suggest(), controller.suggest()
        controller.report(first, 0.5)
        controller.fail(second)

    info = st.Api().sweep_info(sweep_id)

    assert (info.id, info.state, info.method, info.metric_names) == (
        sweep_id,
        "running",
        "random",
        ["loss"],
    )
    assert info.config["parameters"][0]["path"] == ["x"]
    assert [(t.number, t.state, t.value) for t in info.trials] == [
        (0, "complete", 0.5),
        (1, "failed", None),
    ]
    assert info.trials[0].params == first.params  # nested, as the run's config
    assert info.trials[0].flat_params["model/layers"] == first.params["model"]["layers"]
    assert info.best_trial is not None and info.best_trial.number == 0
    assert info.trials[0].is_best and not info.trials[1].is_best


def test_it_asks_and_tells_and_knows_the_best_params(client_env: str, project: Project) -> None:
    sweep_id = st.sweep(CONFIG)
    controller = SweepController(sweep_id)
    told = {}
    for _ in range(6):
        trial = controller.suggest()
        assert set(trial.params) == {"x", "model"}
        value = trial.params["x"] ** 2
        told[trial.number] = (value, trial.params)
        controller.report(trial, value)

    best_number = min(told, key=lambda n: told[n][0])
    assert controller.best_params() == told[best_number][1]
    assert controller.best_trial().number == best_number  # type: ignore[union-attr]
    rows = Trial.objects.filter(sweep_id=sweep_id)
    assert sorted(rows.values_list("state", flat=True)) == ["complete"] * 6
    assert rows.get(is_best=True).number == best_number
    controller.close()


def test_it_pauses_resumes_finishes_and_says_why_there_is_no_trial(
    client_env: str, project: Project
) -> None:
    controller = SweepController(st.sweep(CONFIG))
    assert controller.best_params() is None

    assert controller.pause().state == "paused"
    with pytest.raises(SweepUnavailable) as paused:
        controller.suggest()
    assert (paused.value.reason, paused.value.retry) == ("paused", True)

    assert controller.resume().state == "running"
    trial = controller.suggest()
    assert controller.finish().state == "finished"
    with pytest.raises(SweepUnavailable) as finished:
        controller.suggest(wait=True)  # nothing to wait for: it is over
    assert (finished.value.reason, finished.value.retry) == ("finished", False)
    # A trial running when the sweep finished may still end normally.
    assert controller.report(trial, 1.0).state == "complete"


def test_it_cancels_and_kills_running_trials(client_env: str, project: Project) -> None:
    controller = SweepController(st.sweep(CONFIG))
    trial = controller.suggest()

    assert controller.cancel().state == "canceled"

    assert controller.info().trials[0].state == "failed"
    assert Trial.objects.get(run_id=trial.run_id).run.state == "killed"  # type: ignore[union-attr]
    with pytest.raises(st.SweepTrackerError, match="409"):
        controller.report(trial, 1.0)


def test_it_says_plainly_that_a_sweep_does_not_exist(client_env: str, project: Project) -> None:
    with pytest.raises(st.SweepTrackerError, match="No sweep 'nosuchid'") as raised:
        st.Api().sweep("nosuchid")
    assert raised.value.status == 404
