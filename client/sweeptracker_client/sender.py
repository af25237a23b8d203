"""The background thread that sends a run's data, so that log() never waits for the network.

Rows wait in memory and go out in batches. A failed request is retried with
backoff; when the server stays away longer than `spool_after` seconds what is
waiting goes to the spool file (and keeps going there) until the server
answers again, when the spool is uploaded first, in order.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any

from sweeptracker_client import ops
from sweeptracker_client.api import CONNECT_TIMEOUT, READ_TIMEOUT, Api
from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.spool import Spool

logger = logging.getLogger("sweeptracker_client")

# A batch stays far below the server's limits of 5 MB and 50,000 points per request.
MAX_ROWS = 2_000
MAX_BYTES = 1_000_000
MAX_POINTS = 50_000
# Seconds between log requests unless a batch fills up first: fewer, fuller requests.
SEND_INTERVAL = 1.0
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 5.0
# Seconds finish() may wait past its timeout: requests made while finishing end at the
# deadline, but one already in flight when finish() was called may run its full course,
# and giving up on it would lose its batch.
JOIN_GRACE = CONNECT_TIMEOUT + READ_TIMEOUT
MIN_HEARTBEAT_INTERVAL = 0.1

Row = dict[str, Any]


def row_size(row: Row) -> int:
    """About how many bytes of JSON the row makes (a float takes at most ~24)."""
    return 48 + sum(len(key) + 30 for key in row["values"])


def split_row(row: Row) -> list[Row]:
    """A row too big for one request as several rows of the same step."""
    pieces: list[Row] = []
    values: dict[str, Any] = {}
    size = 0
    for key, value in row["values"].items():
        if values and (len(values) >= MAX_POINTS or size + len(key) + 30 > MAX_BYTES - 48):
            pieces.append({**row, "values": values})
            values, size = {}, 0
        values[key] = value
        size += len(key) + 30
    pieces.append({**row, "values": values})
    return pieces


def take_batch(rows: deque[Row]) -> list[Row]:
    """Take rows from the left of `rows` up to the batch limits."""
    batch: list[Row] = []
    size = points = 0
    while rows:
        row = rows[0]
        row_points, row_bytes = len(row["values"]), row_size(row)
        if batch and (
            len(batch) >= MAX_ROWS
            or size + row_bytes > MAX_BYTES
            or points + row_points > MAX_POINTS
        ):
            break
        rows.popleft()
        if row_points > MAX_POINTS or row_bytes > MAX_BYTES:
            first, *rest = split_row(row)
            rows.extendleft(reversed(rest))
            row, row_points, row_bytes = first, len(first["values"]), row_size(first)
        batch.append(row)
        size += row_bytes
        points += row_points
    return batch


class Sender:
    """Sends the rows, summary and config changes of one run from a daemon thread.

    The training thread only appends (add_row, merge_summary, replace) and
    finally calls close(); everything else happens on the thread.
    """

    def __init__(
        self,
        api: Api | None,
        run_id: int | str,
        spool: Spool,
        *,
        spool_after: float,
        heartbeat_interval: float,
    ) -> None:
        self._api = api
        self._run_id = run_id
        self._spool = spool
        self._spool_after = spool_after
        self._heartbeat_interval = max(heartbeat_interval, MIN_HEARTBEAT_INTERVAL)
        self._rows: deque[Row] = deque()
        self._lock = threading.Lock()
        self._summary: dict[str, Any] = {}
        self._metrics: dict[str, Any] = {}
        self._patch: dict[str, Any] = {}
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._exit_code: int | None = 0
        self._end_state: str | None = None
        self._deadline = math.inf
        # The op being delivered, and where it ends in the spool if it came from there.
        self._pending: ops.Op | None = None
        self._pending_end: int | None = None
        self._finish_queued = False
        self._down_since: float | None = None
        self._backoff = FIRST_BACKOFF
        self._last_send = 0.0
        self._next_heartbeat = time.monotonic() + self._heartbeat_interval
        self._warned: set[str] = set()
        self.should_stop = False
        self.done = False
        self._thread = threading.Thread(
            target=self._main, name=f"sweeptracker-sender-{run_id}", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    @property
    def _server(self) -> Api:
        assert self._api is not None, "an offline run's sender makes no requests"
        return self._api

    # The training thread's side.

    def add_row(self, row: Row) -> None:
        """Queue a committed row (already in wire form)."""
        self._rows.append(row)
        if len(self._rows) >= MAX_ROWS:
            self._wake.set()

    def merge_summary(self, values: dict[str, Any]) -> None:
        """Queue summary values to merge into the stored summary."""
        with self._lock:
            self._summary.update(values)

    def add_metrics(self, definitions: dict[str, Any]) -> None:
        """Queue define_metric definitions (wire form) to send with the next batch."""
        with self._lock:
            self._metrics.update(definitions)

    def replace(self, name: str, value: Any) -> None:
        """Queue a PATCH replacing the run's whole `config` or `summary` (or its name,
        tags, notes...)."""
        with self._lock:
            self._patch[name] = value
            if name == "summary":
                # The whole summary goes out first; merges queued before it are in it.
                self._summary.clear()
        self._wake.set()

    def close(self, exit_code: int | None, timeout: float, state: str | None = None) -> bool:
        """Send everything and the finish within `timeout` seconds, else spool what is left.

        `state` names a final state other than the exit code's (killed).
        True when nothing is left for `sweeptracker sync`.
        """
        self._exit_code = exit_code
        self._end_state = state
        self._deadline = time.monotonic() + timeout
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout + JOIN_GRACE)
        if self._thread.is_alive():
            logger.error(
                "SweepTracker: the sender of run %s did not stop in time; some data may be lost.",
                self._run_id,
            )
            return False
        if not self.done and not self._finish_queued:
            # The thread died of a bug before finishing: spool what is left from here.
            self._give_up()
            self._spool.close()
        return self.done

    # The thread's side.

    def _main(self) -> None:
        try:
            self._loop()
        except Exception:
            # A bug here must not lose the run's data: keep it on disk for sync.
            logger.exception("SweepTracker: the sender of run %s failed", self._run_id)
            self._spool.append(self._take_all())
        finally:
            self._spool.close()
            if self._api is not None:
                self._api.close()

    def _loop(self) -> None:
        while not self.done:
            closing = self._closing.is_set()
            if closing and time.monotonic() >= self._deadline:
                self._give_up()
                return
            if self._pending is None:
                self._take_next(closing)
            if self._pending is None:
                self._idle()
            else:
                self._deliver()

    def _take_next(self, closing: bool) -> None:
        """Make the oldest waiting op pending: spool first, then memory, then the finish."""
        found = self._spool.next_op()
        if found is not None:
            self._pending, self._pending_end = found
            return
        self._pending, self._pending_end = self._take_memory(force=closing), None
        if self._pending is None and closing and not self._finish_queued:
            self._pending = ops.finish_op(self._exit_code, self._end_state)
            self._finish_queued = True

    def _take_memory(self, force: bool) -> ops.Op | None:
        with self._lock:
            if self._patch:
                patch, self._patch = self._patch, {}
                return ops.patch_op(patch)
            due = force or time.monotonic() - self._last_send >= SEND_INTERVAL
            if not due and len(self._rows) < MAX_ROWS:
                return None
            summary, self._summary = self._summary, {}
            metrics, self._metrics = self._metrics, {}
        rows = take_batch(self._rows)
        if not (rows or summary or metrics):
            return None
        op = ops.log_op(rows, summary, metrics)
        if force and rows:
            # Taken as the run finishes: the script has ended and can no longer see a stop
            # this batch's answer brings (the server then counts its trial complete).
            op["final"] = True
        return op

    def _idle(self) -> None:
        now = time.monotonic()
        if now >= self._next_heartbeat:
            self._heartbeat()
            return
        self._wake.wait(min(SEND_INTERVAL, self._next_heartbeat - now))
        self._wake.clear()

    def _heartbeat(self) -> None:
        self._next_heartbeat = time.monotonic() + self._heartbeat_interval
        try:
            answer = self._server.heartbeat(self._run_id, timeout=self._request_timeout())
        except SweepTrackerError as error:
            if not error.retryable:
                self._warn_once(f"SweepTracker: heartbeat of run {self._run_id}: {error}")
            return
        self.should_stop = self.should_stop or answer.should_stop

    def _deliver(self) -> None:
        op = self._pending
        assert op is not None
        try:
            answer = ops.send(self._server, self._run_id, op, timeout=self._request_timeout())
        except SweepTrackerError as error:
            if error.retryable:
                self._failed()
                return
            if "finish" in op and error.status == 409:
                # The run already ended another way (a canceled sweep killed it): nothing lost.
                logger.info("SweepTracker: run %s had already ended: %s", self._run_id, error)
            else:
                # Sending it again cannot help; say so once and go on with the rest.
                self._warn_once(f"SweepTracker dropped data of run {self._run_id}: {error}")
        else:
            self.should_stop = self.should_stop or bool(answer.should_stop)
            if self._down_since is not None:
                logger.warning(
                    "SweepTracker: the server at %s answers again.", self._server.base_url
                )
            self._down_since = None
            self._backoff = FIRST_BACKOFF
            self._next_heartbeat = time.monotonic() + self._heartbeat_interval
        if "rows" in op:
            self._last_send = time.monotonic()
        if self._pending_end is not None:
            self._spool.mark_sent(self._pending_end)
        self._pending, self._pending_end = None, None
        if "finish" in op:
            self.done = True

    def _failed(self) -> None:
        """Wait before the next try; past `spool_after`, move what waits to the spool."""
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        elif now - self._down_since >= self._spool_after:
            if not self._spool.path.exists():
                logger.warning(
                    "SweepTracker: no answer from %s for %.0f s; keeping the data of run %s "
                    "in %s until it answers.",
                    self._server.base_url,
                    now - self._down_since,
                    self._run_id,
                    self._spool.path,
                )
            self._spool.append(self._take_all())
        wait = min(self._backoff, max(0.0, self._deadline - now))
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        if self._closing.is_set():
            time.sleep(wait)
        else:
            # Woken early by close(), so that finishing does not wait out a backoff.
            self._closing.wait(wait)

    def _take_all(self) -> list[ops.Op]:
        """The pending op (unless it is in the spool already) and everything in memory."""
        taken: list[ops.Op] = []
        if self._pending is not None and self._pending_end is None:
            taken.append(self._pending)
            self._pending = None
        while True:
            op = self._take_memory(force=True)
            if op is None:
                return taken
            taken.append(op)

    def _give_up(self) -> None:
        """Past the finish deadline: put everything left, and the finish, in the spool."""
        left = self._take_all()
        if not self._finish_queued:
            left.append(ops.finish_op(self._exit_code, self._end_state))
            self._finish_queued = True
        self._spool.append(left)
        logger.warning(
            "SweepTracker could not send everything to %s in time; the rest of run %s "
            "(%d rows, and its end) is saved in %s. Run `sweeptracker sync` to upload it.",
            self._server.base_url,
            self._run_id,
            self._spool.unsent_rows(),
            self._spool.path,
        )

    def _request_timeout(self) -> float | None:
        """While finishing, no request may outlast the deadline."""
        if not self._closing.is_set():
            return None
        return max(0.1, min(READ_TIMEOUT, self._deadline - time.monotonic()))

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            logger.warning("%s", message)


class OfflineSender(Sender):
    """The sender of a run in mode="offline": every op goes to the spool file, in order,
    for `sweeptracker sync` to upload; nothing is sent and no heartbeat is made."""

    def _take_next(self, closing: bool) -> None:
        self._pending, self._pending_end = self._take_memory(force=closing), None
        if self._pending is None and closing and not self._finish_queued:
            self._pending = ops.finish_op(self._exit_code, self._end_state)
            self._finish_queued = True

    def _idle(self) -> None:
        self._wake.wait(SEND_INTERVAL)
        self._wake.clear()

    def _deliver(self) -> None:
        op = self._pending
        assert op is not None
        self._spool.append([op])
        if "rows" in op:
            self._last_send = time.monotonic()
        self._pending = None
        if "finish" in op:
            self.done = True

    def _give_up(self) -> None:
        # Writing to a local file has no deadline to miss: write what is left.
        left = self._take_all()
        if not self._finish_queued:
            left.append(ops.finish_op(self._exit_code, self._end_state))
            self._finish_queued = True
        self._spool.append(left)
        self.done = True


class NullSender:
    """The sender of a run in mode="disabled": takes everything, sends nothing."""

    should_stop = False
    done = True

    def start(self) -> None:
        """Nothing to start."""

    def add_row(self, row: Row) -> None:
        """Dropped."""

    def merge_summary(self, values: dict[str, Any]) -> None:
        """Dropped."""

    def add_metrics(self, definitions: dict[str, Any]) -> None:
        """Dropped."""

    def replace(self, name: str, value: Any) -> None:
        """Dropped."""

    def close(self, exit_code: int | None, timeout: float, state: str | None = None) -> bool:
        """Nothing was waiting."""
        return True
