"""A live run, what a training script logs to, and the module's current run.

(Not `run.py`: `sweeptracker_client.run` is the current run, as `wandb.run` is.)
"""

from __future__ import annotations

import atexit
import logging
import operator
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from sweeptracker_client import assignment, settings
from sweeptracker_client.api import Api, RunInfo, retry_while_away
from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.mappings import (
    Config,
    ConfigSource,
    KeyPath,
    Summary,
    leaf_paths,
    merge,
)
from sweeptracker_client.sender import Sender
from sweeptracker_client.spool import Spool
from sweeptracker_client.values import metrics, number_to_wire, to_wire

logger = logging.getLogger("sweeptracker_client")

SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")

_current: Run | None = None
# Runs the interpreter's exit must finish; a strong reference keeps them alive till then.
_unfinished: set[Run] = set()
_exit_hooks_installed = False
_uncaught_exception = False
# The code the script passed to sys.exit(), so that the run ends as the process does.
_exit_code: int | None = None


class Run:
    """A run in progress: log metrics to it, set its config and summary, then finish it.

    Made by `init()`. log() only queues: a background thread sends the data.
    As a context manager it finishes on exit, as failed if an exception escaped.
    In a sweep, `sweep_id` is the sweep's id and the `locked` config paths
    (the swept parameters) cannot be changed.
    """

    def __init__(
        self,
        info: RunInfo,
        base_url: str,
        sender: Sender,
        config: dict[str, Any],
        finish_timeout: float,
        locked: Iterable[KeyPath] = (),
        sweep_id: str | None = None,
    ) -> None:
        self.id = info.id
        self.name = info.name
        self.project = info.project
        self.base_url = base_url
        self.sweep_id = sweep_id
        self._sender = sender
        self._finish_timeout = finish_timeout
        self.config = Config(config, on_change=self._config_changed)
        self.config.lock(locked, "sweep")
        self.summary = Summary(sender.merge_summary, self._summary_replaced)
        self._step = 0
        self._partial: dict[str, float] = {}
        self._warned_step = False
        self._finished = False
        self._finish_lock = threading.Lock()
        sender.start()
        _unfinished.add(self)
        _install_exit_hooks()

    @classmethod
    def start(
        cls,
        project: str | None = None,
        config: ConfigSource | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        notes: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> Run:
        """Create the run on the server (and its project if need be) and start sending."""
        found = settings.load(base_url=base_url, api_key=api_key, project=project)
        base_url, api_key = found.require("base_url"), found.require("api_key")
        project = found.require("project")
        if not SLUG.match(project):
            raise SweepTrackerError(
                f"Project names may hold only letters, digits, - and _, not {project!r}."
            )
        # Checked before anything is created, so a bad value leaves no empty run behind.
        checked = Config(config).as_dict()
        finish_timeout = settings.finish_timeout()
        with Api(base_url, api_key) as api:
            ensure_project(api, project)
            info = api.create_run(project, name, to_wire(checked), list(tags or []), notes)
        return cls(info, base_url, _sender(info, base_url, api_key), checked, finish_timeout)

    @classmethod
    def join(
        cls,
        given: assignment.Assignment,
        project: str | None = None,
        config: ConfigSource | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        notes: str | None = None,
    ) -> Run:
        """Take over the run an agent made for a sweep trial, as init() does inside an agent.

        As in W&B, the sweep's params win over `config` (merged at every
        depth) and are locked; the run keeps its sweep's project.
        """
        checked = Config(config).as_dict()
        finish_timeout = settings.finish_timeout()
        with Api(given.base_url, given.api_key) as api:
            # The agent's run exists already; a server restart is no reason to fail it.
            info = retry_while_away(lambda: api.run(given.run_id))
            # Without a params file the run's own config stands in: it holds the params.
            params = given.params or info.config
            merged = merge(checked, params)
            if project and project != info.project:
                logger.warning(
                    "SweepTracker: ignored project=%r: run %s of sweep %s belongs to %r.",
                    project,
                    info.id,
                    given.sweep_id,
                    info.project,
                )
            fields = _changed_fields(info, merged, name, tags, notes)
            if fields:
                api.update_run(info.id, fields)
                info.name = name or info.name
        sender = _sender(info, given.base_url, given.api_key)
        run = cls(
            info,
            given.base_url,
            sender,
            merged,
            finish_timeout,
            locked=leaf_paths(params) if given.sweep_id else (),
            sweep_id=given.sweep_id,
        )
        given.run = run
        return run

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name!r} of {self.project}: {self.url}>"

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    @property
    def url(self) -> str:
        """The run's page on the server."""
        return f"{self.base_url}/p/{self.project}/runs/{self.id}/"

    @property
    def step(self) -> int:
        """The step the next log() without `step` goes to."""
        return self._step

    @property
    def should_stop(self) -> bool:
        """True once the server asked the run to stop (stopped by hand, or pruned by a sweep)."""
        return self._sender.should_stop

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Record metrics at a step; returns at once, the data is sent in the background.

        As in W&B: without `step`, the row goes to the current step, which then
        advances. With `step`, data collects at that step (a lower step is
        ignored with a warning) until a later step is logged or `commit=True`.
        `commit=False` collects without advancing. Values must be numbers
        (NaN and infinities too); anything else raises TypeError naming the key.
        """
        if self._finished:
            raise SweepTrackerError(f"Run {self.id} is finished; start another with init().")
        values = metrics(data)
        if step is not None:
            step = _check_step(step)
            if step < self._step:
                self._warn_low_step(step)
                return
            if step > self._step:
                self._commit()
                self._step = step
        elif commit is None:
            commit = True
        self._partial.update(values)
        self.summary._logged(values)
        if commit:
            self._commit()

    def _commit(self) -> None:
        if not self._partial:
            return
        values = {key: number_to_wire(value) for key, value in self._partial.items()}
        self._sender.add_row({"step": self._step, "time": time.time(), "values": values})
        self._partial = {}
        self._step += 1

    def _warn_low_step(self, step: int) -> None:
        if not self._warned_step:
            self._warned_step = True
            logger.warning(
                "SweepTracker: step %d is lower than the current step %d of run %s; steps must "
                "increase, so that data is ignored (this is said once per run).",
                step,
                self._step,
                self.id,
            )

    def _config_changed(self) -> None:
        self._sender.replace("config", to_wire(self.config.as_dict()))

    def _summary_replaced(self, summary: dict[str, Any]) -> None:
        self._sender.replace("summary", summary)

    @property
    def finished(self) -> bool:
        """True once finish() (or kill()) was called."""
        return self._finished

    def finish(self, exit_code: int = 0, timeout: float | None = None) -> None:
        """Send what is left and end the run (exit code 0: finished, else failed).

        Waits at most `timeout` seconds (SWEEPTRACKER_FINISH_TIMEOUT, 60 by
        default); what could not be sent by then is kept in a spool file for
        `sweeptracker sync`. Calling it again does nothing.
        """
        self._end(exit_code, timeout, None)

    def kill(self, timeout: float | None = None) -> None:
        """Send what is left and end the run as killed (what an agent does on Ctrl-C)."""
        self._end(None, timeout, "killed")

    def _end(self, exit_code: int | None, timeout: float | None, state: str | None) -> None:
        global _current
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        self._commit()
        _unfinished.discard(self)
        if _current is self:
            _current = None
        wait = self._finish_timeout if timeout is None else timeout
        self._sender.close(exit_code, wait, state)


def _sender(info: RunInfo, base_url: str, api_key: str) -> Sender:
    """The background sender of a run, spooling to its own file."""
    spool = Spool(
        settings.spool_dir() / f"{info.id}.jsonl",
        {"base_url": base_url, "project": info.project, "run_id": info.id, "name": info.name},
    )
    return Sender(
        Api(base_url, api_key),
        info.id,
        spool,
        spool_after=settings.spool_after(),
        heartbeat_interval=settings.heartbeat_interval(),
    )


def _changed_fields(
    info: RunInfo,
    config: dict[str, Any],
    name: str | None,
    tags: Sequence[str] | None,
    notes: str | None,
) -> dict[str, Any]:
    """What init() asks to change on a run it joins."""
    fields: dict[str, Any] = {}
    if config != info.config:
        fields["config"] = to_wire(config)
    if name:
        fields["name"] = name
    if tags:
        fields["tags"] = list(tags)
    if notes:
        fields["notes"] = notes
    return fields


def _check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError(f"step must be a whole number, not {step!r}")
    try:
        step = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be a whole number, not {step!r}") from None
    if step < 0:
        raise ValueError(f"step must be 0 or more, not {step}")
    return step


def ensure_project(api: Api, slug: str) -> None:
    """Make sure the project exists and is yours to log to, creating it if need be."""
    try:
        api.project(slug)
        return
    except SweepTrackerError as error:
        if error.status != 404:
            raise
    try:
        api.create_project(slug)
    except SweepTrackerError as error:
        taken = isinstance(error.detail, dict) and "exist" in str(error.detail.get("slug", ""))
        if error.status != 400 or not taken:
            raise
        raise SweepTrackerError(
            f"Project {slug!r} exists but you are not a member of it: ask one of its admins "
            "to add you, or log to another project.",
            error.status,
            error.detail,
        ) from error


def current() -> Run | None:
    """The run made by the last init(), until it finishes."""
    return _current


def init(
    project: str | None = None,
    config: ConfigSource | None = None,
    name: str | None = None,
    tags: Sequence[str] | None = None,
    notes: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Run:
    """Start a run and make it the current one (finishing the previous current run).

    `project`, `base_url` and `api_key` default to SWEEPTRACKER_PROJECT,
    SWEEPTRACKER_BASE_URL and SWEEPTRACKER_API_KEY, then to the settings file
    written by `sweeptracker login`. The project is created if it does not exist.

    Inside a sweep agent, init() joins the run the sweep suggested instead:
    `run.config` holds the suggested params (over `config`), and they are locked.
    """
    global _current
    if _current is not None:
        _current.finish()
    given = assignment.take()
    if given is not None:
        run = Run.join(given, project, config, name, tags, notes)
    else:
        run = Run.start(project, config, name, tags, notes, base_url, api_key)
    _current = run
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    """Log to the current run; see Run.log."""
    if _current is None:
        raise SweepTrackerError("No run to log to: call sweeptracker_client.init() first.")
    _current.log(data, step=step, commit=commit)


def finish(exit_code: int = 0, timeout: float | None = None) -> None:
    """Finish the current run, if there is one; see Run.finish."""
    if _current is not None:
        _current.finish(exit_code=exit_code, timeout=timeout)


def _install_exit_hooks() -> None:
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    atexit.register(_finish_at_exit)
    previous = sys.excepthook
    original_exit = sys.exit

    def exit_hook(status: object = None) -> None:
        # As wandb does: remembered so that sys.exit(1) ends the run failed, not finished.
        global _exit_code
        _exit_code = _code_of(status)
        original_exit(status)

    sys.exit = exit_hook  # type: ignore[assignment]

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        # Remembered so that a script that crashed is not recorded as finished.
        global _uncaught_exception
        _uncaught_exception = True
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook


def _code_of(status: object) -> int:
    """The process exit code of sys.exit(status)."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    return 1


def _finish_at_exit() -> None:
    exit_code = 1 if _uncaught_exception else (_exit_code or 0)
    for run in list(_unfinished):
        run.finish(exit_code=exit_code)
