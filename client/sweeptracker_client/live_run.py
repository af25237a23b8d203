"""A live run, what a training script logs to, and the module's current run.

(Not `run.py`: `sweeptracker_client.run` is the current run, as `wandb.run` is.)
"""

from __future__ import annotations

import atexit
import logging
import operator
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from sweeptracker_client import assignment, media, run_start, settings
from sweeptracker_client.api import Api, RunInfo, retry_while_away
from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.init_options import (
    InitOptions,
    Settings,
    apply_fields,
    changed_fields,
    check_tags,
    initial_config,
    local_info,
    make_run_dir,
    new_run_id,
    resume_target,
    run_spec,
    update_resumed,
    write_resume_file,
)
from sweeptracker_client.mappings import (
    Config,
    ConfigSource,
    KeyPath,
    Summary,
    leaf_paths,
    merge,
)
from sweeptracker_client.metric_defs import Metric, MetricDefs, make_metric
from sweeptracker_client.run_start import SLUG, ensure_project
from sweeptracker_client.sender import NullSender, OfflineSender, Sender
from sweeptracker_client.spool import Spool
from sweeptracker_client.values import row_value, split_logged, to_wire

logger = logging.getLogger("sweeptracker_client")

# Kept importable from here: the sweep controller checks and makes projects with them.
__all__ = ["SLUG", "Run", "current", "define_metric", "ensure_project", "finish", "init", "log"]

_current: Run | None = None
# Runs the interpreter's exit must finish; a strong reference keeps them alive till then.
_unfinished: set[Run] = set()
_exit_hooks_installed = False
_uncaught_exception = False
# The code the script passed to sys.exit(), so that the run ends as the process does.
_exit_code: int | None = None


class Run:
    """A run in progress: log metrics to it, set its config and summary, then finish it.

    Made by `init()`, with W&B's attributes: `id` (a str), `name` (settable),
    `project`, `entity` (the project's owner), `path`, `url`, `group`,
    `job_type`, `notes`, `tags`, `sweep_id`, `dir`, `start_time`, `resumed`.
    log() only queues: a background thread sends the data. As a context
    manager it finishes on exit, as failed if an exception escaped. In a sweep,
    the `locked` config paths (the swept parameters) cannot be changed.
    """

    def __init__(
        self,
        info: RunInfo,
        base_url: str | None,
        sender: Sender | NullSender,
        config: dict[str, Any],
        finish_timeout: float,
        locked: Iterable[KeyPath] = (),
        sweep_id: str | None = None,
        *,
        mode: str = "online",
        run_dir: Path | None = None,
        resume_file: Path | None = None,
    ) -> None:
        self.id: str = info.id
        self.pk = info.pk
        self._name = info.name
        self.project = info.project
        self.entity = info.entity
        self.group = info.group
        self.job_type = info.job_type
        self._notes = info.notes
        self._tags = tuple(info.tags)
        self.base_url = base_url
        self.sweep_id = sweep_id or info.sweep
        self.mode = mode
        self.resumed = info.resumed
        # A resumed run goes on after its last step, as W&B's does.
        self.starting_step = (
            info.last_step + 1 if info.resumed and info.last_step is not None else 0
        )
        created = info.created_at.timestamp() if info.created_at and info.resumed else None
        self.start_time = created or time.time()
        self._url = info.url
        self.dir = str(run_dir or tempfile.mkdtemp(prefix="sweeptracker-run-"))
        self._resume_file = resume_file
        self._sender = sender
        self._finish_timeout = finish_timeout
        self.config = Config(config, on_change=self._config_changed)
        self.config.lock(locked, "sweep")
        self.summary = Summary(sender.merge_summary, self._summary_replaced)
        if info.resumed:
            self.summary._restore(info.summary)
        self._metric_defs = MetricDefs()
        self._step = self.starting_step
        self._partial: dict[str, bool | int | float] = {}
        # Whether anything was logged at the current step (a row of strings only too).
        self._logged_here = False
        self._warned_step = False
        self._finished = False
        self._finish_lock = threading.Lock()
        sender.start()
        _unfinished.add(self)
        _install_exit_hooks()

    @classmethod
    def start(
        cls,
        options: InitOptions,
        config: dict[str, Any],
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> Run:
        """Create the run on the server (and its project if need be), or resume the one
        with `options.id`, and start sending."""
        found = settings.load(base_url=base_url, api_key=api_key, project=options.project)
        base_url, api_key = found.require("base_url"), found.require("api_key")
        project = run_start.check_slug(found.require("project"))
        run_id, resume, resume_file = resume_target(options)
        spec = run_spec(options, config, run_id, resume)
        with Api(base_url, api_key) as api:
            info = run_start.create(api, project, spec)
            if info.resumed:
                config = update_resumed(api, info, options, config)
        if resume_file is not None:
            write_resume_file(resume_file, info.id)
        return cls(
            info,
            base_url,
            _sender(info, base_url, api_key),
            config,
            settings.finish_timeout(),
            mode="online",
            run_dir=make_run_dir(options, info.id),
            resume_file=resume_file,
        )

    @classmethod
    def start_offline(
        cls,
        options: InitOptions,
        config: dict[str, Any],
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> Run:
        """A run that writes everything to its spool file; `sweeptracker sync` creates it
        on the server later, with the same id."""
        found = settings.load(base_url=base_url, api_key=api_key, project=options.project)
        project = run_start.check_slug(found.require("project"))
        if options.resume:
            logger.warning(
                "SweepTracker: resume=%r has no effect offline (the server knows the last "
                "step); `sweeptracker sync` adds this run's data to the run with its id.",
                options.resume,
            )
        info = local_info(options, config, project, options.id or new_run_id())
        spec = run_spec(options, to_wire(config), info.id, "allow")
        header = {
            "base_url": found.base_url,
            "project": project,
            "run_id": info.id,
            "name": info.name,
            "create": spec,
        }
        spool = Spool(settings.spool_dir() / f"{info.id}.jsonl", header)
        sender = OfflineSender(None, info.id, spool, spool_after=0.0, heartbeat_interval=3600.0)
        logger.info("SweepTracker: run %s is offline; its data goes to %s", info.id, spool.path)
        return cls(
            info,
            found.base_url,
            sender,
            config,
            settings.finish_timeout(),
            mode="offline",
            run_dir=make_run_dir(options, info.id),
        )

    @classmethod
    def start_disabled(cls, options: InitOptions, config: dict[str, Any]) -> Run:
        """A run on which every call works and nothing is sent, as W&B's mode="disabled"."""
        project = options.project or os.environ.get("SWEEPTRACKER_PROJECT") or ""
        info = local_info(options, config, project, options.id or new_run_id())
        return cls(info, None, NullSender(), config, 0.0, mode="disabled")

    @classmethod
    def join(
        cls,
        given: assignment.Assignment,
        options: InitOptions,
        config: dict[str, Any],
    ) -> Run:
        """Take over the run an agent made for a sweep trial, as init() does inside an agent.

        As in W&B, the sweep's params win over `config` (merged at every
        depth) and are locked; the run keeps its sweep's project.
        """
        finish_timeout = settings.finish_timeout()
        with Api(given.base_url, given.api_key) as api:
            # The agent's run exists already; a server restart is no reason to fail it.
            info = retry_while_away(lambda: api.run_info(given.run_id))
            # Without a params file the run's own config stands in: it holds the params.
            params = given.params or info.config
            merged = merge(config, params)
            if options.project and options.project != info.project:
                logger.warning(
                    "SweepTracker: ignored project=%r: run %s of sweep %s belongs to %r.",
                    options.project,
                    info.id,
                    given.sweep_id,
                    info.project,
                )
            fields = changed_fields(info, merged, options)
            if fields:
                api.update_run(info.ref, fields)
                apply_fields(info, fields)
        sender = _sender(info, given.base_url, given.api_key)
        run = cls(
            info,
            given.base_url,
            sender,
            merged,
            finish_timeout,
            locked=leaf_paths(params) if given.sweep_id else (),
            sweep_id=given.sweep_id,
            run_dir=make_run_dir(options, info.id),
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

    # W&B's attributes.

    @property
    def name(self) -> str:
        """The run's display name; setting it renames the run on the server."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = str(name)
        self._sender.replace("name", self._name)

    @property
    def notes(self) -> str:
        """The run's notes; setting them changes them on the server."""
        return self._notes

    @notes.setter
    def notes(self, notes: str) -> None:
        self._notes = str(notes)
        self._sender.replace("notes", self._notes)

    @property
    def tags(self) -> tuple[str, ...]:
        """The run's tags; set a new tuple (`run.tags += ("new",)`) to change them."""
        return self._tags

    @tags.setter
    def tags(self, tags: Sequence[str]) -> None:
        self._tags = tuple(check_tags(tags))
        self._sender.replace("tags", list(self._tags))

    @property
    def url(self) -> str | None:
        """The run's page on the server (None for a disabled run)."""
        if self._url:
            return self._url
        if not self.base_url:
            return None
        return f"{self.base_url}/p/{self.project}/runs/{self.id}/"

    @property
    def path(self) -> str:
        """`entity/project/id`, as W&B's `run.path` (and what `Api().run()` takes)."""
        return "/".join(part for part in (self.entity, self.project, self.id) if part)

    @property
    def offline(self) -> bool:
        """True in mode="offline"."""
        return self.mode == "offline"

    @property
    def disabled(self) -> bool:
        """True in mode="disabled"."""
        return self.mode == "disabled"

    @property
    def step(self) -> int:
        """The step the next log() without `step` goes to."""
        return self._step

    @property
    def should_stop(self) -> bool:
        """True once the server asked the run to stop (stopped by hand, or pruned by a sweep)."""
        return self._sender.should_stop

    def get_url(self) -> str | None:
        """The run's page, as W&B's deprecated `run.get_url()`."""
        return self.url

    # Logging.

    def log(
        self,
        data: Mapping[str, Any],
        step: int | None = None,
        commit: bool | None = None,
        sync: bool | None = None,
    ) -> None:
        """Record values at a step; returns at once, the data is sent in the background.

        As in W&B: without `step`, the row goes to the current step, which then
        advances. With `step`, data collects at that step (a lower step is
        ignored with a warning) until a later step is logged or `commit=True`.
        `commit=False` collects without advancing. Nested dicts become `a/b`
        keys. Numbers (ints and bools kept as such, numpy scalars too) go to the
        history; strings and other values go to the summary only. `sync` has no
        effect (deprecated in W&B).
        """
        if self._finished:
            raise SweepTrackerError(f"Run {self.id} is finished; start another with init().")
        logged = split_logged(data)
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
        self._partial.update(logged.numbers)
        self._logged_here = self._logged_here or bool(data)
        self.summary._logged(self._metric_defs.observe({**logged.numbers, **logged.others}))
        self._send_definitions()
        if commit:
            self._commit()

    def _commit(self) -> None:
        if not self._logged_here:
            return
        if self._partial:
            row = dict(self._partial)
            self._metric_defs.sync_steps(row)
            values = {key: row_value(value) for key, value in row.items()}
            self._sender.add_row({"step": self._step, "time": time.time(), "values": values})
            self._send_definitions()
        self._partial = {}
        self._logged_here = False
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

    def define_metric(
        self,
        name: str,
        step_metric: str | Metric | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> Metric:
        """Say what the summary keeps of a metric and which metric is its x-axis, as W&B's.

        `summary`: "min", "max", "mean", "first", "last", "best" (with `goal`
        "minimize" or "maximize") or "none", several joined by commas; the
        summary then holds a dict of them (`{"min": 0.1}`). `name` may end in
        `*` to define every metric it prefixes (`"val/*"`). With `step_metric`,
        charts plot the metric against it, and (unless `step_sync=False`) a row
        that lacks the step metric gets its last value. Later calls for a name
        merge into earlier ones unless `overwrite=True`.
        """
        metric = self._metric_defs.define(
            make_metric(name, step_metric, step_sync, hidden, summary, goal), overwrite
        )
        self._send_definitions()
        return metric

    def _send_definitions(self) -> None:
        if self._metric_defs.unsent:
            self._sender.add_metrics(self._metric_defs.take_unsent())

    def _config_changed(self) -> None:
        self._sender.replace("config", to_wire(self.config.as_dict()))

    def _summary_replaced(self, summary: dict[str, Any]) -> None:
        self._sender.replace("summary", summary)

    # What the server does not keep (see `media`): accepted, warned about once.

    def watch(self, models: Any, *args: Any, **kwargs: Any) -> None:
        """W&B's gradient and parameter logging: not recorded here."""
        media.not_kept_call("watch")

    def unwatch(self, models: Any = None) -> None:
        """Nothing is watched."""
        media.not_kept_call("watch")

    def save(self, glob_str: str | None = None, *args: Any, **kwargs: Any) -> bool:
        """W&B uploads files: not here. The files stay where they are."""
        media.not_kept_call("save")
        return True

    def log_artifact(
        self, artifact_or_path: Any, name: str | None = None, type: str | None = None, **kwargs: Any
    ) -> media.Artifact:  # noqa: E501
        """W&B stores the artifact: not here; returns it, stored nowhere."""
        return media.artifact_of(artifact_or_path if name is None else name, type)

    def use_artifact(
        self, artifact_or_name: Any, type: str | None = None, **kwargs: Any
    ) -> media.Artifact:  # noqa: E501
        """An Artifact object; its files cannot be downloaded (artifacts are not stored)."""
        return media.artifact_of(artifact_or_name, type)

    def log_model(self, path: Any, name: str | None = None, **kwargs: Any) -> None:
        """W&B stores the model as an artifact: not here."""
        media.warn_not_kept("Artifact")

    def alert(self, title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
        """W&B sends the alert by mail or Slack: not here."""
        media.not_kept_call("alert")

    def log_code(self, root: str | None = ".", name: str | None = None, **kwargs: Any) -> None:
        """W&B saves the code as an artifact: not here."""
        media.not_kept_call("log_code")

    def mark_preempting(self) -> None:
        """W&B marks the run as about to be preempted; here a resumed run simply goes on."""

    # The end.

    @property
    def finished(self) -> bool:
        """True once finish() (or kill()) was called."""
        return self._finished

    def finish(
        self, exit_code: int | None = None, quiet: bool | None = None, timeout: float | None = None
    ) -> None:
        """Send what is left and end the run (exit code 0 or None: finished, else failed).

        Waits at most `timeout` seconds (SWEEPTRACKER_FINISH_TIMEOUT, 60 by
        default); what could not be sent by then is kept in a spool file for
        `sweeptracker sync`. Calling it again does nothing. `quiet` has no
        effect (deprecated in W&B).
        """
        self._end(exit_code or 0, timeout, None)

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
        if exit_code == 0 and self._resume_file is not None:
            # Ended well: the next resume="auto" run starts afresh, as in W&B.
            self._resume_file.unlink(missing_ok=True)


def _sender(info: RunInfo, base_url: str, api_key: str) -> Sender:
    """The background sender of a run, spooling to its own file."""
    spool = Spool(
        settings.spool_dir() / f"{info.ref}.jsonl",
        {"base_url": base_url, "project": info.project, "run_id": info.ref, "name": info.name},
    )
    return Sender(
        Api(base_url, api_key),
        info.ref,
        spool,
        spool_after=settings.spool_after(),
        heartbeat_interval=settings.heartbeat_interval(),
    )


def _check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError(f"step must be a whole number, not {step!r}")
    try:
        number: int = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be a whole number, not {step!r}") from None
    if number < 0:
        raise ValueError(f"step must be 0 or more, not {number}")
    return number


def current() -> Run | None:
    """The run made by the last init(), until it finishes."""
    return _current


def init(
    entity: str | None = None,
    project: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    id: str | None = None,
    name: str | None = None,
    notes: str | None = None,
    tags: Sequence[str] | None = None,
    config: ConfigSource | str | None = None,
    config_exclude_keys: list[str] | None = None,
    config_include_keys: list[str] | None = None,
    allow_val_change: bool | None = None,
    group: str | None = None,
    job_type: str | None = None,
    mode: str | None = None,
    force: bool | None = None,
    reinit: bool | str | None = None,
    resume: bool | str | None = None,
    resume_from: str | None = None,
    fork_from: str | None = None,
    save_code: bool | None = None,
    tensorboard: bool | None = None,
    sync_tensorboard: bool | None = None,
    monitor_gym: bool | None = None,
    settings: Settings | dict[str, Any] | None = None,
    anonymous: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Run:
    """Start a run and make it the current one, with W&B's arguments.

    `project`, `name`, `notes`, `tags`, `group`, `job_type`, `mode`, `id`,
    `resume` and `dir` fall back to WANDB_PROJECT, WANDB_NAME, WANDB_NOTES,
    WANDB_TAGS, WANDB_RUN_GROUP, WANDB_JOB_TYPE, WANDB_MODE, WANDB_RUN_ID,
    WANDB_RESUME and WANDB_DIR; the project then to SWEEPTRACKER_PROJECT. The
    server and key are `base_url`/`api_key`, else SWEEPTRACKER_BASE_URL and
    SWEEPTRACKER_API_KEY, else `sweeptracker login`'s file (never WANDB_API_KEY).
    The project is created if it does not exist; `entity`, when given, must be
    its owner.

    `mode="offline"` keeps the run in a spool file for `sweeptracker sync`;
    `mode="disabled"` gives a run that sends nothing. `id` with `resume`
    ("allow", "must", "never"; True resumes the run a crash left in `dir`)
    continues a run after its last step. A run already current is finished
    first (`reinit="return_previous"` returns it instead, "create_new" keeps
    it current). `force`, `resume_from`, `fork_from`, `save_code`,
    `tensorboard`, `sync_tensorboard`, `monitor_gym` and `anonymous` have no
    effect here.

    Inside a sweep agent, init() joins the run the sweep suggested instead:
    `run.config` holds the suggested params (over `config`), and they are locked.
    """
    global _current
    given = {
        "entity": entity,
        "project": project,
        "dir": None if dir is None else os.fspath(dir),
        "id": id,
        "name": name,
        "notes": notes,
        "tags": tags,
        "group": group,
        "job_type": job_type,
        "mode": mode,
        "resume": resume,
    }
    options = InitOptions.resolve(given, settings)
    for unused, value in (("resume_from", resume_from), ("fork_from", fork_from)):
        if value is not None:
            logger.warning("SweepTracker: %s has no effect here; starting a new run.", unused)
    checked = initial_config(config, config_include_keys, config_exclude_keys)
    previous, choice = _current, _reinit_choice(reinit)
    if previous is not None and choice == "return_previous":
        return previous
    if previous is not None and choice == "finish_previous":
        previous.finish()
    run = _make_run(options, checked, base_url, api_key)
    if allow_val_change:
        run.config.allow_changes()
    if previous is None or choice != "create_new":
        _current = run
    return run


def _make_run(
    options: InitOptions, config: dict[str, Any], base_url: str | None, api_key: str | None
) -> Run:
    given = assignment.take()
    if given is not None:
        return Run.join(given, options, config)
    if options.mode == "disabled":
        return Run.start_disabled(options, config)
    if options.mode == "offline":
        return Run.start_offline(options, config, base_url, api_key)
    return Run.start(options, config, base_url, api_key)


def _reinit_choice(reinit: bool | str | None) -> str:
    """W&B's reinit as finish_previous, return_previous or create_new.

    Unset ("default") finishes the current run, as W&B does in notebooks and as
    this client always has; W&B's scripts would return it instead.
    """
    if reinit is None or reinit is True or reinit == "default":
        return "finish_previous"
    if reinit is False:
        return "return_previous"
    if reinit in ("finish_previous", "return_previous", "create_new"):
        return str(reinit)
    raise SweepTrackerError(
        "reinit must be True, False, 'default', 'finish_previous', 'return_previous' or "
        f"'create_new', not {reinit!r}."
    )


def log(
    data: Mapping[str, Any],
    step: int | None = None,
    commit: bool | None = None,
    sync: bool | None = None,
) -> None:
    """Log to the current run; see Run.log."""
    _require_run("log").log(data, step=step, commit=commit)


def define_metric(
    name: str,
    step_metric: str | Metric | None = None,
    step_sync: bool | None = None,
    hidden: bool | None = None,
    summary: str | None = None,
    goal: str | None = None,
    overwrite: bool | None = None,
) -> Metric:
    """Define a metric of the current run; see Run.define_metric."""
    run = _require_run("define_metric")
    return run.define_metric(name, step_metric, step_sync, hidden, summary, goal, overwrite)


def _require_run(call: str) -> Run:
    if _current is None:
        raise SweepTrackerError(
            f"You must call sweeptracker_client.init() before {call}() (wandb.init() before "
            f"wandb.{call}())."
        )
    return _current


def finish(
    exit_code: int | None = None, quiet: bool | None = None, timeout: float | None = None
) -> None:
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

    def exit_hook(status: str | int | None = None) -> NoReturn:
        # As wandb does: remembered so that sys.exit(1) ends the run failed, not finished.
        global _exit_code
        _exit_code = _code_of(status)
        original_exit(status)

    sys.exit = exit_hook

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
