"""`sweeptracker agent`: each trial runs the sweep's command in a subprocess."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sweeptracker_client as st

from projects.models import Project
from sweeps.models import Trial
from tests.client.polling import wait_until

AGENT = [sys.executable, "-m", "sweeptracker_client", "agent"]

# Records what it was given: argv, the files and the environment, and its config.
RECORDER = """
import json, os, sys
from pathlib import Path
import sweeptracker_client as st
from sweeptracker_client.assignment import read_params

run = st.init(config={"default_only": 1, "epochs": 99})
argv = sys.argv[1:]
json_file = argv[argv.index("H") + 1]
Path(os.environ["ST_TEST_OUT"]).write_text(json.dumps({
    "argv": argv,
    "json_file": json.loads(Path(json_file).read_text()),
    "param_file": read_params(Path(os.environ["SWEEPTRACKER_SWEEP_PARAM_PATH"])),
    "config": run.config.as_dict(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("SWEEPTRACKER_")},
    "run_id": run.id,
}))
run.log({"loss": run.config.lr * run.config.epochs})
"""

# Never calls init(); says it started, then waits to be stopped.
SLEEPER = """
import os, time
from pathlib import Path
Path(os.environ["ST_TEST_OUT"]).write_text(str(os.getpid()))
while True:
    time.sleep(0.05)
"""

# A grid point's value, logged through the run init() joins.
SCORER = """
import sweeptracker_client as st
run = st.init()
run.log({"score": run.config.x * 100 + run.config.y * 10 + int(run.config.z)})
"""

PARAMS: dict[str, Any] = {
    "epochs": 3,
    "lr": 0.001,
    "flag_on": True,
    "flag_off": False,
    "name": "adam w",
    "model": {"layers": 2, "act": "relu"},
}


def _script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "program.py"
    path.write_text(textwrap.dedent(text))
    return str(path)


def _run_agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGENT, *args], capture_output=True, text=True, timeout=120)


def test_it_passes_the_params_through_every_macro(
    client_env: str,
    project: Project,
    tmp_path: Path,
    client_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "seen.json"
    monkeypatch.setenv("ST_TEST_OUT", str(out))
    parameters = {
        key: {"value": value} for key, value in PARAMS.items() if not isinstance(value, dict)
    }
    parameters["model"] = {"parameters": {k: {"value": v} for k, v in PARAMS["model"].items()}}
    command = ["${env}", "${interpreter}", "${program}", "--out=${envvar:ST_TEST_OUT}"]
    for marker, macro in zip(
        "ABCDEFGH",
        ["args", "args_no_equals", "args_no_hyphens", "args_no_boolean_flags"]
        + ["args_append_hydra", "args_override_hydra", "args_json", "args_json_file"],
        strict=True,
    ):
        command += [marker, f"${{{macro}}}"]
    sweep_id = st.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "program": _script(tmp_path, RECORDER),
            "command": command,
            "parameters": parameters,
        }
    )

    done = _run_agent(sweep_id)

    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    model = "{'layers': 2, 'act': 'relu'}"  # str() of a dict, as W&B writes it
    trial = Trial.objects.get(sweep_id=sweep_id)
    json_path = str(client_home / "sweeps" / sweep_id / f"config-{trial.run_id}.json")
    assert seen["argv"] == [
        f"--out={out}",
        *["A", "--epochs=3", "--lr=0.001", "--flag_on=True", "--flag_off=False"],
        *["--name=adam w", f"--model={model}"],
        *["B", "--epochs", "3", "--lr", "0.001", "--flag_on", "True", "--flag_off", "False"],
        *["--name", "adam w", "--model", model],
        *["C", "epochs=3", "lr=0.001", "flag_on=True", "flag_off=False", "name=adam w"],
        f"model={model}",
        *["D", "--epochs=3", "--lr=0.001", "--flag_on", "--name=adam w", f"--model={model}"],
        *["E", "+epochs=3", "+lr=0.001", "+flag_on=True", "+flag_off=False", "+name=adam w"],
        f"+model={model}",
        *["F", "++epochs=3", "++lr=0.001", "++flag_on=True", "++flag_off=False"],
        *["++name=adam w", f"++model={model}"],
        *["G", json.dumps(PARAMS)],
        *["H", json_path],
    ]
    # Types survive in JSON, the param file and the config init() gives the script.
    assert seen["json_file"] == PARAMS
    assert seen["param_file"] == PARAMS
    assert json.loads(seen["argv"][seen["argv"].index("G") + 1]) == PARAMS
    assert seen["config"] == {"default_only": 1, **PARAMS}
    assert isinstance(seen["config"]["epochs"], int) and isinstance(seen["config"]["lr"], float)
    assert seen["run_id"] == str(trial.run_id)
    assert seen["env"]["SWEEPTRACKER_RUN_ID"] == str(trial.run_id)
    assert seen["env"]["SWEEPTRACKER_SWEEP_ID"] == sweep_id
    assert seen["env"]["SWEEPTRACKER_PROJECT"] == "demo"
    assert (trial.state, trial.value) == ("complete", pytest.approx(0.003))
    assert trial.run.config == {"default_only": 1, **PARAMS}  # type: ignore[union-attr]


def test_four_agents_run_every_point_of_a_grid_once(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    grid = {"x": [1, 2, 3, 4], "y": [1, 2, 3], "z": [True, False]}
    sweep_id = st.sweep(
        {
            "method": "grid",
            "metric": {"name": "score", "goal": "maximize"},
            "program": _script(tmp_path, SCORER),
            "parameters": {name: {"values": values} for name, values in grid.items()},
        }
    )

    agents = [
        subprocess.Popen(
            [*AGENT, sweep_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [agent.communicate(timeout=120) for agent in agents]

    assert [agent.returncode for agent in agents] == [0] * 4, [err for _, err in outputs]
    ran = sum(out.count(" complete: score=") for out, _ in outputs)
    assert ran == 24
    trials = list(Trial.objects.filter(sweep_id=sweep_id).order_by("number"))
    assert [t.number for t in trials] == list(range(24))
    points = [(t.params["x"], t.params["y"], t.params["z"]) for t in trials]
    assert sorted(points) == sorted(itertools.product(*grid.values()))
    for trial in trials:
        assert trial.state == "complete"
        x, y, z = points[trial.number]
        assert trial.value == x * 100 + y * 10 + int(z)
    assert Trial.objects.get(sweep_id=sweep_id, is_best=True).value == 431


def _start_sleeper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any, Path]:
    """A sweep whose program waits forever, an agent running it, and the file it writes."""
    marker = tmp_path / "pid"
    monkeypatch.setenv("ST_TEST_OUT", str(marker))
    sweep_id = st.sweep(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "program": _script(tmp_path, SLEEPER),
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    agent = subprocess.Popen(
        [*AGENT, sweep_id, "--count", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: marker.exists() and marker.read_text(), "the command started")
    return sweep_id, agent, marker


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_it_stops_a_command_whose_run_the_sweep_pruned(
    client_env: str, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep_id, agent, marker = _start_sleeper(tmp_path, monkeypatch)

    # What early termination does on the server; the agent learns it from a heartbeat.
    Trial.objects.filter(sweep_id=sweep_id).update(state="pruned")
    out, err = agent.communicate(timeout=60)

    assert agent.returncode == 0, err
    assert _gone(int(marker.read_text()))
    trial = Trial.objects.select_related("run").get(sweep_id=sweep_id)
    # Stopped on purpose: the run finished, and the trial stays pruned.
    assert (trial.state, trial.run.state, trial.run.exit_code) == ("pruned", "finished", 0)  # type: ignore[union-attr]
    assert "trial 0 pruned" in out


def test_ctrl_c_kills_the_current_run_and_ends_the_agent(
    client_env: str, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep_id, agent, marker = _start_sleeper(tmp_path, monkeypatch)

    agent.send_signal(signal.SIGINT)
    out, err = agent.communicate(timeout=60)

    assert agent.returncode == 130, err
    assert _gone(int(marker.read_text()))
    trial = Trial.objects.select_related("run").get(sweep_id=sweep_id)
    assert (trial.state, trial.run.state) == ("failed", "killed")  # type: ignore[union-attr]
    assert "interrupted" in out
    assert "Traceback" not in err


def test_the_exit_code_of_the_command_decides_the_run(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    program = _script(
        tmp_path,
        """
        import sys
        import sweeptracker_client as st
        run = st.init()
        run.log({"loss": 1.0})
        sys.exit(3)
        """,
    )
    sweep_id = st.sweep(
        {"method": "grid", "program": program, "parameters": {"x": {"values": [1, 2]}}}
    )

    done = _run_agent(sweep_id, "--count", "1")

    assert done.returncode == 0, done.stderr
    trial = Trial.objects.select_related("run").get(sweep_id=sweep_id)
    assert (trial.state, trial.run.state, trial.run.exit_code) == ("failed", "failed", 3)  # type: ignore[union-attr]
    assert "trial 0 failed" in done.stdout
