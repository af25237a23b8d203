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
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError
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
    with Api(base_url, api_key) as api:
        try:
            api.request("GET", "projects/", params={"limit": 1})
        except SweepTrackerError as error:
            if error.status == 401:
                raise SweepTrackerError(
                    f"the server at {base_url} refused the API key: {_detail(error)}"
                ) from error
            raise
    path = settings.write_file({"base_url": base_url, "api_key": api_key})
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


COMMANDS: list[Callable[[Subparsers], None]] = [add_login, add_sync]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sweeptracker",
        description="SweepTracker's command line: log in to a server, upload spooled runs.",
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


def _detail(error: SweepTrackerError) -> str:
    if isinstance(error.detail, dict) and "detail" in error.detail:
        return str(error.detail["detail"])
    return error.message
