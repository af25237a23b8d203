"""W&B's media, artifact and file calls, for a server that keeps metrics only.

A script that uses them runs on: what fits a metrics tracker is kept in the
run's summary (a Histogram's bins and statistics, a small Table's rows), the
rest is accepted and dropped. Each kind warns once per process, naming what is
not kept, with a `NotKeptWarning`.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.values import plain, scalar

# A Table keeps at most this many rows, and this many bytes of JSON, in the summary.
MAX_TABLE_ROWS = 1_000
MAX_TABLE_BYTES = 200_000
MAX_BINS = 512

NOT_KEPT = {
    "Image": "images are not kept; the logged value is dropped",
    "Video": "videos are not kept; the logged value is dropped",
    "Audio": "audio is not kept; the logged value is dropped",
    "Html": "HTML is not kept; the logged value is dropped",
    "Object3D": "3D objects are not kept; the logged value is dropped",
    "Table": (
        "a table is kept as its last logged rows in the run's summary "
        f"(at most {MAX_TABLE_ROWS} rows), with no history of tables"
    ),
    "Histogram": (
        "a histogram is kept as its last logged bins and statistics in the run's "
        "summary, with no history of histograms"
    ),
    "watch": "gradients and parameters are not recorded; watch() does nothing",
    "save": "files are not uploaded; save() does nothing",
    "Artifact": "artifacts are not stored; log_artifact() and use_artifact() keep nothing",
    "alert": "alerts are not sent; alert() does nothing",
    "log_code": "code is not saved; log_code() does nothing",
    "sweep": "prior_runs is ignored: those runs are not added to the sweep (a warm start is)",
    "controller": (
        "W&B's local controller is not kept; this returns a SweepController "
        "(suggest, report, pause, resume, finish), which has no run() or step()"
    ),
}

_warned: set[str] = set()
_warned_lock = threading.Lock()


class NotKeptWarning(UserWarning):
    """A W&B call whose data this server does not keep (said once per kind)."""


def warn_not_kept(kind: str) -> None:
    """Warn once per process that what `kind` records is not (all) kept."""
    with _warned_lock:
        if kind in _warned:
            return
        _warned.add(kind)
    name = kind if kind[0].isupper() else f"{kind}()"
    warnings.warn(
        f"SweepTracker: wandb.{name}: {NOT_KEPT[kind]} (said once).", NotKeptWarning, stacklevel=3
    )


class Media:
    """Something a script logs that is not a number; `to_summary()` is what the summary keeps."""

    kind = "Media"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.caption = kwargs.get("caption")
        warn_not_kept(self.kind)

    def to_summary(self) -> Any:
        """Nothing of it is kept."""
        return None

    def __repr__(self) -> str:
        return f"<{self.kind} (not kept by SweepTracker)>"


class Image(Media):
    """W&B's `wandb.Image(data_or_path, mode=None, caption=None, ...)`: accepted, not kept."""

    kind = "Image"


class Video(Media):
    """W&B's `wandb.Video(data_or_path, caption=None, fps=None, format=None)`: not kept."""

    kind = "Video"


class Audio(Media):
    """W&B's `wandb.Audio(data_or_path, sample_rate=None, caption=None)`: not kept."""

    kind = "Audio"


class Html(Media):
    """W&B's `wandb.Html(data, inject=True)`: not kept."""

    kind = "Html"


class Object3D(Media):
    """W&B's `wandb.Object3D(data_or_path)`: not kept."""

    kind = "Object3D"


class Histogram(Media):
    """W&B's `wandb.Histogram(sequence=None, np_histogram=None, num_bins=64)`.

    Kept in the summary: the bins and counts, and the min, max, mean and count
    of the values (estimated from the bins when given `np_histogram`).
    """

    kind = "Histogram"

    def __init__(
        self,
        sequence: Sequence[Any] | None = None,
        np_histogram: tuple[Sequence[Any], Sequence[Any]] | None = None,
        num_bins: int = 64,
    ) -> None:
        super().__init__()
        if np_histogram is not None:
            counts, bins = (plain(part, "np_histogram") for part in np_histogram)
            self.histogram = [float(c) for c in counts]
            self.bins = [float(b) for b in bins]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError("np_histogram needs one more bin edge than counts")
            self.stats = _bin_stats(self.histogram, self.bins)
            return
        if sequence is None:
            raise ValueError("Histogram needs a sequence or np_histogram")
        if not 1 <= num_bins <= MAX_BINS:
            raise ValueError(f"num_bins must be from 1 to {MAX_BINS}, not {num_bins}")
        values = [float(v) for v in _numbers(sequence)]
        values = [v for v in values if math.isfinite(v)]
        self.histogram, self.bins = _bin(values, num_bins)
        self.stats = {
            "min": min(values, default=None),
            "max": max(values, default=None),
            "mean": sum(values) / len(values) if values else None,
            "count": len(values),
        }

    def to_summary(self) -> dict[str, Any]:
        """The bins and statistics, as W&B's summary holds a histogram (plus the numbers)."""
        return {"_type": "histogram", "values": self.histogram, "bins": self.bins, **self.stats}


def _numbers(sequence: Any) -> list[Any]:
    """The flat numbers of a list, numpy array or tensor."""
    data = plain(sequence, "Histogram sequence") if hasattr(sequence, "tolist") else sequence
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list | tuple):
            flat.extend(_numbers(item))
        else:
            number = scalar(item)
            if number is None:
                raise TypeError(f"Histogram values must be numbers, not {item!r}")
            flat.append(number)
    return flat


def _bin(values: list[float], num_bins: int) -> tuple[list[float], list[float]]:
    """Counts and edges of `num_bins` equal bins over the values' range (numpy's rule)."""
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / num_bins
    edges = [low + i * width for i in range(num_bins)] + [high]
    counts = [0.0] * num_bins
    for value in values:
        counts[min(int((value - low) / width), num_bins - 1)] += 1
    return counts, edges


def _bin_stats(counts: list[float], bins: list[float]) -> dict[str, Any]:
    total = sum(counts)
    centers = [(a + b) / 2 for a, b in zip(bins, bins[1:], strict=False)]
    mean = sum(c * x for c, x in zip(counts, centers, strict=True)) / total if total else None
    return {"min": bins[0], "max": bins[-1], "mean": mean, "count": total}


class Table(Media):
    """W&B's `wandb.Table(columns=None, data=None, rows=None, dataframe=None, ...)`.

    Kept in the summary while small: its columns and rows as JSON; cells that
    are media are dropped (None), other objects kept as their text.
    """

    kind = "Table"

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Sequence[Sequence[Any]] | None = None,
        rows: Sequence[Sequence[Any]] | None = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
        log_mode: str | None = None,
    ) -> None:
        super().__init__()
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        data = data if data is not None else rows
        self.data: list[list[Any]] = [list(row) for row in data or []]
        width = len(self.data[0]) if self.data else 0
        self.columns = list(columns) if columns else [f"col{i}" for i in range(width)]

    def add_data(self, *row: Any) -> None:
        """Add a row, one value per column."""
        if len(row) != len(self.columns):
            raise ValueError(f"This table expects {len(self.columns)} columns, not {len(row)}")
        self.data.append(list(row))

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Add a column with a value for every row."""
        if self.data and len(data) != len(self.data):
            raise ValueError(f"The column needs {len(self.data)} values, not {len(data)}")
        self.columns.append(name)
        if not self.data:
            self.data = [[] for _ in data]
        for row, value in zip(self.data, data, strict=True):
            row.append(value)

    def get_column(self, name: str) -> list[Any]:
        """The values of one column."""
        index = self.columns.index(name)
        return [row[index] for row in self.data]

    def to_summary(self) -> dict[str, Any]:
        """The columns and as many rows as fit; `truncated` says when some did not."""
        rows: list[list[Any]] = []
        size = 0
        for row in self.data[:MAX_TABLE_ROWS]:
            cells = [_cell(value) for value in row]
            size += len(json.dumps(cells, default=str))
            if size > MAX_TABLE_BYTES:
                break
            rows.append(cells)
        return {
            "_type": "table",
            "columns": [str(c) for c in self.columns],
            "data": rows,
            "nrows": len(self.data),
            "truncated": len(rows) < len(self.data),
        }


def _cell(value: Any) -> Any:
    if isinstance(value, Media):
        return value.to_summary()
    number = scalar(value)
    if number is not None:
        return number if not isinstance(number, float) or math.isfinite(number) else str(number)
    try:
        return plain(value, "cell")
    except TypeError:
        return str(value)


class Artifact:
    """W&B's `wandb.Artifact(name, type, description=None, metadata=None, ...)`.

    Every method a script calls to build one works; its files are not stored,
    so nothing can be downloaded from it.
    """

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
    ) -> None:
        warn_not_kept("Artifact")
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self.aliases: list[str] = []
        self.files: list[str] = []

    def __repr__(self) -> str:
        return f"<Artifact {self.name!r} of type {self.type!r} (not stored by SweepTracker)>"

    def add_file(self, local_path: str, name: str | None = None, **kwargs: Any) -> None:
        """Note the file; it is not uploaded."""
        self.files.append(name or Path(local_path).name)

    def add_dir(self, local_path: str, name: str | None = None, **kwargs: Any) -> None:
        """Note the directory; it is not uploaded."""
        self.files.append(name or Path(local_path).name)

    def add_reference(self, uri: str, name: str | None = None, **kwargs: Any) -> None:
        """Note the reference; nothing is checked or stored."""
        self.files.append(name or uri)

    def add(self, obj: Any, name: str, **kwargs: Any) -> None:
        """Note the object; it is not stored."""
        self.files.append(name)

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """A file to write into, as in W&B; what is written is discarded."""
        self.files.append(name)
        binary = "b" in mode
        with tempfile.TemporaryFile("w+b" if binary else "w+", encoding=encoding) as file:
            yield file

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to save."""

    def wait(self, timeout: float | None = None) -> Artifact:
        """Nothing to wait for."""
        return self

    def download(self, *args: Any, **kwargs: Any) -> str:
        """There is nothing to download: artifacts are not stored."""
        raise SweepTrackerError(
            f"Artifact {self.name!r} cannot be downloaded: SweepTracker does not store "
            "artifacts. Read the files from where they were made."
        )

    def get(self, name: str) -> Any:
        """There is nothing to get: artifacts are not stored."""
        self.download()

    get_entry = get
    get_path = get


def artifact_of(artifact_or_name: Any, type: str | None = None) -> Artifact:
    """The Artifact a log_artifact()/use_artifact() call names (made when given a name)."""
    if isinstance(artifact_or_name, Artifact):
        return artifact_or_name
    name = str(artifact_or_name)
    return Artifact(Path(name).name or name, type or "unspecified")


def not_kept_call(kind: str) -> None:
    """A call whose data is not kept: warn once."""
    warn_not_kept(kind)
