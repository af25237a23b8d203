"""W&B's command macros, checked against the cases of wandb's own test_agent.py."""

from __future__ import annotations

import re
import sys

import pytest
from sweeptracker_client import SweepTrackerError, macros


def test_it_makes_every_argument_form_as_wandb() -> None:
    forms = macros.arg_forms({"a": True, "b": False, "c": 1, "d": None})

    assert forms["args"] == ["--a=True", "--b=False", "--c=1", "--d=None"]
    assert forms["args_no_hyphens"] == ["a=True", "b=False", "c=1", "d=None"]
    assert forms["args_no_boolean_flags"] == ["--a", "--c=1", "--d=None"]
    assert forms["args_json"] == ['{"a": true, "b": false, "c": 1, "d": null}']
    assert forms["args_append_hydra"] == ["+a=True", "+b=False", "+c=1", "+d=None"]
    assert forms["args_override_hydra"] == ["++a=True", "++b=False", "++c=1", "++d=None"]
    assert forms["args_no_equals"] == ["--a", "True", "--b", "False", "--c", "1", "--d", "None"]


def test_it_replaces_envvars_inside_elements_as_wandb() -> None:
    environ = {"FOO_DIR": "foo_dir", "FOO_DIR_TWO": "foo_dir_two", "FOO_VAR": "foo_var"}
    command = [
        "${env}",
        "--output_dir",
        "fake/path/${envvar:FOO_DIR}/${envvar:FOO_DIR}/${envvar:FOO_DIR_TWO}",
        "--foovar",
        "${envvar:FOO_VAR}",
        "${envvar:NOT_SET}",
    ]

    argv = macros.expand(command, {}, None, "unused.json", environ)

    assert argv[1:] == [
        "--output_dir",
        "fake/path/foo_dir/foo_dir/foo_dir_two",
        "--foovar",
        "foo_var",
        "NOT_SET",  # W&B leaves the name when the variable is not set
    ]


def test_it_runs_the_default_command_with_this_interpreter() -> None:
    argv = macros.expand([], {"lr": 0.1, "model": {"layers": 2}}, "train.py", "p.json", {})

    env = [] if sys.platform == "win32" else ["/usr/bin/env"]
    assert argv == [*env, sys.executable, "train.py", "--lr=0.1", "--model={'layers': 2}"]


@pytest.mark.parametrize(
    ("command", "program", "words"),
    [
        (["python", "${argz}"], "train.py", "unknown macro ${argz}"),
        (["${interpreter}", "${program}"], None, "has no program"),
    ],
)
def test_it_refuses_what_it_cannot_expand(
    command: list[str], program: str | None, words: str
) -> None:
    with pytest.raises(SweepTrackerError, match=re.escape(words)):
        macros.check_command(command, program)
