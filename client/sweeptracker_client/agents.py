"""The sweep agent: ask the sweep for a trial, run it, repeat.

A trial runs either as a Python function in this process (`agent(id,
function=train)`), whose init() joins the suggested run, or as the sweep
config's command in a subprocess (`sweeptracker agent ID`), as W&B's agent
does. The agent stops when the sweep has nothing more to hand out, after
`count` trials, on Ctrl-C, or when runs keep failing (W&B's limits).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sweeptracker_client import agent_identity, agent_output, assignment, macros, settings
from sweeptracker_client.api import Api, retry_while_away
from sweeptracker_client.errors import SweepTrackerError, SweepUnavailable
from sweeptracker_client.run_start import check_entity
from sweeptracker_client.sweep_info import Suggestion, SweepInfo, TrialInfo

# The agent never waits less than this between two looks at a command.
MIN_WATCH_INTERVAL = 0.05
# Windows has no SIGKILL; _signal() kills there with Popen.kill() instead.
SIGKILL = getattr(signal, "SIGKILL", -1)
# Why the sweep has nothing more, as the agent says it.
DONE_REASONS = {
    "capped": "the sweep reached its run_cap",
    "exhausted": "every point of the sweep's grid has run",
    "finished": "the sweep is finished",
    "canceled": "the sweep was canceled",
    "failed": "the sweep failed",
}
WAIT_REASONS = {
    "paused": "the sweep is paused; waiting for it to resume",
    "busy": "every point of the grid is handed out and some still run; waiting",
}


@dataclass
class TrialResult:
    """What came of one trial this agent ran."""

    number: int
    run_id: int
    params: dict[str, Any]
    # The trial's state on the server (running, complete, pruned, failed), or "unknown".
    state: str
    value: float | None
    values: list[float] | None
    # The function raised, or the command exited with another code than 0.
    failed: bool
    # Why it failed, as the agent printed it (exit code, last stderr lines; the exception).
    reason: str = ""


@dataclass
class AgentReport:
    """What an agent did, and why it stopped.

    `stop_reason` is count, capped, exhausted, finished, canceled, failed
    (the sweep), failures (too many failed runs) or interrupted (Ctrl-C).
    """

    sweep_id: str
    trials: list[TrialResult] = field(default_factory=list)
    stop_reason: str = ""
    message: str = ""

    @property
    def failures(self) -> int:
        """How many trials failed here."""
        return sum(1 for trial in self.trials if trial.failed)


class FailureLimits:
    """W&B's agent limits: too many failures early, or more failures than successes."""

    def __init__(self, config: settings.AgentSettings) -> None:
        self.config = config
        self.started = time.monotonic()
        self.failures = 0
        self.successes = 0

    def record(self, failed: bool) -> str | None:
        """Count one trial; a message when the agent must stop, else None."""
        if not failed:
            self.successes += 1
            return None
        self.failures += 1
        early, window = self.config.max_initial_failures, self.config.initial_failure_window
        if early and self.failures >= early and time.monotonic() - self.started < window:
            return (
                f"{self.failures} runs failed within the agent's first {window:g} s; stopping "
                "(SWEEPTRACKER_AGENT_MAX_INITIAL_FAILURES sets the limit, 0 turns it off)"
            )
        most = self.config.max_failures
        if most and self.failures >= most and self.successes <= self.failures:
            return (
                f"{self.failures} runs failed and only {self.successes} succeeded; stopping "
                "(SWEEPTRACKER_AGENT_MAX_FAILURES sets the limit, 0 turns it off)"
            )
        return None


def parse_sweep_path(sweep_id: str) -> tuple[str | None, str | None, str]:
    """(entity, project, id) of `ID`, `PROJECT/ID` or `ENTITY/PROJECT/ID` (W&B's forms)."""
    parts = str(sweep_id).strip().split("/")
    if not 1 <= len(parts) <= 3 or not parts[-1]:
        raise SweepTrackerError(
            f"Expected a sweep id as ID, PROJECT/ID or ENTITY/PROJECT/ID, not {sweep_id!r}."
        )
    project = parts[-2] if len(parts) > 1 and parts[-2] else None
    entity = parts[0] if len(parts) == 3 and parts[0] else None
    return entity, project, parts[-1]


def parse_sweep_id(sweep_id: str) -> tuple[str | None, str]:
    """(project, id) of `ID`, `PROJECT/ID` or `ENTITY/PROJECT/ID`."""
    _, project, id = parse_sweep_path(sweep_id)
    return project, id


class FunctionRunner:
    """Runs each trial as a call of `function` in this process; its init() joins the run."""

    def __init__(
        self, api: Api, function: Callable[[], Any], config: settings.AgentSettings
    ) -> None:
        self.api = api
        self.function = function
        self.config = config
        self.reason = ""  # why the last trial failed

    def run(self, suggestion: Suggestion) -> bool:
        """Run one trial; True when it failed."""
        given = assignment.Assignment(
            run_id=suggestion.run_id,
            sweep_id=suggestion.sweep_id,
            params=suggestion.params,
            base_url=self.api.base_url,
            api_key=self.api.api_key,
        )
        assignment.offer(given)
        self.reason = ""
        done = threading.Event()
        threading.Thread(
            target=self._keep_alive, args=(given, done), name="sweeptracker-agent", daemon=True
        ).start()
        try:
            self.function()
        except Exception as error:
            # As W&B's agent does: show the error, fail the run, go on with the next.
            self.reason = f"raised {type(error).__name__}: {error}"
            print(
                f"sweeptracker: run {suggestion.run_id} errored:\n{traceback.format_exc()}",
                file=sys.stderr,
                flush=True,
            )
            self._end(given, 1)
            return True
        except BaseException:
            # Ctrl-C (or an exit) in the middle of the function: the run did not finish.
            self._end(given, None, "killed")
            raise
        finally:
            done.set()
            assignment.withdraw()
        self._end(given, 0)
        return False

    def _keep_alive(self, given: assignment.Assignment, done: threading.Event) -> None:
        """Heartbeat the run until the function calls init() (then its run does) or returns,
        so that a long function that calls init() late is not taken for a crashed run."""
        # Its own connection: a requests session is not shared between threads.
        with Api(self.api.base_url, self.api.api_key) as api:
            while not done.wait(max(self.config.heartbeat_interval, MIN_WATCH_INTERVAL)):
                if given.run is not None:
                    return
                try:
                    api.heartbeat(given.run_id)
                except SweepTrackerError:
                    continue  # the next one may get through; the run's end does not depend on it

    def _end(
        self, given: assignment.Assignment, exit_code: int | None, state: str | None = None
    ) -> None:
        """Finish the trial's run, whether or not the function called init() or finished it."""
        run = given.run
        if run is not None:
            if state == "killed":
                run.kill()
            else:
                run.finish(exit_code=exit_code or 0)
            return
        end_run(self.api, given.run_id, exit_code, state)


def end_run(api: Api, run_id: int, exit_code: int | None, state: str | None = None) -> None:
    """Finish a run the agent made, unless it ended already (finished by its script, killed)."""
    try:
        # Finishing twice the same way is harmless, so a server restart is waited out.
        retry_while_away(lambda: api.finish_run(run_id, exit_code, state=state))
    except SweepTrackerError as error:
        if error.status != 409:
            raise


class CommandRunner:
    """Runs each trial as the sweep's command in a subprocess, as `wandb agent` does.

    The child's init() joins the run through its environment. While it runs,
    the agent heartbeats the run; when the server says stop (pruned, or
    killed by a cancel) it sends SIGTERM, and SIGKILL after the kill delay.
    """

    def __init__(self, api: Api, sweep: SweepInfo, config: settings.AgentSettings) -> None:
        self.api = api
        self.config = config
        self.command = list(sweep.config.get("command") or macros.DEFAULT_COMMAND)
        self.program = sweep.config.get("program")
        macros.check_command(self.command, self.program)
        self.folder = settings.home() / "sweeps" / sweep.id
        self.reason = ""  # why the last trial failed
        self.tail: agent_output.StderrTail | None = None

    def run(self, suggestion: Suggestion) -> bool:
        """Run one trial; True when it failed."""
        param_path = self.folder / f"config-{suggestion.run_id}.yaml"
        json_path = self.folder / f"config-{suggestion.run_id}.json"
        assignment.write_params(param_path, suggestion.params)
        if macros.uses_json_file(self.command):
            json_path.write_text(json.dumps(suggestion.params), encoding="utf-8")
        argv = macros.expand(self.command, suggestion.params, self.program, str(json_path))
        self.reason, self.tail = "", None
        try:
            process = self._start(argv, self._environment(suggestion, param_path))
            if process is None:
                end_run(self.api, suggestion.run_id, 127)
                return True
            try:
                code, stopped = self._watch(process, suggestion.run_id)
            except KeyboardInterrupt:
                self._interrupt(process, suggestion.run_id)
                raise
        finally:
            param_path.unlink(missing_ok=True)
            json_path.unlink(missing_ok=True)
        # The child's own init() finishes its run at exit; this covers a child that
        # never called it, was killed, or died before it could.
        exit_code = 0 if stopped else (code if code >= 0 else 128 - code)
        if self.api.run_info(suggestion.run_id).state == "running":
            end_run(self.api, suggestion.run_id, exit_code)
        if exit_code != 0:
            self.reason = agent_output.command_failure(
                code, self._stderr_end(), agent_output.program_hint(self.program, Path.cwd())
            )
        return exit_code != 0

    def _stderr_end(self) -> list[str]:
        """The command's last lines on stderr, once its copier read them all."""
        if self.tail is None:
            return []
        # A child of the command that outlived it may hold the pipe open: do not wait on it.
        self.tail.join(timeout=2)
        return self.tail.last_lines()

    def _environment(self, suggestion: Suggestion, param_path: Path) -> dict[str, str]:
        return {
            **os.environ,
            "SWEEPTRACKER_BASE_URL": self.api.base_url,
            "SWEEPTRACKER_API_KEY": self.api.api_key,
            "SWEEPTRACKER_PROJECT": suggestion.project,
            assignment.ENV_RUN_ID: str(suggestion.run_id),
            assignment.ENV_SWEEP_ID: suggestion.sweep_id,
            assignment.ENV_PARAM_PATH: str(param_path),
        }

    def _start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes] | None:
        """Start the command in its own process group (Ctrl-C reaches the agent only)."""
        group: dict[str, Any] = {}
        if sys.platform == "win32":
            # Why the type: ignore below: Windows only; the stubs checked here are Linux's.
            group["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            group["process_group"] = 0
        try:
            # stdin closed, as W&B does: a child reading it must not hang the agent. Its
            # stderr goes through the agent, which keeps the end to say why it failed.
            process = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, **group
            )
        except OSError as error:
            hint = agent_output.program_hint(self.program, Path.cwd())
            self.reason = f"cannot run {argv[0]!r}: {error}" + (f"\n{hint}" if hint else "")
            print(f"sweeptracker: cannot run {argv[0]!r}: {error}", file=sys.stderr, flush=True)
            return None
        self.tail = agent_output.StderrTail(process.stderr, getattr(sys.stderr, "buffer", None))
        self.tail.start()
        return process

    def _watch(self, process: subprocess.Popen[bytes], run_id: int) -> tuple[int, bool]:
        """Wait for the child, heartbeating its run; (exit code, whether the agent stopped it)."""
        interval = max(self.config.heartbeat_interval, MIN_WATCH_INTERVAL)
        stopped_at: float | None = None
        while True:
            wait = interval
            if stopped_at is not None:
                wait = max(
                    MIN_WATCH_INTERVAL, stopped_at + self.config.kill_delay - time.monotonic()
                )
            try:
                return process.wait(timeout=wait), stopped_at is not None
            except subprocess.TimeoutExpired:
                pass
            if stopped_at is None:
                if self._should_stop(run_id):
                    _signal(process, signal.SIGTERM)
                    stopped_at = time.monotonic()
            elif time.monotonic() >= stopped_at + self.config.kill_delay:
                _signal(process, SIGKILL)

    def _should_stop(self, run_id: int) -> bool:
        """Heartbeat the run; True when the server wants it stopped (and its script did not
        end it already: then the child is about to exit by itself)."""
        try:
            answer = self.api.heartbeat(run_id)
        except SweepTrackerError as error:
            if not error.retryable:
                print(f"sweeptracker: heartbeat of run {run_id}: {error}", file=sys.stderr)
            return False
        return answer.should_stop and answer.state not in ("finished", "failed")

    def _interrupt(self, process: subprocess.Popen[bytes], run_id: int) -> None:
        """Ctrl-C: mark the run killed, then stop the child (at once on a second Ctrl-C)."""
        print(
            f"sweeptracker: stopping run {run_id} (Ctrl-C again kills it at once)",
            file=sys.stderr,
            flush=True,
        )
        try:
            _signal(process, signal.SIGTERM)
            try:
                process.wait(timeout=self.config.kill_delay)
            except subprocess.TimeoutExpired:
                _signal(process, SIGKILL)
                process.wait()
        except KeyboardInterrupt:
            _signal(process, SIGKILL)
            process.wait()
        finally:
            end_run(self.api, run_id, None, "killed")


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to the child's whole process group (a shell wrapper's children too)."""
    if process.poll() is not None:
        return
    try:
        if sys.platform != "win32":
            os.killpg(process.pid, signum)
        elif signum == signal.SIGTERM:
            process.terminate()
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass  # it ended in the meantime


class Agent:
    """Runs trials of one sweep until it is done, `count` is reached or runs keep failing."""

    def __init__(
        self,
        sweep_id: str,
        function: Callable[[], Any] | None = None,
        count: int | None = None,
        project: str | None = None,
        out: IO[str] | None = None,
        entity: str | None = None,
    ) -> None:
        path_entity, path_project, self.sweep_id = parse_sweep_path(sweep_id)
        self.project = project or path_project
        self.entity = entity or path_entity
        if count is not None and count < 0:
            raise ValueError(f"count must not be negative (0 or None: no limit), not {count}")
        self.count = count or None
        self.function = function
        self.config = settings.agent_settings()
        self.out = out if out is not None else sys.stdout
        self.report = AgentReport(self.sweep_id)
        self.progress = agent_output.Progress(self.out, self.count)
        self.identity = agent_identity.Identity()
        # Why each trial failed, by number, until its line is printed.
        self._reasons: dict[int, str] = {}

    def run(self) -> AgentReport:
        """Run trials until the agent must stop; the report says why it did."""
        with Api() as api:
            sweep = api.sweep_info(self.sweep_id, trials=False)
            if self.project and sweep.project != self.project:
                raise SweepTrackerError(
                    f"Sweep {sweep.id} is in project {sweep.project!r}, not {self.project!r}."
                )
            if self.entity:
                check_entity(api.project(sweep.project), self.entity)
            runner: FunctionRunner | CommandRunner
            if self.function is not None:
                runner = FunctionRunner(api, self.function, self.config)
            else:
                runner = CommandRunner(api, sweep, self.config)
            self.progress.metric = sweep.metric_names[0] if sweep.metric_names else ""
            agent_identity.announce(api, self.identity)
            self.say(f"agent for sweep {sweep.id} ({sweep.name}, {sweep.method}): {sweep.url}")
            hint = agent_output.program_hint(getattr(runner, "program", None), Path.cwd())
            if hint:
                self.say(f"warning: {hint}")
            try:
                self._loop(api, sweep, runner)
            except KeyboardInterrupt:
                self._stop("interrupted", "interrupted (Ctrl-C)")
            finally:
                agent_identity.say_stopped(api, sweep.id)
            self._summary(api, sweep)
        return self.report

    def _loop(self, api: Api, sweep: SweepInfo, runner: FunctionRunner | CommandRunner) -> None:
        limits = FailureLimits(self.config)
        # The trial just run: the next suggestion asks how it ended (one request per trial).
        ran: tuple[Suggestion, bool] | None = None
        try:
            while True:
                if self.count is not None and len(self.report.trials) + bool(ran) >= self.count:
                    self._stop("count", f"ran the {self.count} trial(s) asked for")
                    return
                if ran is not None:
                    api.report_next(self.sweep_id, {"trial": ran[0].number, "state": "ended"})
                suggestion = self._next(api)
                if ran is not None:
                    self._record(api, sweep, *ran, api.last_reported)
                    ran = None
                if suggestion is None:
                    return
                ran = (suggestion, self._run_trial(runner, suggestion))
                reason = limits.record(ran[1])
                if reason:
                    self._stop("failures", reason)
                    return
        finally:
            if ran is not None:
                api.report_next(self.sweep_id, None)
                self._record(api, sweep, *ran, None)

    def _record(
        self,
        api: Api,
        sweep: SweepInfo,
        suggestion: Suggestion,
        failed: bool,
        trial: TrialInfo | None,
    ) -> None:
        """Keep and tell how a trial ended: `trial` as the server said it, else asked now."""
        result = self._result(api, suggestion, failed, trial)
        self.report.trials.append(result)
        self._tell(result, sweep.metric_names)

    def _next(self, api: Api) -> Suggestion | None:
        """The next trial; None (and the reason recorded) when the sweep has no more."""
        waiting = ""
        down_since: float | None = None
        while True:
            try:
                return api.suggest(self.sweep_id)
            except SweepUnavailable as error:
                if not error.retry:
                    self._stop(error.reason, DONE_REASONS.get(error.reason, error.message))
                    return None
                if waiting != error.reason:
                    waiting = error.reason
                    message = WAIT_REASONS.get(error.reason, error.message)
                    self.say(f"{message} (asking every {self.config.poll_interval:g} s)")
            except SweepTrackerError as error:
                # A short outage must not end a long sweep; a long one does.
                now = time.monotonic()
                down_since = now if down_since is None else down_since
                if not error.retryable or now - down_since > settings.spool_after():
                    raise
                if waiting != "down":
                    waiting = "down"
                    self.say(f"{error}; trying again")
            time.sleep(self.config.poll_interval)

    def _result(
        self, api: Api, suggestion: Suggestion, failed: bool, trial: TrialInfo | None = None
    ) -> TrialResult:
        if trial is None or trial.number != suggestion.number:
            try:
                trial = api.trial(self.sweep_id, suggestion.number)
            except SweepTrackerError:
                trial = None
        return TrialResult(
            number=suggestion.number,
            run_id=suggestion.run_id,
            params=suggestion.params,
            state=trial.state if trial else "unknown",
            value=trial.value if trial else None,
            values=trial.values if trial else None,
            failed=failed,
        )

    def _stop(self, reason: str, message: str) -> None:
        self.report.stop_reason = reason
        self.report.message = message

    def _summary(self, api: Api, sweep: SweepInfo) -> None:
        states = Counter(trial.state for trial in self.report.trials)
        counted = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        self.say(
            f"agent stopped: {self.report.message}. Ran {len(self.report.trials)} trial(s)"
            + (f": {counted}." if counted else ".")
        )
        try:
            best = api.sweep_info(self.sweep_id, trials=False).best_trial
        except SweepTrackerError:
            return
        if best is not None:
            line = describe_params(best.params)
            value = format_value(best.value, best.values, sweep.metric_names)
            self.say(f"best of the sweep so far: trial {best.number}, {value} ({line})")

    def say(self, message: str) -> None:
        """A line of progress on the agent's output (wrapped to 100 columns)."""
        self.progress.say(message)

    def _run_trial(self, runner: FunctionRunner | CommandRunner, suggestion: Suggestion) -> bool:
        """Run one trial with its live line on a terminal; True when it failed."""
        metric = self.progress.metric
        read: Callable[[], agent_output.Reading | None]
        if isinstance(runner, FunctionRunner):
            read = lambda: agent_output.reading_in_process(metric)  # noqa: E731
        else:
            api = runner.api
            read = agent_output.RunReader(api.base_url, api.api_key, suggestion.run_id, metric)
        self.progress.trial_started(suggestion.number, read)
        try:
            failed = runner.run(suggestion)
        finally:
            self.progress.trial_ended()
            if isinstance(read, agent_output.RunReader):
                read.close()
        if failed and runner.reason:
            self._reasons[suggestion.number] = runner.reason
        return failed

    def _tell(self, result: TrialResult, metric_names: list[str]) -> None:
        """The trial's line: `[n/count]` and times, state, value, params, and why it failed."""
        result.reason = self._reasons.pop(result.number, "")
        value = format_value(result.value, result.values, metric_names)
        self.progress.trial_line(
            f"trial {result.number} {result.state}: {value}",
            describe_params(result.params),
            f" (run {result.run_id})",
            result.reason,
        )


def describe(result: TrialResult, metric_names: list[str]) -> str:
    """The agent's line about a trial: number, state, value and params."""
    value = format_value(result.value, result.values, metric_names)
    return (
        f"trial {result.number} {result.state}: {value}  "
        f"{describe_params(result.params)}  (run {result.run_id})"
    )


def format_value(value: float | None, values: list[float] | None, names: list[str]) -> str:
    """`name=value` for each metric of the sweep, `-` when there is none."""
    numbers: list[float | None] = list(values) if values else [value]
    names = names or ["value"]
    return " ".join(
        f"{name}={'-' if number is None else f'{number:.6g}'}"
        for name, number in zip(names, numbers, strict=False)
    )


def describe_params(params: dict[str, Any], prefix: str = "") -> str:
    """Nested params on one line: `lr=0.01 model.layers=3`."""
    parts = []
    for key, value in params.items():
        if isinstance(value, dict) and value:
            parts.append(describe_params(value, f"{prefix}{key}."))
        elif isinstance(value, float):
            parts.append(f"{prefix}{key}={value:.4g}")
        else:
            parts.append(f"{prefix}{key}={value}")
    return " ".join(parts)


def agent(
    sweep_id: str,
    function: Callable[[], Any] | None = None,
    count: int | None = None,
    project: str | None = None,
    *,
    entity: str | None = None,
) -> AgentReport:
    """Run trials of a sweep, as `wandb.agent` does.

    With `function`, each trial calls it in this process; its `init()` joins
    the suggested run, with the params in `run.config`. Without, each trial
    runs the sweep config's `command` in a subprocess. `count` caps the
    trials this agent runs; `sweep_id` may be `ID`, `PROJECT/ID` or
    `ENTITY/PROJECT/ID`. W&B's entity is the project's owner here: another one
    (as `entity` or in the path) raises SweepTrackerError before any trial runs.
    Returns what it did and why it stopped.
    """
    return Agent(sweep_id, function=function, count=count, project=project, entity=entity).run()
