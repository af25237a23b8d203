"""The transport every request goes through, and the read API built on it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from sweeptracker_client import settings
from sweeptracker_client.errors import SweepConfigError, SweepTrackerError, SweepUnavailable
from sweeptracker_client.sweep_info import Suggestion, SweepInfo, SweepStats, TrialInfo
from sweeptracker_client.values import from_wire

# Seconds to wait for the server to accept a connection and to answer.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
RUN_FILTERS = {"state", "tag", "search"}
# Enough points per history page that a typical run reads in a few requests.
HISTORY_PAGE = 10_000
LIST_PAGE = 200
SWEEP_ACTIONS = ("start", "pause", "resume", "finish", "cancel")
T = TypeVar("T")


def retry_while_away(call: Callable[[], T], patience: float | None = None) -> T:
    """`call()`, tried again with backoff while the server is unreachable or answers a
    retryable error (503 while its database is away), for up to `patience` seconds
    (SWEEPTRACKER_SPOOL_AFTER). Only for idempotent requests."""
    deadline = time.monotonic() + (settings.spool_after() if patience is None else patience)
    wait = 0.25
    while True:
        try:
            return call()
        except SweepTrackerError as error:
            if not error.retryable or time.monotonic() + wait > deadline:
                raise
        time.sleep(wait)
        wait = min(wait * 2, 5.0)


@dataclass
class Project:
    """A project you are a member of; `role` is yours in it."""

    slug: str
    name: str
    description: str
    owner: str
    role: str | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Project:
        """A Project from the API's JSON."""
        return cls(
            slug=data["slug"],
            name=data.get("name", ""),
            description=data.get("description", ""),
            owner=data.get("owner", ""),
            role=data.get("role"),
            created_at=_parse_time(data.get("created_at")),
        )


@dataclass
class RunInfo:
    """A run as the server holds it; `history()` reads its logged metrics."""

    id: int
    name: str
    project: str
    state: str
    config: dict[str, Any]
    summary: dict[str, Any]
    tags: list[str]
    notes: str
    created_at: datetime | None
    exit_code: int | None = None
    finished_at: datetime | None = None
    api: Api | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], api: Api | None = None) -> RunInfo:
        """A RunInfo from the API's JSON, non-finite numbers turned back into floats."""
        return cls(
            id=data["id"],
            name=data.get("name", ""),
            project=data.get("project", ""),
            state=data.get("state", ""),
            config=from_wire(data.get("config") or {}),
            summary=from_wire(data.get("summary") or {}),
            tags=list(data.get("tags") or []),
            notes=data.get("notes") or "",
            created_at=_parse_time(data.get("created_at")),
            exit_code=data.get("exit_code"),
            finished_at=_parse_time(data.get("finished_at")),
            api=api,
        )

    def history(self, keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Every logged row in step order: {"_step", "_timestamp", metric: value, ...}."""
        if self.api is None:
            raise SweepTrackerError("This RunInfo has no Api to read its history with.")
        return self.api.history(self.id, keys)


@dataclass
class LogAnswer:
    """What the server says to a batch of rows: how many points were new, and whether to stop."""

    stored: int
    should_stop: bool
    state: str


@dataclass
class HeartbeatAnswer:
    """The run's state on the server, and whether it should stop."""

    state: str
    should_stop: bool


class Api:
    """The one transport to the server; every HTTP request of the client goes through it.

    `base_url` and `api_key` default like `init()`'s (env, then the settings
    file). A given `session` is used as is, e.g. DRF's RequestsClient in tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        found = settings.load(base_url=base_url, api_key=api_key)
        self.base_url = found.require("base_url")
        self.api_key = found.require("api_key")
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections of a session this Api made itself."""
        if self._own_session:
            self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request to `{base_url}/api/v1/{path}` and return its JSON answer.

        Raises SweepTrackerError with the status and the server's message for
        any error answer, and with `unreachable` set when none came back.
        """
        url = f"{self.base_url}/api/v1/{path}"
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            # allow_nan=False: a NaN that slipped through would be invalid JSON to a strict reader.
            data = json.dumps(body, allow_nan=False, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        wait = (CONNECT_TIMEOUT, READ_TIMEOUT) if timeout is None else timeout
        try:
            response = self.session.request(
                method, url, params=params, data=data, headers=headers, timeout=wait
            )
        except requests.RequestException as error:
            raise SweepTrackerError(
                f"cannot reach the server at {self.base_url}: {_reason(error)}", unreachable=True
            ) from error
        return _answer(method, path, response)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every result of a paginated list, following `next` until there is none."""
        params = dict(params or {})
        while True:
            page = self.request("GET", path, params=params)
            yield from page.get("results", [])
            if not page.get("next"):
                return
            # Only next's query is used: a server behind a proxy may put its own host in it.
            params = dict(parse_qsl(urlsplit(page["next"]).query))

    # Projects

    def projects(self) -> list[Project]:
        """The projects you are a member of."""
        return [Project.from_json(p) for p in self.pages("projects/", {"limit": LIST_PAGE})]

    def project(self, slug: str) -> Project:
        """One project; SweepTrackerError with status 404 when it is not yours to see."""
        return Project.from_json(self.request("GET", f"projects/{slug}/"))

    def create_project(self, slug: str, name: str = "", description: str = "") -> Project:
        """A new project of which you are the admin."""
        body = {"slug": slug, "name": name or slug, "description": description}
        return Project.from_json(self.request("POST", "projects/", body=body))

    # Runs

    def runs(self, project: str, filters: dict[str, str] | None = None) -> list[RunInfo]:
        """The runs of a project, newest first; filters may hold state, tag and search."""
        filters = dict(filters or {})
        unknown = set(filters) - RUN_FILTERS
        if unknown:
            raise ValueError(f"Unknown run filters {sorted(unknown)}; use {sorted(RUN_FILTERS)}.")
        params = {"project": project, "limit": LIST_PAGE, **filters}
        return [RunInfo.from_json(r, self) for r in self.pages("runs/", params)]

    def run(self, id: int | str) -> RunInfo:
        """One run by id."""
        return RunInfo.from_json(self.request("GET", f"runs/{int(id)}/"), self)

    def create_run(
        self,
        project: str,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        notes: str | None = None,
    ) -> RunInfo:
        """Start a run in `project`; the server picks a name when none is given."""
        body: dict[str, Any] = {"project": project, "config": config or {}, "tags": tags or []}
        if name:
            body["name"] = name
        if notes:
            body["notes"] = notes
        return RunInfo.from_json(self.request("POST", "runs/", body=body), self)

    def update_run(self, id: int, fields: dict[str, Any], timeout: float | None = None) -> None:
        """Change a run's name, config, summary, tags or notes (config and summary replace)."""
        self.request("PATCH", f"runs/{id}/", body=fields, timeout=timeout)

    def log(self, id: int, batch: dict[str, Any], timeout: float | None = None) -> LogAnswer:
        """Send `{"rows": [...], "summary": {...}}`, already in wire form; resending is harmless."""
        answer = self.request("POST", f"runs/{id}/log/", body=batch, timeout=timeout)
        return LogAnswer(
            stored=int(answer.get("stored", 0)),
            should_stop=bool(answer.get("should_stop", False)),
            state=str(answer.get("state", "")),
        )

    def heartbeat(self, id: int, timeout: float | None = None) -> HeartbeatAnswer:
        """Tell the server the run is alive."""
        answer = self.request("POST", f"runs/{id}/heartbeat/", body={}, timeout=timeout)
        return HeartbeatAnswer(
            state=str(answer.get("state", "")), should_stop=bool(answer.get("should_stop"))
        )

    def finish_run(
        self,
        id: int,
        exit_code: int | None,
        timeout: float | None = None,
        state: str | None = None,
    ) -> RunInfo:
        """End the run: exit code 0 is finished, anything else failed; or name the
        final `state` (killed, say). 409 when it already ended another way."""
        body: dict[str, Any] = {"exit_code": exit_code}
        if state is not None:
            body["state"] = state
        answer = self.request("POST", f"runs/{id}/finish/", body=body, timeout=timeout)
        return RunInfo.from_json(answer, self)

    def history(self, id: int, keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Every logged row of run `id` in step order, the points of each step merged."""
        params: dict[str, Any] = {"limit": HISTORY_PAGE, "offset": 0}
        if keys:
            params["keys"] = ",".join(keys)
        rows: dict[int, dict[str, Any]] = {}
        for point in self.pages(f"runs/{int(id)}/history/", params):
            step = point["step"]
            row = rows.setdefault(step, {"_step": step, "_timestamp": point["time"]})
            row["_timestamp"] = max(row["_timestamp"], point["time"])
            row[point["key"]] = float(from_wire(point["value"]))
        return [rows[step] for step in sorted(rows)]

    # Sweeps

    def create_sweep(
        self,
        project: str,
        config: dict[str, Any] | str,
        name: str | None = None,
        description: str | None = None,
        seed: int | None = None,
    ) -> SweepInfo:
        """A new sweep in `project` from a config dict or YAML/JSON text.

        A config the server refuses raises SweepConfigError listing every
        problem as `path: message`.
        """
        body: dict[str, Any] = {"project": project, "config": config}
        for key, value in (("name", name), ("description", description), ("seed", seed)):
            if value is not None:
                body[key] = value
        try:
            answer = self.request("POST", "sweeps/", body=body)
        except SweepTrackerError as error:
            problems = _config_problems(error)
            if problems:
                raise SweepConfigError(problems, error.status, error.detail) from error
            raise
        return SweepInfo.from_json(answer, self.base_url)

    def sweep(self, id: str, trials: bool = True) -> SweepInfo:
        """One sweep, with its trials in number order unless `trials` is False."""
        info = SweepInfo.from_json(self._sweep_request("GET", id), self.base_url)
        if trials:
            info.trials = self.sweep_trials(id)
        return info

    def sweep_trials(self, id: str, state: str | None = None) -> list[TrialInfo]:
        """The trials of a sweep by number; `state` keeps those in it only."""
        params: dict[str, Any] = {"limit": LIST_PAGE}
        if state:
            params["state"] = state
        path = f"sweeps/{_quote(id)}/trials/"
        return [TrialInfo.from_json(t) for t in self.pages(path, params)]

    def trial(self, sweep_id: str, number: int) -> TrialInfo:
        """One trial of a sweep by its number."""
        # Trial numbers are dense from 0 and the list is in number order, so
        # the trial is at offset `number`: one small request, however big the sweep.
        page = self.request(
            "GET", f"sweeps/{_quote(sweep_id)}/trials/", params={"limit": 1, "offset": number}
        )
        for data in page.get("results", []):
            if data.get("number") == number:
                return TrialInfo.from_json(data)
        for trial in self.sweep_trials(sweep_id):
            if trial.number == number:
                return trial
        raise SweepTrackerError(f"Sweep {sweep_id} has no trial {number}.", 404)

    def sweep_action(self, id: str, action: str) -> SweepInfo:
        """start, pause, resume, finish (no new trials) or cancel (kill the running ones).

        SweepTrackerError with status 409 when the sweep's state does not allow it.
        """
        if action not in SWEEP_ACTIONS:
            raise ValueError(f"Unknown sweep action {action!r}; use one of {SWEEP_ACTIONS}.")
        return SweepInfo.from_json(self._sweep_request("POST", id, f"{action}/"), self.base_url)

    def suggest(self, id: str) -> Suggestion:
        """The next trial of the sweep: a new run whose config holds the params to try.

        Raises SweepUnavailable when there is none now; its `retry` says
        whether asking again later may get one (paused, or busy).
        """
        try:
            answer = self._sweep_request("POST", id, "suggest/")
        except SweepTrackerError as error:
            detail = error.detail if isinstance(error.detail, dict) else {}
            if error.status == 409 and "reason" in detail:
                raise SweepUnavailable(
                    str(detail.get("detail") or error.message),
                    reason=str(detail["reason"]),
                    retry=bool(detail.get("retry")),
                    state=str(detail.get("state", "")),
                    detail=detail,
                ) from error
            raise
        return Suggestion.from_json(answer)

    def report(
        self,
        id: str,
        trial: int,
        value: float | list[float] | None = None,
        failed: bool = False,
    ) -> TrialInfo:
        """Tell the sweep a trial's result: its value (a list for several metrics), or failed."""
        body: dict[str, Any] = {"trial": int(trial)}
        if failed:
            body["state"] = "failed"
        elif isinstance(value, list | tuple):
            body["values"] = [float(v) for v in value]
        elif value is not None:
            body["value"] = float(value)
        else:
            raise ValueError("report() needs a value, or failed=True.")
        answer = self.request("POST", f"sweeps/{_quote(id)}/report/", body=body)
        return TrialInfo.from_json(answer)

    def sweep_stats(self, id: str) -> SweepStats:
        """Trials per state, the best trial and parameter importance."""
        return SweepStats.from_json(self._sweep_request("GET", id, "stats/"))

    def _sweep_request(self, method: str, id: str, action: str = "", body: Any = None) -> Any:
        """A request on sweep `id`, whose 404 says plainly that there is no such sweep."""
        if method == "POST" and body is None:
            body = {}
        try:
            return self.request(method, f"sweeps/{_quote(id)}/{action}", body=body)
        except SweepTrackerError as error:
            if error.status == 404:
                raise SweepTrackerError(
                    f"No sweep {id!r} on {self.base_url} (or it is in a project "
                    "you are not a member of).",
                    404,
                    error.detail,
                ) from error
            raise


def _quote(sweep_id: str) -> str:
    return quote(str(sweep_id), safe="")


def _config_problems(error: SweepTrackerError) -> list[str]:
    """Each problem of a refused sweep config as `path: message`; [] for other errors."""
    detail = error.detail if isinstance(error.detail, dict) else {}
    if error.status != 400 or not isinstance(detail.get("problems"), list):
        return []
    return [
        f"{p['path']}: {p['message']}" if p.get("path") else str(p.get("message"))
        for p in detail["problems"]
    ]


def _answer(method: str, path: str, response: requests.Response) -> Any:
    """The JSON of a successful answer; SweepTrackerError with the server's message otherwise."""
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    if response.status_code >= 400:
        message = _message(data) or response.text.strip()[:200] or response.reason
        raise SweepTrackerError(
            f"{method} /api/v1/{path} failed with {response.status_code}: {message}",
            status=response.status_code,
            detail=data,
        )
    if data is None and response.content:
        raise SweepTrackerError(
            f"{method} /api/v1/{path} answered with something that is not JSON; "
            "is the base URL that of a SweepTracker server?",
            status=response.status_code,
        )
    return data


def _message(data: Any) -> str:
    """The server's error body in one line: its detail, or each field with its messages."""
    if not isinstance(data, dict):
        return ""
    if "detail" in data:
        return str(data["detail"])
    parts = []
    for name, messages in data.items():
        text = " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


def _reason(error: requests.RequestException) -> str:
    """Why a request got no answer, short: requests' own messages run to several lines."""
    if isinstance(error, requests.Timeout):
        return "the request timed out"
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    return found.group(1).strip() if found else type(error).__name__


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
