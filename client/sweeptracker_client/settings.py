"""Where the client finds its server, key and project: arguments, then env, then the file.

The file is `$SWEEPTRACKER_DIR/settings.json` (SWEEPTRACKER_DIR defaults to
`~/.sweeptracker`), written by `sweeptracker login`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweeptracker_client.errors import SweepTrackerError

# What each setting is called in the environment, the file, and on the command line.
_ENV = {
    "base_url": "SWEEPTRACKER_BASE_URL",
    "api_key": "SWEEPTRACKER_API_KEY",
    "project": "SWEEPTRACKER_PROJECT",
}
_HOW_TO_SET = {
    "base_url": "run `sweeptracker login`, set SWEEPTRACKER_BASE_URL or pass base_url=",
    "api_key": "run `sweeptracker login`, set SWEEPTRACKER_API_KEY or pass api_key=",
    "project": "pass project=, or set WANDB_PROJECT or SWEEPTRACKER_PROJECT",
}


@dataclass(frozen=True)
class Settings:
    """Server, key and project, each None when nothing set it."""

    base_url: str | None
    api_key: str | None
    project: str | None

    def require(self, name: str) -> str:
        """The setting `name`, or a SweepTrackerError saying how to set it."""
        value: str | None = getattr(self, name)
        if not value:
            raise SweepTrackerError(f"No SweepTracker {name} is set: {_HOW_TO_SET[name]}.")
        return value


def home() -> Path:
    """The client's directory: settings file and spool files live here."""
    return Path(os.environ.get("SWEEPTRACKER_DIR") or Path.home() / ".sweeptracker")


def settings_path() -> Path:
    """Where `sweeptracker login` writes the server and key."""
    return home() / "settings.json"


def spool_dir() -> Path:
    """Where runs that could not reach the server leave their data for `sweeptracker sync`."""
    return home() / "spool"


def read_file() -> dict[str, Any]:
    """The settings file's contents; {} when there is none."""
    path = settings_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise SweepTrackerError(f"Cannot read the settings file {path}: {error}") from error
    if not isinstance(data, dict):
        raise SweepTrackerError(f"The settings file {path} does not hold a JSON object.")
    return data


def write_file(values: dict[str, Any]) -> Path:
    """Merge `values` into the settings file, readable by its owner only; return its path."""
    path = settings_path()
    data = {**read_file(), **values}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Created 0600 from the start, so the key is never readable by others, even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load(
    base_url: str | None = None, api_key: str | None = None, project: str | None = None
) -> Settings:
    """Settings from the arguments, else the environment, else the settings file."""
    given = {"base_url": base_url, "api_key": api_key, "project": project}
    from_file: dict[str, Any] | None = None
    values: dict[str, str | None] = {}
    for name, value in given.items():
        value = value or os.environ.get(_ENV[name])
        if not value:
            # The file is read only when needed, so a broken one cannot stop an env setup.
            from_file = read_file() if from_file is None else from_file
            value = from_file.get(name) or None
        values[name] = value
    if values["base_url"]:
        values["base_url"] = normalize_url(values["base_url"])
    return Settings(**values)


def normalize_url(url: str) -> str:
    """`url` without trailing slashes; SweepTrackerError unless it is http(s)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SweepTrackerError(f"The base URL must start with http:// or https://, not {url!r}.")
    return url


def env_seconds(name: str, default: float) -> float:
    """A duration setting from the environment, in seconds."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SweepTrackerError(f"{name} must be a number of seconds, not {raw!r}.") from None
    if value < 0:
        raise SweepTrackerError(f"{name} must not be negative, not {raw!r}.")
    return value


def spool_after() -> float:
    """Seconds the server may stay away before unsent rows go to the spool file."""
    return env_seconds("SWEEPTRACKER_SPOOL_AFTER", 30.0)


def heartbeat_interval() -> float:
    """Seconds between heartbeats of a live run."""
    return env_seconds("SWEEPTRACKER_HEARTBEAT_INTERVAL", 30.0)


def finish_timeout() -> float:
    """Seconds `finish()` waits for the server before spooling what is left."""
    return env_seconds("SWEEPTRACKER_FINISH_TIMEOUT", 60.0)


def env_count(name: str, default: int) -> int:
    """A whole-number setting from the environment, 0 or more."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SweepTrackerError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 0:
        raise SweepTrackerError(f"{name} must not be negative, not {raw!r}.")
    return value


@dataclass(frozen=True)
class AgentSettings:
    """How an agent waits, watches its runs and gives up; see `agent_settings()`."""

    poll_interval: float
    heartbeat_interval: float
    kill_delay: float
    max_initial_failures: int
    initial_failure_window: float
    max_failures: int


def agent_settings() -> AgentSettings:
    """The agent's settings from the environment; the failure limits default to W&B's.

    SWEEPTRACKER_AGENT_POLL_INTERVAL (5 s) between asks while a sweep is
    paused or busy; SWEEPTRACKER_AGENT_HEARTBEAT_INTERVAL (5 s) between the
    agent's heartbeats of a trial's run; SWEEPTRACKER_AGENT_KILL_DELAY (30 s) from
    SIGTERM to SIGKILL of a command told to stop. The agent gives up after
    SWEEPTRACKER_AGENT_MAX_INITIAL_FAILURES (3) failures within its first
    SWEEPTRACKER_AGENT_INITIAL_FAILURE_WINDOW (60 s), or after
    SWEEPTRACKER_AGENT_MAX_FAILURES (5) failures with no more successes than
    failures; 0 turns a limit off.
    """
    return AgentSettings(
        poll_interval=env_seconds("SWEEPTRACKER_AGENT_POLL_INTERVAL", 5.0),
        heartbeat_interval=env_seconds("SWEEPTRACKER_AGENT_HEARTBEAT_INTERVAL", 5.0),
        kill_delay=env_seconds("SWEEPTRACKER_AGENT_KILL_DELAY", 30.0),
        max_initial_failures=env_count("SWEEPTRACKER_AGENT_MAX_INITIAL_FAILURES", 3),
        initial_failure_window=env_seconds("SWEEPTRACKER_AGENT_INITIAL_FAILURE_WINDOW", 60.0),
        max_failures=env_count("SWEEPTRACKER_AGENT_MAX_FAILURES", 5),
    )
