"""Starting and ending runs: settings, projects, the current run, context managers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sweeptracker_client as st
from sweeptracker_client import SweepTrackerError

from projects.access import create_project
from runs.models import Run as RunRow


def test_it_says_how_to_set_what_is_missing(client_home: Path) -> None:
    with pytest.raises(SweepTrackerError, match="SWEEPTRACKER_BASE_URL"):
        st.init(project="demo")
    with pytest.raises(SweepTrackerError, match="SWEEPTRACKER_API_KEY"):
        st.init(project="demo", base_url="http://localhost:1")
    with pytest.raises(SweepTrackerError, match="SWEEPTRACKER_PROJECT"):
        st.init(base_url="http://localhost:1", api_key="st_x")


def test_it_creates_the_project_and_the_run(client_env: str) -> None:
    run = st.init(project="fresh", name="first", tags=["a", "b"], notes="hello")

    assert (run.project, run.name) == ("fresh", "first")
    assert run.url == f"{client_env}/p/fresh/runs/{run.id}/"
    row = RunRow.objects.get(pk=run.id)
    assert (row.project.slug, row.name, row.notes, row.tag_names) == (
        "fresh",
        "first",
        "hello",
        ["a", "b"],
    )
    assert row.state == "running"
    run.finish()


def test_it_refuses_a_project_of_others_clearly(client_env: str, other_user: Any) -> None:
    create_project(other_user, "bobs")
    with pytest.raises(SweepTrackerError, match="exists but you are not a member"):
        st.init(project="bobs")


def test_it_reads_settings_from_the_file_below_the_env(
    live_url: str, api_key: str, client_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_home.mkdir()
    (client_home / "settings.json").write_text(
        json.dumps({"base_url": "http://localhost:1", "api_key": api_key})
    )
    monkeypatch.setenv("SWEEPTRACKER_BASE_URL", live_url)
    run = st.init(project="demo")
    assert run.base_url == live_url
    run.finish()


def test_it_makes_the_new_run_current(client_env: str) -> None:
    assert (st.run, st.config, st.summary) == (None, None, None)
    first = st.init(config={"lr": 1})
    assert (st.run, st.config, st.summary) == (first, first.config, first.summary)
    st.log({"loss": 1.0})
    second = st.init()
    assert st.run is second
    assert RunRow.objects.get(pk=first.id).state == "finished"
    st.finish()
    assert st.run is None
    assert RunRow.objects.get(pk=second.id).state == "finished"


def test_it_finishes_once(client_env: str) -> None:
    run = st.init()
    run.finish(exit_code=3)
    run.finish()
    row = RunRow.objects.get(pk=run.id)
    assert (row.state, row.exit_code) == ("failed", 3)
    with pytest.raises(SweepTrackerError, match="finished"):
        run.log({"loss": 1})


def test_it_marks_the_run_failed_when_its_block_raises(client_env: str) -> None:
    with pytest.raises(RuntimeError, match="diverged"), st.init() as run:
        run.log({"loss": 1.0})
        raise RuntimeError("diverged")

    row = RunRow.objects.get(pk=run.id)
    assert (row.state, row.exit_code) == ("failed", 1)
    assert row.points.count() == 1


def test_it_marks_the_run_finished_when_its_block_ends(client_env: str) -> None:
    with st.init() as run:
        run.log({"loss": 1.0})

    assert RunRow.objects.get(pk=run.id).state == "finished"


SCRIPT = """
import sweeptracker_client as st

run = st.init(name="script")
run.log({"loss": 1.0})
"""


@pytest.mark.parametrize(
    ("ending", "state", "exit_code"),
    [("", "finished", 0), ("raise SystemExit(0)", "finished", 0), ("1 / 0", "failed", 1)],
)
def test_it_finishes_a_run_left_open_when_the_script_exits(
    client_env: str, ending: str, state: str, exit_code: int
) -> None:
    subprocess.run([sys.executable, "-c", SCRIPT + ending], capture_output=True, timeout=60)

    row = RunRow.objects.get(name="script")
    assert (row.state, row.exit_code, row.points.count()) == (state, exit_code, 1)
