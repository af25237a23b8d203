"""`sweeptracker login`: check the key, then save it for later runs."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sweeptracker_client as st
from sweeptracker_client import cli


def test_it_checks_the_key_and_writes_the_settings_file(
    live_url: str, api_key: str, client_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["login", "--base-url", f"{live_url}/", "--api-key", api_key]) == 0

    path = client_home / "settings.json"
    assert json.loads(path.read_text()) == {"base_url": live_url, "api_key": api_key}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"Logged in to {live_url}" in capsys.readouterr().out
    # Runs now find the server and key there.
    run = st.init(project="from-file")
    assert run.base_url == live_url
    run.finish()


def test_it_refuses_a_wrong_key_in_one_line(
    live_url: str, api_key: str, client_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["login", "--base-url", live_url, "--api-key", "st_not-a-real-key"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("sweeptracker: error: the server at")
    assert "refused the API key" in err and err.count("\n") == 1
    assert not (client_home / "settings.json").exists()


def test_it_says_when_the_server_cannot_be_reached(
    client_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["login", "--base-url", "http://localhost:1", "--api-key", "st_x"]) == 1

    err = capsys.readouterr().err
    url = "http://localhost:1"
    assert err == f"sweeptracker: error: cannot reach the server at {url}: Connection refused\n"


def test_it_asks_for_what_is_missing_without_a_terminal(
    client_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["login", "--base-url", "http://localhost:1"]) == 1
    assert "--api-key is needed" in capsys.readouterr().err


def test_it_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "login" in out and "sync" in out
