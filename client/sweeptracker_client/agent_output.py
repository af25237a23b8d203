"""What an agent prints: a line per trial with `[n/count]`, the time since the agent
started and an estimate of the time left; on a terminal, one live line for the trial
that runs (its step and the metric's latest value), redrawn in place; and, for a
failed command, why: its exit code, its last lines on stderr, and where `program`
was looked for. Every line fits WIDTH columns (a terminal's own width, when smaller,
for the live line).
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sweeptracker_client import assignment
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError

WIDTH = 100
PREFIX = "sweeptracker: "
# Seconds between redraws of the live line; a command's run is read from the server
# at most every READ_INTERVAL (one GET of the run), a function's from this process.
REDRAW_INTERVAL = 0.5
READ_INTERVAL = 2.0
# How much of a command's stderr is kept, and how many of its last lines are shown.
TAIL_BYTES = 16_384
TAIL_LINES = 5
# Lines one of them may take on the agent's output before it is cut.
STDERR_WRAP = 3
CLEAR = "\r\x1b[K"


def fit(text: str, width: int = WIDTH) -> str:
    """`text` cut to `width` columns, with … where it was cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def wrap(message: str, indent: int = 0) -> list[str]:
    """`message` as lines of at most WIDTH columns, each after PREFIX (and `indent`)."""
    lead = PREFIX + " " * indent
    return textwrap.wrap(
        message,
        WIDTH,
        initial_indent=lead,
        subsequent_indent=lead + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [lead.rstrip()]


def wrap_reason(line: str) -> list[str]:
    """A line of a failure's reason, wrapped. A line of the command's stderr (`| ...`)
    keeps its words whole only where it can, and gets at most STDERR_WRAP lines."""
    if not line.startswith("| "):
        return wrap(line, 2)
    lead = PREFIX + "  | "
    lines = textwrap.wrap(
        line[2:], WIDTH, initial_indent=lead, subsequent_indent=lead + "  ", drop_whitespace=False
    ) or [lead.rstrip()]
    if len(lines) > STDERR_WRAP:
        lines = [*lines[: STDERR_WRAP - 1], fit(lines[STDERR_WRAP - 1][:-1] + "…")]
    return [line.rstrip() for line in lines]


def clock(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Reading:
    """Where a running trial is: its last logged step and the metric's latest value."""

    step: int | None
    value: Any


def reading_in_process(metric: str) -> Reading | None:
    """A function trial's run, read from this process (no request)."""
    given = assignment.offered()
    run = given.run if given is not None else None
    if run is None:
        return None
    step = run.step - 1 if run.step > 0 else None
    return Reading(step, run.summary.get(metric) if metric else None)


class RunReader:
    """A command trial's run, read from the server (one GET each time; the live line
    asks at most every READ_INTERVAL seconds). Its own connection: it reads from the
    live line's thread."""

    def __init__(self, base_url: str, api_key: str, run_id: int, metric: str) -> None:
        self.base_url, self.api_key = base_url, api_key
        self.run_id, self.metric = run_id, metric
        self.api: Api | None = None
        self.last: Reading | None = None
        self.read_at = -math.inf

    def __call__(self) -> Reading | None:
        if time.monotonic() - self.read_at < READ_INTERVAL:
            return self.last
        self.read_at = time.monotonic()
        if self.api is None:
            self.api = Api(self.base_url, self.api_key)
        try:
            info = self.api.run_info(self.run_id)
        except SweepTrackerError:
            return self.last
        value = info.summary.get(self.metric) if self.metric else None
        self.last = Reading(info.last_step, value)
        return self.last

    def close(self) -> None:
        if self.api is not None:
            self.api.close()


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        # A summary kept as {"min": ...} by define_metric: show its first statistic.
        return ", ".join(f"{k} {value_text(v)}" for k, v in list(value.items())[:1])
    return str(value)


class Progress:
    """The agent's lines, and the live line of the running trial on a terminal."""

    def __init__(self, out: IO[str], count: int | None, metric: str = "") -> None:
        self.out = out
        self.count = count
        self.metric = metric
        self.live = is_terminal(out)
        self.started = time.monotonic()
        self.durations: list[float] = []
        self.done = 0
        self._lock = threading.Lock()
        self._showing = False
        self._trial_started = 0.0
        self._ticker: threading.Thread | None = None
        # Set when the trial of the running live line ended; each trial has its own, so
        # that a line still reading for an ended trial never draws over the next one.
        self._stop = threading.Event()

    def say(self, message: str) -> None:
        """A message on the agent's output, wrapped to WIDTH (a long URL stays whole)."""
        with self._lock:
            self._clear()
            for line in wrap(message):
                print(line, file=self.out, flush=True)

    def trial_started(self, number: int, read: Callable[[], Reading | None]) -> None:
        """A trial began; on a terminal, keep its live line until `trial_ended`."""
        self._trial_started = time.monotonic()
        if not self.live:
            return
        self._stop = threading.Event()
        self._ticker = threading.Thread(
            target=self._tick,
            args=(number, read, self._stop),
            name="sweeptracker-live-line",
            daemon=True,
        )
        self._ticker.start()

    def trial_ended(self) -> None:
        """The trial ended: its live line goes."""
        self.durations.append(time.monotonic() - self._trial_started)
        self.done += 1
        if self._ticker is not None:
            self._stop.set()
            # A read that hangs (the server away) is not waited for: its line is not drawn.
            self._ticker.join(timeout=1)
            self._ticker = None
        with self._lock:
            self._clear()

    def counter(self) -> str:
        """`[3/20] 0:45, ~4:15 left`: trials this agent ended, its time, what is left."""
        elapsed = time.monotonic() - self.started
        if self.count is None:
            return f"[{self.done}] {clock(elapsed)}"
        left = self.count - self.done
        estimate = f", ~{clock(left * statistics.fmean(self.durations))} left" if left else ""
        return f"[{self.done}/{self.count}] {clock(elapsed)}{estimate}"

    def trial_line(self, head: str, params: str, tail: str, reason: str = "") -> None:
        """`[n/count] time · head tail` and the params, on that line when they fit, else
        on the next (cut to WIDTH); a failure's reason on lines of its own below."""
        line = f"{PREFIX}{self.counter()} · {head}{tail}"
        lines = [fit(line)]
        if len(line) + 2 + len(params) <= WIDTH:
            lines = [f"{line}  {params}"]
        elif params:
            lines.append(fit(f"{PREFIX}  {params}"))
        for extra in reason.splitlines():
            lines += wrap_reason(extra)
        with self._lock:
            self._clear()
            for printed in lines:
                print(printed, file=self.out, flush=True)

    def _tick(self, number: int, read: Callable[[], Reading | None], stop: threading.Event) -> None:
        while not stop.wait(REDRAW_INTERVAL):
            try:
                reading = read()
            except Exception:  # noqa: BLE001 - a live line must never break a trial
                reading = None
            self._draw(number, reading, stop)

    def _draw(self, number: int, reading: Reading | None, stop: threading.Event) -> None:
        parts = [f"trial {number} running {clock(time.monotonic() - self._trial_started)}"]
        if reading is not None and reading.step is not None:
            parts.append(f"step {reading.step}")
        if reading is not None and reading.value is not None and self.metric:
            parts.append(f"{self.metric}={value_text(reading.value)}")
        columns = min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns - 1)
        with self._lock:
            if stop.is_set():
                return
            self.out.write(CLEAR + fit(PREFIX + " · ".join(parts), columns))
            self.out.flush()
            self._showing = True

    def _clear(self) -> None:
        if self._showing:
            self.out.write(CLEAR)
            self._showing = False


class StderrTail(threading.Thread):
    """Copies a command's stderr through to the agent's as it comes, keeping its end."""

    def __init__(self, source: IO[bytes] | None, sink: IO[bytes] | None) -> None:
        if source is None:
            raise ValueError("StderrTail needs the command's stderr pipe.")
        super().__init__(name="sweeptracker-stderr", daemon=True)
        self.source, self.sink = source, sink
        self.kept = bytearray()

    def run(self) -> None:
        fd = self.source.fileno()
        while chunk := os.read(fd, 65_536):
            if self.sink is not None:
                try:
                    self.sink.write(chunk)
                    self.sink.flush()
                except (OSError, ValueError):
                    self.sink = None  # the agent's stderr is gone; keep reading the child's
            self.kept += chunk
            del self.kept[:-TAIL_BYTES]
        self.source.close()

    def last_lines(self, count: int = TAIL_LINES) -> list[str]:
        """The last non-empty lines the command wrote to stderr (\\r counts as a break)."""
        text = self.kept.decode("utf-8", "replace").replace("\r", "\n")
        return [line.rstrip() for line in text.split("\n") if line.strip()][-count:]


def program_hint(program: str | None, folder: Path) -> str:
    """Why `program` was not found, when it is not: it is read from `folder`."""
    if not program or (folder / program).exists():
        return ""
    if Path(program).is_absolute():
        return f"program {program!r} does not exist"
    return (
        f"program {program!r} is read relative to the directory the agent was started in, "
        f"{folder}, where there is no such file; start the agent where it is (or make "
        "`program` absolute)"
    )


def command_failure(code: int, stderr: list[str], hint: str) -> str:
    """Why a command's trial failed: its exit code (or signal), its last stderr lines."""
    how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    lines = [how + ("; its last lines on stderr:" if stderr else "")]
    lines += [f"| {line}" for line in stderr]
    if hint:
        lines.append(hint)
    return "\n".join(lines)
