"""The command of a sweep run, with W&B's macros expanded as W&B's agent does.

Follows wandb/wandb_agent.py (`Agent._command_run`) and
wandb/sdk/launch/sweeps/utils.py (`create_sweep_command`,
`create_sweep_command_args`):

- `${envvar:NAME}` anywhere inside an element becomes the variable's value
  (its name when it is not set, as in W&B); this happens first.
- An element that is a whole `${macro}` becomes zero or more elements:
  `${env}` is /usr/bin/env (nothing on Windows), `${interpreter}` the Python
  that runs the agent (W&B writes "python"; see INTERPRETER), `${program}`
  the config's program, and for each top-level parameter, in order:
  `${args}` --name=value, `${args_no_equals}` --name value (two elements),
  `${args_no_hyphens}` name=value, `${args_no_boolean_flags}` --name=value
  but --name for true and nothing for false, `${args_append_hydra}`
  +name=value, `${args_override_hydra}` ++name=value, `${args_json}` one
  element of JSON, `${args_json_file}` the path of a file holding that JSON.
- A value is written with Python's str(), as W&B does: True, None, and a
  nested dict as {'layers': 3}; ${args_json} keeps every type.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sweeptracker_client.errors import SweepTrackerError

DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
# W&B's pattern: upper-case names only.
ENVVAR = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")
# W&B runs "python", which may be missing or another environment's; the
# agent's own interpreter has the client installed, as the run's init() needs.
INTERPRETER = sys.executable or "python"
ARG_MACROS = (
    "args",
    "args_no_equals",
    "args_no_hyphens",
    "args_no_boolean_flags",
    "args_append_hydra",
    "args_override_hydra",
    "args_json",
    "args_json_file",
)
MACROS = ("env", "interpreter", "program", *ARG_MACROS)


def arg_forms(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """The params in each of W&B's argument forms, keyed by macro name (not args_json_file)."""
    forms: dict[str, list[str]] = {name: [] for name in ARG_MACROS if name != "args_json_file"}
    for name, value in params.items():
        flag = f"{name}={value}"
        forms["args"].append(f"--{flag}")
        forms["args_no_equals"] += [f"--{name}", str(value)]
        forms["args_no_hyphens"].append(flag)
        if isinstance(value, bool):
            if value:
                forms["args_no_boolean_flags"].append(f"--{name}")
        else:
            forms["args_no_boolean_flags"].append(f"--{flag}")
        forms["args_append_hydra"].append(f"+{flag}")
        forms["args_override_hydra"].append(f"++{flag}")
    forms["args_json"] = [json.dumps(dict(params))]
    return forms


def substitute_envvars(item: str, environ: Mapping[str, str] | None = None) -> str:
    """`item` with each ${envvar:NAME} replaced by NAME's value (NAME itself when unset)."""
    environ = os.environ if environ is None else environ
    return ENVVAR.sub(lambda m: environ.get(m.group(1), m.group(1)), item)


def check_command(
    command: Sequence[Any], program: str | None, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse, before any run starts, a command that cannot be expanded."""
    for item in command:
        text = substitute_envvars(str(item), environ)
        if not (text.startswith("${") and text.endswith("}")):
            continue
        name = text[2:-1]
        if name not in MACROS:
            # W&B drops an unknown macro silently; a typo deserves better.
            known = ", ".join(f"${{{m}}}" for m in MACROS)
            raise SweepTrackerError(
                f"The sweep's command has an unknown macro {text}; known: {known}, "
                "and ${envvar:NAME} inside an element."
            )
        if name == "program" and not program:
            raise SweepTrackerError(
                "The sweep's command uses ${program} but its config has no program; "
                "add `program: train.py` (the script to run) to the config."
            )


def expand(
    command: Sequence[Any],
    params: Mapping[str, Any],
    program: str | None,
    json_file: str,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv of a run: `command` (W&B's default when empty) with every macro expanded."""
    command = list(command) or list(DEFAULT_COMMAND)
    check_command(command, program, environ)
    values = arg_forms(params)
    values["env"] = [] if sys.platform == "win32" else ["/usr/bin/env"]
    values["interpreter"] = [INTERPRETER]
    values["program"] = [program] if program else []
    values["args_json_file"] = [json_file]
    argv: list[str] = []
    for item in command:
        text = substitute_envvars(str(item), environ)
        if text.startswith("${") and text.endswith("}"):
            argv += values[text[2:-1]]
        else:
            argv.append(text)
    return argv


def uses_json_file(command: Sequence[Any]) -> bool:
    """Whether the command needs the ${args_json_file} file written."""
    return any(substitute_envvars(str(item)) == "${args_json_file}" for item in command)
