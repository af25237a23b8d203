"""How a sweep run reaches `init()`: the agent hands it over in this process
(function mode) or through the environment of the command it starts.

Inside an agent, init() joins the run the sweep suggested instead of making
one, with the suggested params in its config. A command's environment holds
SWEEPTRACKER_RUN_ID, SWEEPTRACKER_SWEEP_ID and SWEEPTRACKER_SWEEP_PARAM_PATH,
a file with the params in the format of W&B's WANDB_SWEEP_PARAM_PATH:

    wandb_version: 1

    lr:
      value: 0.01
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sweeptracker_client import settings
from sweeptracker_client.errors import SweepTrackerError

ENV_RUN_ID = "SWEEPTRACKER_RUN_ID"
ENV_SWEEP_ID = "SWEEPTRACKER_SWEEP_ID"
ENV_PARAM_PATH = "SWEEPTRACKER_SWEEP_PARAM_PATH"


@dataclass
class Assignment:
    """A run that the next init() joins, and the params it must hold."""

    run_id: int
    sweep_id: str | None
    params: dict[str, Any]
    base_url: str
    api_key: str
    # The Run that init() made for it, once it did.
    run: Any = None


_offered: Assignment | None = None
_env_taken = False


def offer(assignment: Assignment) -> None:
    """Have the next init() in this process join `assignment`'s run (function mode)."""
    global _offered
    _offered = assignment


def offered() -> Assignment | None:
    """The assignment the next init() will join, if one was offered in this process."""
    return _offered


def withdraw() -> None:
    """The function of the trial returned: init() makes ordinary runs again."""
    global _offered
    _offered = None


def take() -> Assignment | None:
    """The run init() must join, if any; each is joined once."""
    global _env_taken
    if _offered is not None:
        return _offered if _offered.run is None else None
    if _env_taken or not os.environ.get(ENV_RUN_ID):
        return None
    # Once per process: a script that calls init() again wants a new run.
    _env_taken = True
    return from_env()


def from_env() -> Assignment:
    """The assignment an agent put in this command's environment."""
    raw = os.environ[ENV_RUN_ID]
    try:
        run_id = int(raw)
    except ValueError:
        raise SweepTrackerError(f"{ENV_RUN_ID} must be a run id, not {raw!r}.") from None
    found = settings.load()
    path = os.environ.get(ENV_PARAM_PATH)
    return Assignment(
        run_id=run_id,
        sweep_id=os.environ.get(ENV_SWEEP_ID) or None,
        params=read_params(Path(path)) if path else {},
        base_url=found.require("base_url"),
        api_key=found.require("api_key"),
    )


def write_params(path: Path, params: dict[str, Any]) -> None:
    """Write the params file of a run, as W&B's agent writes WANDB_SWEEP_PARAM_PATH."""
    text = "wandb_version: 1\n"
    if params:
        body = {key: {"value": value} for key, value in params.items()}
        text += "\n" + yaml.safe_dump(
            body, default_flow_style=False, allow_unicode=True, sort_keys=False
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def read_params(path: Path) -> dict[str, Any]:
    """The params in a file written by `write_params` (or by W&B's agent)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SweepTrackerError(f"Cannot read the sweep params in {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise SweepTrackerError(f"{path} does not hold sweep params.")
    loaded.pop("wandb_version", None)
    params = {}
    for key, item in loaded.items():
        if not isinstance(item, dict) or "value" not in item:
            raise SweepTrackerError(f"{path}: {key} has no value.")
        params[str(key)] = item["value"]
    return params
