"""Spool files: a run's data that could not reach the server, kept for later.

`$SWEEPTRACKER_DIR/spool/<run_id>.jsonl` holds one JSON object a line: a
header (base_url, project, run_id), then ops (see `ops`) oldest first. The
live run uploads its own spool as soon as the server answers again; a run
that ended first leaves it to `sweeptracker sync`.

A run in mode="offline" spools everything: its header also holds `create`
(the init() arguments), and sync first creates the run with its id (or
resumes it, when an earlier sync was cut short).

While a live run has its spool file open it holds a lock on it, so that sync
leaves the file alone (on systems without fcntl there is no lock).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sweeptracker_client import ops, run_start, settings
from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError

try:
    import fcntl
except ImportError:  # Windows
    # Why the type: ignore below: Windows has no fcntl: the spool then locks nothing.
    fcntl = None  # type: ignore[assignment]

HEADER_KEY = "sweeptracker_spool"
# Answers that say the key or the run is wrong rather than the batch: sync
# keeps the file so that it can be retried once that is fixed.
KEEP_FILE_STATUSES = {401, 403, 404}


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, allow_nan=False, ensure_ascii=False).encode() + b"\n"


def _lock(file: IO[bytes], wait: bool) -> bool:
    """Take the exclusive lock on `file`; False if another process holds it and not `wait`."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _still_there(file: IO[bytes], path: Path) -> bool:
    """True when `path` still names the open `file` (nobody removed or replaced it)."""
    try:
        return os.stat(path).st_ino == os.fstat(file.fileno()).st_ino
    except FileNotFoundError:
        return False


class Spool:
    """The spool file of one live run; only its sender thread uses it."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = {HEADER_KEY: 1, **header}
        self._file: IO[bytes] | None = None
        # Byte offset of the first line not yet delivered.
        self._sent = 0

    def append(self, new_ops: Iterable[ops.Op]) -> None:
        """Add ops at the end, on disk before this returns."""
        data = b"".join(_encode(op) for op in new_ops)
        if not data:
            return
        file = self._file or self._open()
        file.write(data)
        file.flush()
        os.fsync(file.fileno())

    def _open(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            file = open(self.path, "a+b")  # noqa: SIM115 (kept open while the file exists)
            _lock(file, wait=True)
            # A sync may have removed the file while we waited for its lock.
            if _still_there(file, self.path):
                break
            file.close()
        file.seek(0)
        first = file.readline()
        if not first:
            file.write(_encode(self.header))
            first = _encode(self.header)
        self._sent = len(first)
        self._file = file
        return file

    def next_op(self) -> tuple[ops.Op, int] | None:
        """The oldest op not yet delivered and the offset just past it; None when all are."""
        if self._file is None:
            return None
        while True:
            self._file.seek(self._sent)
            line = self._file.readline()
            if not line:
                return None
            try:
                return json.loads(line), self._sent + len(line)
            except ValueError:
                # Only a crash mid-write leaves a broken line; there is nothing to send in it.
                self._sent += len(line)

    def mark_sent(self, offset: int) -> None:
        """Record that everything before `offset` was delivered; remove the file when all was."""
        self._sent = offset
        if self._file is not None and offset >= os.fstat(self._file.fileno()).st_size:
            self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None

    def unsent_rows(self) -> int:
        """How many metric rows wait in the file."""
        if self._file is None:
            return 0
        self._file.seek(self._sent)
        count = 0
        for line in self._file:
            try:
                count += ops.row_count(json.loads(line))
            except ValueError:
                continue
        return count

    def close(self) -> None:
        """Let go of the file (and its lock), leaving what is in it for `sweeptracker sync`."""
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class SyncReport:
    """What syncing one spool file did."""

    path: Path
    run_id: str
    project: str
    base_url: str
    rows: int = 0
    stored: int = 0
    exit_code: int | None = None
    # A final state named in the finish (killed), which says more than an exit code.
    end_state: str | None = None
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the user."""
        ended = (
            f", finished it with exit code {self.exit_code}" if self.exit_code is not None else ""
        )
        if self.end_state is not None:
            ended = f", ended it as {self.end_state}"
        return (
            f"Synced run {self.run_id} of {self.project} to {self.base_url}: "
            f"{self.rows} rows ({self.stored} new points){ended}; removed {self.path}."
        )


def spool_files(directory: Path) -> list[Path]:
    """The spool files in `directory`, oldest run first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"), key=lambda p: (len(p.stem), p.stem))


def sync_file(path: Path, api_key: str) -> SyncReport | None:
    """Upload one spool file in order and remove it; None if it was gone already.

    Rows can be sent twice without harm, so a sync cut short is simply run again.
    """
    with open(path, "rb") as file:
        if not _lock(file, wait=False):
            raise SweepTrackerError(f"{path} belongs to a run that is still running; skipped.")
        if not _still_there(file, path):
            return None
        header = _read_header(path, file.readline())
        # An offline run made without a server set leaves it to the settings of the sync.
        base_url = header.get("base_url") or settings.load().require("base_url")
        report = SyncReport(path, str(header["run_id"]), header.get("project", "?"), base_url)
        with Api(base_url, api_key) as api:
            ref = str(header["run_id"])
            if "create" in header:
                ref = _create(api, header, path)
            for number, line in enumerate(file, start=2):
                _replay(api, report, ref, number, line)
        path.unlink()
    return report


def _read_header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or not header.get(HEADER_KEY) or not header.get("run_id"):
        raise SweepTrackerError(f"{path} is not a SweepTracker spool file; left alone.")
    return header


def _create(api: Api, header: dict[str, Any], path: Path) -> str:
    """Create (or resume) the run of an offline spool file; the ref its requests use."""
    try:
        info = run_start.create(api, header["project"], header["create"])
    except SweepTrackerError as error:
        raise SweepTrackerError(
            f"Stopped syncing {path}: cannot create its run; the file is kept: {error}",
            error.status,
            error.detail,
        ) from error
    return info.ref


def _replay(api: Api, report: SyncReport, ref: str, number: int, line: bytes) -> None:
    """Send the op of one spool line; skip it (with a warning) only if it can never succeed."""
    try:
        op = json.loads(line)
    except ValueError:
        report.warnings.append(f"line {number} is cut short (a crash while writing?); skipped")
        return
    try:
        delivered = ops.send(api, ref, op)
    except SweepTrackerError as error:
        if error.retryable or error.status in KEEP_FILE_STATUSES:
            raise SweepTrackerError(
                f"Stopped syncing {report.path} at line {number}; the file is kept: {error}",
                error.status,
                error.detail,
            ) from error
        report.warnings.append(f"line {number}: {error.message}")
        return
    report.rows += ops.row_count(op)
    report.stored += delivered.stored
    if "finish" in op:
        exit_code = op["finish"].get("exit_code", 0)
        report.exit_code = None if exit_code is None else int(exit_code)
        report.end_state = op["finish"].get("state")
