"""`sweeptracker sweep` and the errors of `sweeptracker agent`: one clear line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweeptracker_client import cli

from projects.models import Project
from sweeps.models import Sweep

GOOD = """\
method: grid
metric: {name: loss}
parameters:
  lr: {values: [0.1, 0.01]}
"""

BAD = """\
method: sideways
metric: {name: loss, goal: up}
parameters:
  lr: {min: 1.0, max: 0.1}
"""


def test_it_creates_a_sweep_and_prints_how_to_run_it(
    client_env: str, project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(GOOD)

    assert cli.main(["sweep", str(path), "--name", "lr-grid"]) == 0

    sweep = Sweep.objects.get()
    assert (sweep.name, sweep.project.slug, sweep.config_text) == ("lr-grid", "demo", GOOD)
    captured = capsys.readouterr()
    assert captured.out == f"{sweep.pk}\n"  # for SWEEP_ID=$(sweeptracker sweep ...)
    assert f"Created sweep with ID: {sweep.pk}" in captured.err
    assert f"{client_env}/sweeps/{sweep.pk}/" in captured.err
    assert f"sweeptracker agent {sweep.pk}" in captured.err


def test_it_prints_every_problem_of_a_bad_config_on_its_own_line(
    client_env: str, project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)

    assert cli.main(["sweep", str(path)]) == 1

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"sweeptracker: error: {path}: ") for line in lines)
    joined = "\n".join(lines)
    for path_in_config in ("method: ", "metric.goal: ", "parameters.lr"):
        assert f"{path}: {path_in_config}" in joined
    assert "Traceback" not in captured.err and captured.out == ""
    assert not Sweep.objects.exists()


def test_it_says_in_one_line_that_the_config_file_is_missing(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sweep", "no-such.yaml"]) == 1
    assert capsys.readouterr().err == "sweeptracker: error: No sweep config file 'no-such.yaml'.\n"


def test_it_pauses_resumes_stops_and_cancels(
    client_env: str, project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(GOOD)
    cli.main(["sweep", str(path)])
    sweep_id = Sweep.objects.get().pk

    for flag, state in [("--pause", "paused"), ("--resume", "running"), ("--stop", "finished")]:
        assert cli.main(["sweep", flag, sweep_id]) == 0
        assert Sweep.objects.get().state == state
    capsys.readouterr()

    assert cli.main(["sweep", "--cancel", sweep_id]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sweeptracker: error: ") and "finished" in err
    assert err.count("\n") == 1


def test_agent_says_in_one_line_that_the_sweep_does_not_exist(
    client_env: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["agent", "nosuchid"]) == 1

    err = capsys.readouterr().err
    assert err == (
        f"sweeptracker: error: No sweep 'nosuchid' on {client_env} "
        "(or it is in a project you are not a member of).\n"
    )


def test_agent_says_in_one_line_that_the_server_is_down(
    client_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWEEPTRACKER_BASE_URL", "http://localhost:1")
    monkeypatch.setenv("SWEEPTRACKER_API_KEY", "st_x")

    assert cli.main(["agent", "abcd1234", "--count", "1"]) == 1

    assert capsys.readouterr().err == (
        "sweeptracker: error: cannot reach the server at http://localhost:1: Connection refused\n"
    )


@pytest.mark.parametrize("command", ["sweep", "agent"])
def test_it_explains_each_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main([command, "--help"])

    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "SWEEP_ID" in out
    assert ("--pause" in out) if command == "sweep" else ("--count" in out)
