"""W&B's public Api objects for analysis notebooks: runs, sweeps, paginated lists and history.

`Api().run(path)`, `Api().runs(path, filters)`, `Api().sweep(path)` and
`Api().project(name).sweeps()` answer these, with the names and behaviour of
`wandb.Api()`'s. Paths are "id", "project/id" or "entity/project/id"; the
entity here is the project owner's username.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload
from urllib.parse import parse_qsl, quote, urlsplit

import yaml

from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.sweep_info import SweepInfo, TrialInfo
from sweeptracker_client.values import from_wire, to_wire

if TYPE_CHECKING:
    from sweeptracker_client.api import Api

logger = logging.getLogger("sweeptracker_client")

T = TypeVar("T")
# The server's largest page of history points (runs.api.HistoryPagination.max_limit).
MAX_POINTS_PAGE = 50_000
# History rows carry these beside the metrics; they are not metric keys on the server.
ROW_FIELDS = ("_step", "_timestamp")
ENDED_STATES = {"finished", "failed", "crashed", "killed"}
# Order keys naming a run column; any other bare name is a summary metric, as in W&B.
RUN_COLUMNS = {"created_at", "createdAt", "updatedAt", "name", "display_name", "state", "sweep"}
ORDER_PREFIXES = ("config", "summary_metrics", "tags")
# How often wait_until_finished() asks the server.
WAIT_INTERVAL = 2.0


class RunFilterError(SweepTrackerError, ValueError):
    """The server refused a runs query: an unknown operator or field, bad JSON, a bad order.

    A ValueError too, as bad arguments are, so `except ValueError` keeps working."""


def parse_path(path: str | int | None) -> tuple[str | None, str | None, str]:
    """(entity, project, id) from W&B's path forms: "id", "project/id", "entity/project/id",
    "entity/project/runs/id", "entity/project/sweeps/id", "project:id" or "entity/project:id".
    """
    parts = [part.strip() for part in str(path if path is not None else "").strip("/ ").split("/")]
    if len(parts) > 1 and parts[0] in ("runs", "sweeps"):
        parts = parts[1:]
    if len(parts) == 4 and parts[2] in ("runs", "sweeps"):
        del parts[2]
    if ":" in parts[-1]:
        parts[-1:] = parts[-1].split(":", 1)
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"Invalid path {path!r}: use 'id', 'project/id' or 'entity/project/id'.")
    entity = parts[-3] if len(parts) == 3 else None
    project = parts[-2] if len(parts) >= 2 else None
    return entity, project, parts[-1]


def parse_project_path(path: str | None) -> tuple[str | None, str | None]:
    """(entity, project) from "project" or "entity/project"."""
    if not path:
        return None, None
    parts = [part.strip() for part in path.strip("/ ").split("/")]
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"Invalid project path {path!r}: use 'project' or 'entity/project'.")
    return (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def format_order_key(key: str) -> str:
    """W&B's reading of an order: a leading "+" ascending, "-" (or none) descending; a bare name
    that is not a run column is a summary metric ("loss" -> "-summary_metrics.loss")."""
    direction, name = (key[0], key[1:]) if key[:1] in ("+", "-") else ("-", key)
    parts = name.split(".")
    if (len(parts) == 1 and name in RUN_COLUMNS) or parts[0] in ORDER_PREFIXES:
        return direction + name
    return f"{direction}summary_metrics.{name}"


def to_frame(rows: list[dict[str, Any]], columns: list[str] | None) -> Any:
    """`rows` as a pandas DataFrame when pandas is installed, else the rows themselves."""
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame.from_records(rows, columns=columns)


def _check_keys(keys: Any) -> list[str] | None:
    if keys is None:
        return None
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ValueError(f"keys must be a list of strings, not {keys!r}")
    return keys


def _metric_keys(keys: list[str] | None) -> list[str] | None:
    """The keys to ask the server for: the metrics among `keys` (None asks for every metric)."""
    if not keys:
        return None
    metrics = [key for key in keys if key not in ROW_FIELDS]
    return metrics or None


def _with_keys(rows: Iterator[dict[str, Any]], keys: list[str]) -> Iterator[dict[str, Any]]:
    """The rows holding every one of `keys`, holding nothing else (W&B's sampled history)."""
    for row in rows:
        if all(key in row for key in keys):
            yield {key: row[key] for key in keys}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"filters hold a {type(value).__name__} that JSON cannot carry: {value!r}")


def filters_json(filters: dict[str, Any]) -> str:
    """W&B's MongoDB-style filters as the server reads them; datetimes as ISO text."""
    return json.dumps(filters, default=_json_default, allow_nan=False)


class Paginator(Generic[T]):
    """A list the server sends page by page: the first page at once (so a refused query fails
    at the call), later pages while iterating or indexing. len() is the server's count."""

    def __init__(
        self,
        api: Api,
        path: str,
        params: dict[str, Any],
        per_page: int,
        convert: Callable[[dict[str, Any]], T],
    ) -> None:
        self._api = api
        self._path = path
        self._convert = convert
        self._next: dict[str, Any] | None = {**params, "limit": per_page, "offset": 0}
        self._count = 0
        self.per_page = per_page
        self.objects: list[T] = []
        self._load_page()

    def _request(self, params: dict[str, Any]) -> Any:
        return self._api.request("GET", self._path, params=params)

    def _load_page(self) -> bool:
        if self._next is None:
            return False
        page = self._request(self._next)
        self._count = int(page.get("count") or 0)
        self.objects.extend(self._convert(data) for data in page.get("results", []))
        following = page.get("next")
        # Only next's query is used: a server behind a proxy may put its own host in it.
        self._next = dict(parse_qsl(urlsplit(following).query)) if following else None
        return True

    def _load_all(self) -> None:
        while self._load_page():
            pass

    def __iter__(self) -> Iterator[T]:
        index = 0
        while True:
            while index < len(self.objects):
                yield self.objects[index]
                index += 1
            if not self._load_page():
                return

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        stop = index.stop if isinstance(index, slice) else index + 1
        start = index.start if isinstance(index, slice) else index
        if stop is None or stop <= 0 or (start is not None and start < 0):
            # Counted from the end: every page is needed.
            self._load_all()
        else:
            while len(self.objects) < stop and self._load_page():
                pass
        return self.objects[index]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path} ({self._count})>"


class Runs(Paginator["Run"]):
    """The runs of a project matching W&B-style `filters`, in `order`, read page by page."""

    def __init__(
        self,
        api: Api,
        project: str | None,
        filters: dict[str, Any] | None = None,
        order: str = "-created_at",
        per_page: int = 50,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.project = project
        self.filters = dict(filters or {})
        self.order = order
        query: dict[str, Any] = {"order": order, **(params or {})}
        if project:
            query["project"] = project
        if self.filters:
            query["filters"] = filters_json(self.filters)
        super().__init__(api, "runs/", query, per_page, lambda data: Run(api, data))

    def _request(self, params: dict[str, Any]) -> Any:
        try:
            return super()._request(params)
        except SweepTrackerError as error:
            if error.status != 400:
                raise
            raise RunFilterError(
                f"The server refused the runs query (filters={self.filters!r}, "
                f"order={self.order!r}): {error.message.split(': ', 1)[-1]}",
                error.status,
                error.detail,
            ) from error

    def histories(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        format: str = "default",
        stream: str = "default",
    ) -> Any:
        """Every run's sampled history, each row with its `run_id`: a list of dicts, or one
        DataFrame with format="pandas"."""
        if format not in ("default", "pandas"):
            raise ValueError(f"format must be 'default' or 'pandas' here, not {format!r}")
        rows: list[dict[str, Any]] = []
        for run in self:
            for row in run.history(samples, keys, x_axis, pandas=False, stream=stream):
                rows.append({**row, "run_id": run.id})
        if format == "default":
            return rows
        import pandas

        return pandas.DataFrame.from_records(rows)


class HTTPSummary(dict[str, Any]):
    """A run's summary, as W&B's: setting a key or calling update() writes it to the server."""

    def __init__(self, run: Run, values: dict[str, Any]) -> None:
        super().__init__(values)
        # A weak reference: no cycle keeps the run, hence its Api and connections, alive
        # after a script drops them.
        self._run = weakref.ref(run)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._write()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._write()

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Merge the given values (if any) and write the whole summary to the server."""
        super().update(*args, **kwargs)
        self._write()

    def _write(self) -> None:
        run = self._run()
        if run is None:
            raise SweepTrackerError("This summary's run is gone: read it again with Api().run().")
        run._save({"summary": to_wire(dict(self))})


class Run:
    """One run, as W&B's public `Run`.

    `id` is the run's W&B-style id (a str), `name` its display name; `config`,
    `summary`, `tags`, `notes`, `group` and `job_type` may be changed and written
    back with `update()` (a summary key set is written at once, as in W&B).
    Attributes the server sends that have no property here (`pk`, `exit_code`,
    `metric_definitions`, ...) read from its JSON.
    """

    def __init__(self, api: Api, attrs: dict[str, Any]) -> None:
        self._api = api
        self._sweep: Sweep | None = None
        self._load(attrs)

    def _load(self, attrs: dict[str, Any]) -> None:
        self._attrs = dict(attrs)
        self.id = str(attrs["id"])
        self.name: str = attrs.get("name") or ""
        self.project: str = attrs.get("project") or ""
        self.config: dict[str, Any] = from_wire(attrs.get("config") or {})
        self._summary = HTTPSummary(self, from_wire(attrs.get("summary") or {}))
        self.tags: list[str] = list(attrs.get("tags") or [])
        self.notes: str = attrs.get("notes") or ""
        self.group: str = attrs.get("group") or ""
        self.job_type: str = attrs.get("job_type") or ""
        self.created_at: str | None = attrs.get("created_at")

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: the rest of the server's JSON.
        attrs = self.__dict__.get("_attrs", {})
        if name.startswith("_") or name not in attrs:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return attrs[name]

    def __repr__(self) -> str:
        return f"<Run {'/'.join(self.path)} ({self.state})>"

    @property
    def _ref(self) -> str:
        """What names the run in a URL: its pk, unique across projects (else id and project)."""
        pk = self._attrs.get("pk")
        return str(pk) if pk is not None else quote(self.id, safe="")

    @property
    def _scope(self) -> dict[str, Any]:
        return {} if self._attrs.get("pk") is not None else {"project": self.project}

    @property
    def state(self) -> str:
        """running, finished, failed, crashed or killed."""
        return str(self._attrs.get("state") or "")

    @property
    def entity(self) -> str:
        """The project owner's username: what W&B's entity is here."""
        return self._attrs.get("entity") or self._api.project_owner(self.project)

    @property
    def display_name(self) -> str:
        """W&B's other name for `name`."""
        return self.name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self.name = value

    @property
    def summary(self) -> HTTPSummary:
        """The run's summary: the last value of each metric unless set otherwise."""
        return self._summary

    @property
    def summary_metrics(self) -> dict[str, Any]:
        """The summary as a plain dict."""
        return dict(self._summary)

    @property
    def path(self) -> list[str]:
        """[entity, project, id], as W&B's."""
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        """The run's page on the server."""
        given = self._attrs.get("url")
        if given:
            return str(given)
        return f"{self._api.base_url}/p/{self.project}/runs/{quote(self.id, safe='')}/"

    @property
    def sweep_name(self) -> str | None:
        """The id of the sweep this run is a trial of, or None."""
        sweep = self._attrs.get("sweep")
        return None if sweep is None else str(sweep)

    @property
    def sweep(self) -> Sweep | None:
        """The sweep this run is a trial of (read on first use), or None."""
        if self._sweep is None and self.sweep_name:
            self._sweep = self._api.sweep(f"{self.project}/{self.sweep_name}", trials=False)
        return self._sweep

    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 (W&B's name)
        """The highest step logged, -1 when none."""
        answer = self._api.request("GET", f"runs/{self._ref}/", params=self._scope)
        last = answer.get("last_step")
        return -1 if last is None else int(last)

    def load(self, force: bool = False) -> dict[str, Any]:
        """Read the run again from the server (only when `force`, or never read); its JSON."""
        if force or not self._attrs:
            self._load(self._api.request("GET", f"runs/{self._ref}/", params=self._scope))
        return self._attrs

    def wait_until_finished(self) -> None:
        """Ask the server every few seconds until the run has ended."""
        while True:
            self.load(force=True)
            if self.state in ENDED_STATES:
                return
            time.sleep(WAIT_INTERVAL)

    def update(self) -> None:
        """Write name, tags, notes, group, job_type, config and summary back to the server."""
        self._save(
            {
                "name": self.name,
                "tags": list(self.tags),
                "notes": self.notes,
                "group": self.group,
                "job_type": self.job_type,
                "config": to_wire(self.config),
                "summary": to_wire(dict(self._summary)),
            }
        )

    def save(self) -> None:
        """W&B's other name for `update()`."""
        self.update()

    def delete(self, delete_artifacts: bool = False) -> None:
        """Delete the run and its history from the server (there are no artifacts to delete)."""
        self._api.request("DELETE", f"runs/{self._ref}/", params=self._scope)

    def _save(self, fields: dict[str, Any]) -> None:
        path = f"runs/{self._ref}/"
        answer = self._api.request("PATCH", path, params=self._scope, body=fields)
        if isinstance(answer, dict) and "id" in answer:
            self._attrs.update(answer)

    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: str = "default",
    ) -> Any:
        """At most `samples` rows of the run's history, spread over it, first and last kept:
        a pandas DataFrame (when pandas is installed and `pandas` is True) or a list of dicts.

        Without `keys` each row holds `_step`, `_timestamp` and every metric logged at that
        step; with `keys`, only the rows holding all of them, with `x_axis` and the keys as
        columns. `stream="system"` (machine metrics) is not kept here: no rows.
        """
        keys = _check_keys(keys)
        columns = list(dict.fromkeys([x_axis, *keys])) if keys else None
        rows: list[dict[str, Any]] = []
        if stream != "default":
            logger.warning(
                "SweepTracker keeps no system metrics: history(stream=%r) is empty.", stream
            )
        else:
            found = self._api.history_rows(
                self._ref, _metric_keys(columns), samples=samples, params=self._scope
            )
            rows = list(_with_keys(found, columns) if columns else found)
        return to_frame(rows, columns) if pandas else rows

    def scan_history(
        self,
        keys: list[str] | None = None,
        page_size: int = 1_000,
        min_step: int | None = None,
        max_step: int | None = None,
        use_cache: bool = True,
    ) -> HistoryScan:
        """Every history row with min_step <= _step < max_step, in step order, read from the
        server page by page as the iteration goes. With `keys`, only the rows holding all of
        them, each holding only them. `use_cache` is accepted: nothing is cached here."""
        return HistoryScan(self, _check_keys(keys), page_size, min_step, max_step)

    # Things W&B keeps beside metrics, which this server does not.

    @property
    def system_metrics(self) -> dict[str, Any]:
        """No machine metrics are kept here: always {}."""
        return {}

    @property
    def metadata(self) -> dict[str, Any] | None:
        """No wandb-metadata.json is kept here: always None."""
        return None

    def files(self, names: list[str] | None = None, per_page: int = 50) -> list[Any]:
        """No files are kept here: always []."""
        _not_kept("files")
        return []

    def logged_artifacts(self, per_page: int = 100) -> list[Any]:
        """No artifacts are kept here: always []."""
        _not_kept("artifacts")
        return []

    def used_artifacts(self, per_page: int = 100) -> list[Any]:
        """No artifacts are kept here: always []."""
        _not_kept("artifacts")
        return []

    def file(self, name: str) -> Any:
        """No files are kept here: SweepTrackerError."""
        raise SweepTrackerError(f"SweepTracker keeps no files: run {self.id} has no {name!r}.")

    def upload_file(self, path: str, root: str = ".") -> Any:
        """No files are kept here: SweepTrackerError."""
        raise SweepTrackerError(f"SweepTracker keeps no files: {path!r} was not uploaded.")

    def use_artifact(self, artifact: Any, use_as: str | None = None) -> Any:
        """No artifacts are kept here: SweepTrackerError."""
        raise SweepTrackerError("SweepTracker keeps no artifacts: there is none to use.")

    def log_artifact(self, artifact: Any, aliases: Any = None, tags: Any = None) -> Any:
        """No artifacts are kept here: SweepTrackerError."""
        raise SweepTrackerError("SweepTracker keeps no artifacts: nothing was logged.")


_warned: set[str] = set()


def _not_kept(kind: str) -> None:
    """Warn once per kind that the server keeps none of it."""
    if kind not in _warned:
        _warned.add(kind)
        logger.warning("SweepTracker keeps no %s: the public Api answers none.", kind)


class HistoryScan:
    """W&B's HistoryScan: the rows of a run's history, fetched from the server a page at a
    time while the iteration goes on (a page holds about `page_size` rows)."""

    def __init__(
        self,
        run: Run,
        keys: list[str] | None,
        page_size: int,
        min_step: int | None,
        max_step: int | None,
    ) -> None:
        self.run = run
        self.keys = keys
        self.page_size = page_size
        self.min_step = min_step
        self.max_step = max_step
        self._rows: Iterator[dict[str, Any]] | None = None

    def _scan(self) -> Iterator[dict[str, Any]]:
        # A page of points holds one point per metric of a row: as many points per row as
        # keys asked, else about as many as the summary has metrics.
        per_row = len(self.keys) if self.keys else max(1, len(self.run.summary_metrics))
        params = dict(self.run._scope)
        for name, value in (("min_step", self.min_step), ("max_step", self.max_step)):
            if value is not None:
                params[name] = int(value)
        rows = self.run._api.history_rows(
            self.run._ref,
            _metric_keys(self.keys),
            page=min(MAX_POINTS_PAGE, max(1, self.page_size * per_row)),
            params=params,
        )
        return _with_keys(rows, self.keys) if self.keys else rows

    def __iter__(self) -> HistoryScan:
        self._rows = self._scan()
        return self

    def __next__(self) -> dict[str, Any]:
        if self._rows is None:
            self._rows = self._scan()
        return next(self._rows)


class Sweep:
    """One sweep, as W&B's public `Sweep`, with this server's trials.

    `config` is the config as submitted (W&B's); `info` is the sweep as the
    server holds it (normalized config, metric list, run cap, ...), and its
    attributes read through: `sweep.best_trial`, `sweep.trials`, `sweep.method`.
    """

    def __init__(
        self, api: Api, info: SweepInfo, entity: str | None = None, trials: bool = False
    ) -> None:
        self._api = api
        self.info = info
        self._entity = entity
        self._trials_read = trials
        self._runs: Runs | None = None

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes here: those of the SweepInfo.
        info = self.__dict__.get("info")
        if name.startswith("_") or info is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(info, name)

    def __repr__(self) -> str:
        return f"<Sweep {'/'.join(self.path)} ({self.state})>"

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        """The sweep's name (its id when it has none)."""
        return self.info.name or self.id

    @property
    def state(self) -> str:
        """pending, running, paused, finished, failed or canceled."""
        return self.info.state

    @property
    def project(self) -> str:
        return self.info.project

    @property
    def entity(self) -> str:
        """The project owner's username: what W&B's entity is here."""
        if self._entity is None:
            self._entity = self._api.project_owner(self.project)
        return self._entity

    @property
    def url(self) -> str:
        """The sweep's page on the server."""
        return self.info.url

    @property
    def path(self) -> list[str]:
        """[entity, project, id], as W&B's."""
        return [self.entity, self.project, self.id]

    @property
    def config(self) -> dict[str, Any]:
        """The sweep config as it was submitted (W&B's), read from its YAML/JSON text."""
        if not self.info.config_text:
            return dict(self.info.config)
        loaded = yaml.safe_load(self.info.config_text)
        return loaded if isinstance(loaded, dict) else {}

    @property
    def trials(self) -> list[TrialInfo]:
        """The sweep's trials in number order (read on first use)."""
        if not self._trials_read:
            self.info.trials = self._api.sweep_trials(self.id)
            self._trials_read = True
        return self.info.trials

    @property
    def runs(self) -> Runs:
        """The sweep's runs, oldest first, read page by page."""
        if self._runs is None:
            self._runs = Runs(
                self._api, self.project, order="+created_at", params={"sweep": self.id}
            )
        return self._runs

    @property
    def order(self) -> str | None:
        """The order that puts the best run first: the sweep metric by its goal."""
        if not self.info.metric:
            return None
        metric = self.info.metric[0]
        direction = "-" if metric.get("goal") == "maximize" else "+"
        return f"{direction}summary_metrics.{metric['name']}"

    def best_run(self, order: str | None = None) -> Run | None:
        """The best run by `order` (W&B's order keys: "-val_acc", "+summary_metrics.loss"),
        by default the sweep metric with its goal; None when no run has the metric."""
        key = self.order if order is None else format_order_key(order)
        if key is None:
            logger.warning("The sweep has no metric and no order was given: the newest run.")
            key = "-created_at"
        column = key.lstrip("+-")
        clauses: list[dict[str, Any]] = [{"sweep": self.id}]
        if column.startswith(("summary_metrics.", "config.")):
            # A run that never logged the metric cannot be the best by it.
            clauses.append({column: {"$exists": True}})
        runs = Runs(self._api, self.project, {"$and": clauses}, key, per_page=1)
        return runs[0] if len(runs) else None

    @property
    def expected_run_count(self) -> int | None:
        """How many runs the sweep will make: its run_cap, or a grid's size; None if unbounded."""
        config = self.config
        grid = None
        if config.get("method") == "grid":
            grid = _grid_size(config.get("parameters") or {})
        counts = [count for count in (self.info.run_cap, grid) if count is not None]
        return min(counts) if counts else None

    def load(self, force: bool = False) -> SweepInfo:
        """Read the sweep again from the server (when `force`)."""
        if force:
            self.info = self._api.sweep_info(self.id, trials=self._trials_read)
        return self.info


def _grid_size(parameters: dict[str, Any]) -> int | None:
    """The number of points of a grid, None when a parameter is not a list of values."""
    total = 1
    for spec in parameters.values():
        if not isinstance(spec, dict):
            return None
        if "parameters" in spec:
            inner = _grid_size(spec["parameters"] or {})
            if inner is None:
                return None
            total *= inner
        elif "values" in spec:
            total *= len(spec["values"])
        elif "value" not in spec:
            return None
    return total
