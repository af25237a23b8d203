"""The `sweeptracker` command.

Each subcommand is a function that adds its parser and sets `handler`, listed
in COMMANDS; a handler takes the parsed arguments and returns the exit code.
To add one (say `sweep`), write `add_sweep(subparsers)` and `sweep(args)` and
append `add_sweep` to COMMANDS.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sweeptracker_client import settings
from sweeptracker_client.agents import Agent, parse_sweep_id
from sweeptracker_client.api import Api
from sweeptracker_client.controller import sweep as create_sweep
from sweeptracker_client.errors import SweepConfigError, SweepTrackerError
from sweeptracker_client.login import check_and_save
from sweeptracker_client.spool import spool_files, sync_file

Subparsers = Any  # argparse's _SubParsersAction is private


def add_login(subparsers: Subparsers) -> None:
    """`sweeptracker login`: check a server URL and API key and save them."""
    parser = subparsers.add_parser(
        "login",
        help="save the server URL and API key for later runs",
        description=(
            "Check that the server accepts the API key, then save both in "
            f"{settings.settings_path()} (readable by you only). Missing values are "
            "taken from SWEEPTRACKER_BASE_URL / SWEEPTRACKER_API_KEY, or asked for."
        ),
    )
    parser.add_argument("--base-url", help="the server's URL, e.g. https://sweeps.example.com")
    parser.add_argument("--api-key", help="an API key from the server's keys page")
    parser.set_defaults(handler=login)


def login(args: argparse.Namespace) -> int:
    """Verify the key against the server and write the settings file."""
    base_url = _value(args.base_url, "SWEEPTRACKER_BASE_URL", "Server URL: ", secret=False)
    api_key = _value(args.api_key, "SWEEPTRACKER_API_KEY", "API key: ", secret=True)
    base_url = settings.normalize_url(base_url)
    path = check_and_save(base_url, api_key)
    print(f"Logged in to {base_url}; saved to {path}.")
    return 0


def add_sync(subparsers: Subparsers) -> None:
    """`sweeptracker sync`: upload spool files."""
    parser = subparsers.add_parser(
        "sync",
        help="upload the data of runs that could not reach the server",
        description=(
            "Upload every spool file (rows in order, then the run's finish) and remove "
            "each once done. Safe to run again: the server stores each point once."
        ),
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=f"the spool directory (default: {settings.spool_dir()})",
    )
    parser.set_defaults(handler=sync)


def sync(args: argparse.Namespace) -> int:
    """Upload every spool file in the directory; exit code 1 if any could not be."""
    directory: Path = args.dir or settings.spool_dir()
    paths = spool_files(directory)
    if not paths:
        print(f"Nothing to sync in {directory}.")
        return 0
    api_key = settings.load().require("api_key")
    failed = 0
    for path in paths:
        try:
            report = sync_file(path, api_key)
        except (SweepTrackerError, OSError) as error:
            print(f"sweeptracker: error: {error}", file=sys.stderr)
            failed += 1
            continue
        if report is None:
            continue
        for warning in report.warnings:
            print(f"sweeptracker: warning: {path.name}: {warning}", file=sys.stderr)
        print(report.describe())
    return 1 if failed else 0


# `sweep --FLAG ID` -> the sweep action it takes; --stop is W&B's word for finish.
SWEEP_FLAGS = {"pause": "pause", "resume": "resume", "stop": "finish", "cancel": "cancel"}


def add_sweep(subparsers: Subparsers) -> None:
    """`sweeptracker sweep`: create a sweep from a config file, or pause/resume/stop/cancel one."""
    parser = subparsers.add_parser(
        "sweep",
        help="create a sweep from a W&B sweep config, or pause, resume, stop or cancel one",
        description=(
            "With CONFIG (a W&B sweep config, YAML or JSON): create the sweep, show its\n"
            "page and the command that starts an agent (on stderr), and print its id\n"
            "(on stdout: SWEEP_ID=$(sweeptracker sweep sweep.yaml)). The project is\n"
            "--project, else the config's `project`, else SWEEPTRACKER_PROJECT; it is\n"
            "created if need be. With a flag and a SWEEP_ID: change the sweep's state."
        ),
        epilog=(
            "examples:\n"
            "  sweeptracker sweep sweep.yaml --project mnist\n"
            "  sweeptracker sweep --pause abc12345"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="CONFIG | SWEEP_ID", help="config file, or sweep id")
    parser.add_argument("--project", help="the project to create the sweep in")
    parser.add_argument("--name", help="the sweep's name (default: the config's, else 'sweep')")
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument("--pause", action="store_true", help="agents wait until --resume")
    actions.add_argument("--resume", action="store_true", help="hand out trials again")
    actions.add_argument(
        "--stop", action="store_true", help="no new trials; running ones finish normally"
    )
    actions.add_argument("--cancel", action="store_true", help="no new trials; kill running ones")
    parser.set_defaults(handler=sweep)


def sweep(args: argparse.Namespace) -> int:
    """Create the sweep, or apply the flag's action to it."""
    flag = next((name for name in SWEEP_FLAGS if getattr(args, name)), None)
    if flag is None:
        sweep_id = create_sweep(Path(args.target), project=args.project, name=args.name)
        # The id alone on stdout, so that `SWEEP_ID=$(sweeptracker sweep x.yaml)` works.
        print(sweep_id)
        return 0
    if args.project or args.name:
        raise SweepTrackerError(f"--{flag} takes a sweep id only, not --project or --name.")
    sweep_id = parse_sweep_id(args.target)[1]
    with Api() as api:
        info = api.sweep_action(sweep_id, SWEEP_FLAGS[flag])
    print(f"Sweep {info.id} is {info.state}: {info.url}")
    return 0


def add_agent(subparsers: Subparsers) -> None:
    """`sweeptracker agent`: run a sweep's command for trial after trial."""
    parser = subparsers.add_parser(
        "agent",
        help="run trials of a sweep: its command, with the suggested params",
        description=(
            "Ask the sweep for a trial, run the config's `command` (default: ${env} "
            "${interpreter} ${program} ${args}) with the params, and repeat until the "
            "sweep is done, --count trials ran, or runs keep failing. Start as many "
            "agents as you like, on as many machines. While paused, agents wait."
        ),
        epilog=(
            "settings (environment): SWEEPTRACKER_AGENT_POLL_INTERVAL (5 s), "
            "SWEEPTRACKER_AGENT_HEARTBEAT_INTERVAL (5 s), SWEEPTRACKER_AGENT_KILL_DELAY "
            "(30 s), SWEEPTRACKER_AGENT_MAX_INITIAL_FAILURES (3) within "
            "SWEEPTRACKER_AGENT_INITIAL_FAILURE_WINDOW (60 s), "
            "SWEEPTRACKER_AGENT_MAX_FAILURES (5)."
        ),
    )
    parser.add_argument("sweep_id", metavar="SWEEP_ID", help="ID, PROJECT/ID or ENTITY/PROJECT/ID")
    parser.add_argument("--count", type=_positive, help="run at most N trials")
    parser.add_argument("--project", help="refuse a sweep of another project")
    parser.set_defaults(handler=agent)


def agent(args: argparse.Namespace) -> int:
    """Run the agent; 1 when it gave up on failing runs, 130 on Ctrl-C."""
    report = Agent(args.sweep_id, count=args.count, project=args.project).run()
    if report.stop_reason == "interrupted":
        return 130
    return 1 if report.stop_reason == "failures" else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


COMMANDS: list[Callable[[Subparsers], None]] = [add_login, add_sync, add_sweep, add_agent]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sweeptracker",
        description=(
            "SweepTracker's command line: log in to a server, upload spooled runs, "
            "create and steer sweeps, run sweep agents."
        ),
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SweepConfigError as error:
        # One line per problem, so that each can be read (and grepped) alone.
        for problem in error.problems:
            print(f"sweeptracker: error: {args.target}: {problem}", file=sys.stderr)
        return 1
    except (SweepTrackerError, OSError) as error:
        print(f"sweeptracker: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sweeptracker: interrupted", file=sys.stderr)
        return 130


def _value(given: str | None, env: str, prompt: str, secret: bool) -> str:
    """An option's value: the argument, else the environment, else asked for on a terminal."""
    value = given or os.environ.get(env)
    if not value and sys.stdin.isatty():
        value = getpass.getpass(prompt) if secret else input(prompt)
    if not value or not value.strip():
        option = "--api-key" if secret else "--base-url"
        raise SweepTrackerError(f"{option} is needed (or set {env}).")
    return value.strip()
