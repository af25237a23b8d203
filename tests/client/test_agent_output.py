"""What an agent prints: `[n/count]` with its time and an estimate, a live line for the
running trial on a terminal, why a command failed, and trials told truthfully whether
early termination stopped them. Real agents against the live server; a pseudo-terminal
where the agent must believe it writes to one."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest
import sweeptracker_client as st
from sweeptracker_client.agent_output import Progress

from projects.models import Project
from sweeps import agents
from sweeps.models import Agent, Sweep, Trial

AGENT = [sys.executable, "-m", "sweeptracker_client", "agent"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PREFIX = "sweeptracker: "

# Fails on x == 2 after some lines on stderr.
FAILS_ON_TWO = """
import sys
import sweeptracker_client as st
run = st.init()
if run.config.x == 2:
    print("loading the data", file=sys.stderr)
    print("Traceback (most recent call last):", file=sys.stderr)
    print("ValueError: the learning rate diverged", file=sys.stderr)
    sys.exit(3)
run.log({"loss": 1.0})
"""

# Logs three steps, then waits for the test to let it end.
WAITS_FOR_GO = """
import os, time
from pathlib import Path
import sweeptracker_client as st
run = st.init()
for step in range(3):
    run.log({"loss": 0.5 - step * 0.1})
go, deadline = Path(os.environ["ST_TEST_GO"]), time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
"""

# Three trials of a Hyperband sweep in function mode: a good one; a bad one whose last
# batch is the one told to stop (it never sees it); a bad one that waits for the stop.
HYPERBAND_AGENT = """
import sys, time
import sweeptracker_client as st

def train():
    run = st.init()
    number = len(trained)
    trained.append(number)
    for step in range(2):
        run.log({"loss": [0.1, 0.9, 0.95][number]})
    if number == 2:
        deadline = time.monotonic() + 30
        while not run.should_stop and time.monotonic() < deadline:
            time.sleep(0.02)
        run.log({"loss": 0.8})

trained = []
st.agent(sys.argv[1], function=train, count=3)
"""


def program(tmp_path: Path, source: str, name: str = "program.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def lines_of(text: str) -> list[str]:
    """What a terminal shows line by line: each redraw after \\r counts as a line."""
    return [line for line in re.split(r"[\r\n]", ANSI.sub("", text)) if line]


def said(text: str) -> str:
    """The agent's wrapped lines joined back into one text, to look for a sentence."""
    return " ".join(line.removeprefix(PREFIX).strip() for line in lines_of(text))


def read_until(fd: int, pattern: str, seen: list[str], timeout: float = 60) -> bool:
    """Read the terminal into `seen` until `pattern` shows up (True) or it closes."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, ANSI.sub("", "".join(seen))):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{''.join(seen)}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65_536)
        except OSError:  # the agent exited: the terminal closed
            return False
        if not chunk:
            return False
        seen.append(chunk.decode("utf-8", "replace"))
    return True


def on_terminal(argv: list[str], cwd: Path, columns: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start `argv` with a pseudo-terminal of `columns` columns as stdout and stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(argv, cwd=cwd, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    return process, master


def test_a_failed_command_says_its_exit_code_and_last_stderr_lines(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    sweep_id = st.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "program": program(tmp_path, FAILS_ON_TWO),
            "parameters": {"x": {"values": [1, 2]}},
        }
    )

    done = subprocess.run(
        [*AGENT, sweep_id, "--count", "2"], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    first = next(line for line in out if "trial 0 complete" in line)
    second = next(line for line in out if "trial 1 failed" in line)
    assert re.match(r"sweeptracker: \[1/2\] \d+:\d\d, ~\d+:\d\d left · trial 0 complete", first)
    assert re.fullmatch(
        r"sweeptracker: \[2/2\] \d+:\d\d · trial 1 failed: loss=- \(run \d+\)  x=2", second
    )
    why = out[out.index(second) + 1 :]
    assert why[:4] == [
        "sweeptracker:   exit code 3; its last lines on stderr:",
        "sweeptracker:   | loading the data",
        "sweeptracker:   | Traceback (most recent call last):",
        "sweeptracker:   | ValueError: the learning rate diverged",
    ]
    # The command's stderr still reaches the agent's, as it comes.
    assert "ValueError: the learning rate diverged" in done.stderr
    assert max(len(line) for line in out) <= 100, out
    report = Trial.objects.get(sweep_id=sweep_id, number=1)
    assert (report.state, report.run.state, report.run.exit_code) == ("failed", "failed", 3)  # type: ignore[union-attr]


def test_a_program_not_found_is_said_to_be_read_from_where_the_agent_started(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    sweep_id = st.sweep(
        {
            "method": "random",
            "program": "scripts/train.py",
            "parameters": {"x": {"min": 0, "max": 1}},
        }
    )

    done = subprocess.run(
        [*AGENT, sweep_id, "--count", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    text = said(done.stdout)
    hint = (
        "program 'scripts/train.py' is read relative to the directory the agent was started "
        f"in, {tmp_path}, where there is no such file"
    )
    assert f"warning: {hint}" in text  # before any trial runs
    failure = text[text.index("trial 0 failed") :]
    assert "exit code 2; its last lines on stderr:" in failure and hint in failure
    # Python's own words, from its stderr (wrapped over "|" lines).
    assert "No such file or directory" in " ".join(failure.replace("|", " ").split())
    assert max(len(line) for line in done.stdout.splitlines()) <= 100


def test_on_a_terminal_the_running_trial_has_a_live_line_and_the_page_lists_the_agent(
    client_env: str, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = tmp_path / "go"
    monkeypatch.setenv("ST_TEST_GO", str(go))
    sweep_id = st.sweep(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "program": program(tmp_path, WAITS_FOR_GO),
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    agent, terminal = on_terminal([*AGENT, sweep_id, "--count", "1"], tmp_path, columns=72)
    seen: list[str] = []
    try:
        # The command's run, read from the server: its last step and the metric's value.
        assert read_until(terminal, r"trial 0 running \d+:\d\d · step 2 · loss=0\.3", seen)
        [live] = agents.live_agents(Sweep.objects.get(pk=sweep_id))
        assert (live.host, live.pid) == (socket.gethostname(), agent.pid)
        assert live.current_number == 0  # type: ignore[attr-defined]
        go.touch()
        # To the end: the terminal closes as the agent exits.
        assert not read_until(terminal, r"(?!)", seen)
        assert agent.wait(timeout=60) == 0, "".join(seen)
    finally:
        os.close(terminal)
        if agent.poll() is None:
            agent.kill()
    shown = lines_of("".join(seen))
    redraws = [line for line in shown if "running" in line]
    # The live line fits the terminal; every other line 100 columns.
    assert redraws and max(len(line) for line in redraws) <= 71, redraws
    assert max(len(line) for line in shown) <= 100, shown
    assert any(re.match(r"sweeptracker: \[1/1\] .*trial 0 complete", line) for line in shown)
    stopped = Agent.objects.get(sweep_id=sweep_id)
    assert stopped.stopped_at is not None and stopped.pid == agent.pid
    assert agents.live_agents(Sweep.objects.get(pk=sweep_id)) == []


def test_a_run_that_ended_before_it_saw_the_stop_is_complete_and_one_that_saw_it_pruned(
    client_env: str, project: Project, tmp_path: Path
) -> None:
    sweep_id = st.sweep(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    script = program(tmp_path, HYPERBAND_AGENT, "hyperband_agent.py")

    done = subprocess.run(
        [sys.executable, script, sweep_id], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    trials = Trial.objects.filter(sweep_id=sweep_id).order_by("number")
    assert [(t.state, t.stop_step) for t in trials] == [
        ("complete", None),
        ("complete", 1),  # told to stop at step 1, its last: it ran to its end
        ("pruned", 1),  # it saw the stop, then logged one more step
    ]
    assert "trial 1 complete: loss=0.9" in done.stdout
    assert "trial 2 pruned: loss=0.8" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 100


def test_params_that_do_not_fit_go_on_a_line_of_their_own_cut_to_100_columns() -> None:
    out = io.StringIO()
    progress = Progress(out, count=3)
    progress.trial_started(7, lambda: None)
    progress.trial_ended()
    params = " ".join(f"layer_{i}.units={2**i}" for i in range(12))

    progress.trial_line("trial 7 complete: val_loss=0.25", params, " (run 9)")
    progress.trial_line("trial 8 complete: val_loss=0.5", "lr=0.1", " (run 10)")

    first, second, third = out.getvalue().splitlines()
    assert re.fullmatch(
        r"sweeptracker: \[1/3\] 0:00, ~0:00 left · trial 7 complete: val_loss=0.25 \(run 9\)",
        first,
    )
    assert second.startswith("sweeptracker:   layer_0.units=1 layer_1.units=2")
    assert len(second) == 100 and second.endswith("…")
    assert third.endswith("trial 8 complete: val_loss=0.5 (run 10)  lr=0.1")
