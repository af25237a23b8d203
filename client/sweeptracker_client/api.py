"""The transport every request goes through, and the read API built on it."""

from __future__ import annotations

import json
import re
import threading
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
from sweeptracker_client.public import (
    Paginator,
    Run,
    Runs,
    Sweep,
    parse_path,
    parse_project_path,
)
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
    """A project you are a member of, as W&B's public Project; `role` is yours in it.

    As in W&B, `name` is what paths use (here the slug) and `entity` the
    owner's username; `display_name` is the title its pages show.
    """

    slug: str
    display_name: str
    description: str
    owner: str
    role: str | None
    created_at: datetime | None
    api: Api | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], api: Api | None = None) -> Project:
        """A Project from the API's JSON."""
        return cls(
            slug=data["slug"],
            display_name=data.get("name", ""),
            description=data.get("description", ""),
            owner=data.get("owner", ""),
            role=data.get("role"),
            created_at=_parse_time(data.get("created_at")),
            api=api,
        )

    @property
    def name(self) -> str:
        """The project's name in paths: `api.runs(f"{p.entity}/{p.name}")`."""
        return self.slug

    @property
    def entity(self) -> str:
        """The owner's username: what W&B's entity is here."""
        return self.owner

    @property
    def path(self) -> list[str]:
        """[entity, name], as W&B's."""
        return [self.owner, self.slug]

    @property
    def url(self) -> str:
        """The project's page on the server."""
        return f"{self._api().base_url}/p/{self.slug}/"

    def sweeps(self, per_page: int = 50) -> Paginator[Sweep]:
        """The project's sweeps, newest first, read page by page."""
        api = self._api()

        def convert(data: dict[str, Any]) -> Sweep:
            return Sweep(api, SweepInfo.from_json(data, api.base_url), self.owner)

        return Paginator(api, "sweeps/", {"project": self.slug}, per_page, convert)

    def _api(self) -> Api:
        if self.api is None:
            raise SweepTrackerError("This Project has no Api to read through.")
        return self.api


@dataclass
class RunInfo:
    """A run as the server holds it; `history()` reads its logged metrics.

    `id` is the W&B-style id (a str: the explicit id given at creation, else
    the digits of `pk`); `pk` is the server's integer key, which every request
    about the run uses, since it is unique across projects.
    """

    id: str
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
    pk: int | None = None
    group: str = ""
    job_type: str = ""
    entity: str = ""
    sweep: str | None = None
    url: str = ""
    metric_definitions: dict[str, Any] = field(default_factory=dict)
    # The highest step logged (in a detail or resume answer), and whether init() resumed it.
    last_step: int | None = None
    resumed: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], api: Api | None = None) -> RunInfo:
        """A RunInfo from the API's JSON, non-finite numbers turned back into floats."""
        pk = data.get("pk")
        if pk is None and isinstance(data["id"], int):
            # A server from before string ids: its id is the primary key.
            pk = data["id"]
        return cls(
            id=str(data["id"]),
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
            pk=None if pk is None else int(pk),
            group=data.get("group") or "",
            job_type=data.get("job_type") or "",
            entity=data.get("entity") or "",
            sweep=None if data.get("sweep") is None else str(data["sweep"]),
            url=data.get("url") or "",
            metric_definitions=dict(data.get("metric_definitions") or {}),
            last_step=data.get("last_step"),
            resumed=bool(data.get("resumed", False)),
        )

    @property
    def ref(self) -> str:
        """What names the run in a URL: its pk, unique across projects (else its id)."""
        return str(self.pk) if self.pk is not None else self.id

    def history(self, keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Every logged row in step order: {"_step", "_timestamp", metric: value, ...}."""
        if self.api is None:
            raise SweepTrackerError("This RunInfo has no Api to read its history with.")
        return self.api.history(self.ref, keys)


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

    It is W&B's public Api too: `run(path)`, `runs(path, filters)`,
    `sweep(path)`, `project(name)` and `projects()` answer W&B's objects.

    `base_url` and `api_key` default like `init()`'s (env, then the settings
    file). A given `session` is used as is, e.g. DRF's RequestsClient in tests.
    W&B's `Api(overrides={"project": ..., "entity": ..., "base_url": ...},
    timeout=seconds)` works too; overrides give the project and entity that
    paths leave out.
    """

    def __init__(
        self,
        base_url: str | dict[str, Any] | None = None,
        api_key: str | None = None,
        session: requests.Session | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        if isinstance(base_url, dict):
            # W&B's first argument is `overrides`: Api({"project": "mnist"}).
            overrides = {**base_url, **(overrides or {})}
            base_url = None
        overrides = dict(overrides or {})
        found = settings.load(base_url=base_url or overrides.get("base_url"), api_key=api_key)
        self.base_url = found.require("base_url")
        self.api_key = found.require("api_key")
        self.timeout = timeout
        self.default_project: str | None = overrides.get("project") or None
        self.default_entity: str | None = overrides.get("entity") or None
        self._owners: dict[str, str] = {}
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        # Trial results to send with the next suggestion of each sweep (`report_next`).
        self._queued_reports: dict[str, dict[str, Any]] = {}
        self.last_reported: TrialInfo | None = None

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
        if timeout is not None:
            wait: float | tuple[float, float] = timeout
        else:
            wait = (CONNECT_TIMEOUT, READ_TIMEOUT if self.timeout is None else self.timeout)
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

    def projects(self, entity: str | None = None, per_page: int = LIST_PAGE) -> list[Project]:
        """The projects you are a member of; with `entity`, those that user owns."""
        found = [Project.from_json(p, self) for p in self.pages("projects/", {"limit": per_page})]
        return [p for p in found if entity is None or p.owner == entity]

    def project(self, name: str, entity: str | None = None) -> Project:
        """One project by name (its slug); SweepTrackerError with status 404 when it is not
        yours to see, or naming the wrong `entity` when another user owns it."""
        try:
            project = Project.from_json(self.request("GET", f"projects/{_quote(name)}/"), self)
        except SweepTrackerError as error:
            if error.status == 404:
                raise SweepTrackerError(
                    f"No project {name!r} on {self.base_url} (404; or you are not a member of it).",
                    404,
                    error.detail,
                ) from error
            raise
        self._owners[project.slug] = project.owner
        self._check_entity(entity or self.default_entity, project.slug, project.owner)
        return project

    def project_owner(self, project: str) -> str:
        """The username of the project's owner: W&B's entity for it (read once per Api)."""
        if project not in self._owners:
            self.project(project)
        return self._owners[project]

    def from_path(self, path: str) -> Project | Run | Sweep:
        """W&B's from_path: "project" or "entity/project" is a Project,
        "entity/project/runs/id" a Run, "entity/project/sweeps/id" a Sweep."""
        parts = path.strip("/ ").split("/")
        if len(parts) <= 2:
            entity, project = parse_project_path(path)
            return self.project(str(project), entity)
        if len(parts) == 4 and parts[2] == "sweeps":
            return self.sweep(path)
        if len(parts) == 3 or (len(parts) == 4 and parts[2] == "runs"):
            return self.run(path)
        raise ValueError(f"Invalid path {path!r}: use entity/project/runs/id or .../sweeps/id.")

    def flush(self) -> None:
        """W&B's cache reset: nothing is cached here, so every read is fresh already."""

    def _check_entity(self, entity: str | None, project: str, owner: str | None = None) -> None:
        """SweepTrackerError unless `entity` (when given) owns `project`."""
        if not entity:
            return
        owner = owner or self.project_owner(project)
        if entity != owner:
            raise SweepTrackerError(
                f"Entity {entity!r} does not own project {project!r}: here the entity is the "
                f"project owner's username, {owner!r}. Leave the entity out or pass {owner!r}."
            )

    def create_project(self, slug: str, name: str = "", description: str = "") -> Project:
        """A new project of which you are the admin."""
        body = {"slug": slug, "name": name or slug, "description": description}
        return Project.from_json(self.request("POST", "projects/", body=body))

    # Runs

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "-created_at",
        per_page: int = 50,
        include_sweeps: bool = True,
        lazy: bool = True,
    ) -> Runs:
        """The runs of a project ("project" or "entity/project"; the default project when
        None) matching W&B's MongoDB-style `filters`, which the server evaluates, in W&B's
        `order`. Lazily paged: `len()` is the count, iterating reads page after page.

        `{"state": ..., "tag": ..., "search": ...}` filters the old way. A filter or order the
        server refuses raises RunFilterError (a SweepTrackerError and a ValueError) naming it.
        `include_sweeps` and `lazy` are accepted: sweeps are read on first use anyway.
        """
        entity, project = parse_project_path(path)
        project = project or self.default_project or settings.load().require("project")
        self._check_entity(entity or self.default_entity, project)
        filters = dict(filters or {})
        if (
            filters
            and set(filters) <= RUN_FILTERS
            and all(isinstance(v, str) for v in filters.values())
        ):
            # The client's first filters were query parameters: state, tag, search.
            return Runs(self, project, order=order, per_page=per_page, params=filters)
        return Runs(self, project, filters, order, per_page)

    def run(self, path: int | str = "") -> Run:
        """One run by W&B's path: "id", "project/id" or "entity/project/id" (the project
        scopes the id; an id alone is looked up across your projects)."""
        entity, project, run_id = parse_path(path)
        project = project or self.default_project
        params = {"project": project} if project else None
        try:
            data = self.request("GET", f"runs/{_quote(run_id)}/", params=params)
        except SweepTrackerError as error:
            if error.status == 404:
                where = f"in project {project!r}" if project else "in your projects"
                raise SweepTrackerError(
                    f"No run {run_id!r} {where} on {self.base_url} (404).", 404, error.detail
                ) from error
            raise
        entity = entity or self.default_entity
        if entity and data.get("entity"):
            self._owners[data["project"]] = data["entity"]
        self._check_entity(entity, data["project"])
        return Run(self, data)

    def run_info(self, id: int | str) -> RunInfo:
        """One run as the server holds it, by pk or id (what the client's own code reads).

        The first read of a run that a suggestion of this process just made is that
        suggestion's answer (the run as made), so that init() joining it costs no request."""
        suggested = _SUGGESTED_RUNS.pop((self.base_url, str(id)), None)
        if suggested is not None:
            suggested.api = self
            return suggested
        return RunInfo.from_json(self.request("GET", f"runs/{_quote(str(id))}/"), self)

    def create_run(
        self,
        project: str,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        notes: str | None = None,
        *,
        id: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        resume: str | None = None,
    ) -> RunInfo:
        """Start a run in `project`; the server picks a name when none is given.

        With `id`, the run gets that id; if a run of the project has it already,
        `resume` ("allow" or "must") resumes it (the answer's `resumed` and
        `last_step` say so), else the server refuses with 409. `resume="must"`
        for an id that does not exist is refused with 400.
        """
        body: dict[str, Any] = {"project": project, "config": config or {}, "tags": tags or []}
        optional = {
            "name": name,
            "notes": notes,
            "id": id,
            "group": group,
            "job_type": job_type,
            "resume": resume,
        }
        body.update({key: value for key, value in optional.items() if value})
        return RunInfo.from_json(self.request("POST", "runs/", body=body), self)

    def update_run(
        self, id: int | str, fields: dict[str, Any], timeout: float | None = None
    ) -> None:
        """Change a run's name, config, summary, tags, notes, group or job_type
        (config and summary replace)."""
        self.request("PATCH", f"runs/{_quote(str(id))}/", body=fields, timeout=timeout)

    def log(
        self,
        id: int | str,
        batch: dict[str, Any],
        timeout: float | None = None,
        final: bool = False,
    ) -> LogAnswer:
        """Send `{"rows": [...], "summary": {...}, "metrics": {...}}`, already in wire form;
        resending is harmless. `final`: sent after the script ended (see early termination)."""
        path = f"runs/{_quote(str(id))}/log/"
        params = {"final": "true"} if final else None
        answer = self.request("POST", path, params=params, body=batch, timeout=timeout)
        return LogAnswer(
            stored=int(answer.get("stored", 0)),
            should_stop=bool(answer.get("should_stop", False)),
            state=str(answer.get("state", "")),
        )

    def heartbeat(self, id: int | str, timeout: float | None = None) -> HeartbeatAnswer:
        """Tell the server the run is alive."""
        path = f"runs/{_quote(str(id))}/heartbeat/"
        answer = self.request("POST", path, body={}, timeout=timeout)
        return HeartbeatAnswer(
            state=str(answer.get("state", "")), should_stop=bool(answer.get("should_stop"))
        )

    def finish_run(
        self,
        id: int | str,
        exit_code: int | None,
        timeout: float | None = None,
        state: str | None = None,
    ) -> RunInfo:
        """End the run: exit code 0 is finished, anything else failed; or name the
        final `state` (killed, say). 409 when it already ended another way."""
        body: dict[str, Any] = {"exit_code": exit_code}
        if state is not None:
            body["state"] = state
        answer = self.request("POST", f"runs/{_quote(str(id))}/finish/", body=body, timeout=timeout)
        return RunInfo.from_json(answer, self)

    def history(
        self, id: int | str, keys: list[str] | None = None, samples: int | None = None
    ) -> list[dict[str, Any]]:
        """Every logged row of run `id` in step order (at most `samples` steps, spread over
        the run): {"_step", "_timestamp" (Unix seconds), metric: value, ...}."""
        return list(self.history_rows(id, keys, samples=samples))

    def history_rows(
        self,
        id: int | str,
        keys: list[str] | None = None,
        *,
        samples: int | None = None,
        page: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The rows of run `id`'s history as the server's pages of points arrive: a step's
        points merged into one row, given out once a later step shows it whole. `params`
        adds the server's own (min_step, max_step, project)."""
        query: dict[str, Any] = {"limit": page or HISTORY_PAGE, "offset": 0, **(params or {})}
        if keys:
            query["keys"] = ",".join(keys)
        if samples is not None:
            query["samples"] = int(samples)
        row: dict[str, Any] | None = None
        for point in self.pages(f"runs/{_quote(str(id))}/history/", query):
            if row is not None and row["_step"] != point["step"]:
                yield row
                row = None
            stamp = _timestamp(point["time"])
            if row is None:
                row = {"_step": point["step"], "_timestamp": stamp}
            row["_timestamp"] = max(row["_timestamp"], stamp)
            row[point["key"]] = from_wire(point["value"])
        if row is not None:
            yield row

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
        problem as `path: message`. A config it accepts with doubts (natural-log
        bounds that look like values, a grid it discretized, ...) comes back with
        them in `SweepInfo.warnings`.
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

    def sweep(self, path: str = "", trials: bool = True) -> Sweep:
        """One sweep by W&B's path: "id", "project/id" or "entity/project/id", as W&B's
        Sweep (`runs`, `best_run()`, `config`, ...) with this server's trials (`trials`,
        `best_trial`), read now unless `trials` is False."""
        entity, project, sweep_id = parse_path(path)
        info = self.sweep_info(sweep_id, trials)
        project = project or self.default_project
        if project and info.project != project:
            raise SweepTrackerError(
                f"No sweep {sweep_id!r} in project {project!r}: it is in {info.project!r}.", 404
            )
        self._check_entity(entity or self.default_entity, info.project)
        return Sweep(self, info, trials=trials)

    def sweep_info(self, id: str, trials: bool = True) -> SweepInfo:
        """One sweep as the server holds it, with its trials in number order unless
        `trials` is False."""
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

        A report queued by `report_next` for this sweep goes in the same request (the
        server applies it first: one round trip per trial); `last_reported` is then the
        trial it was about as it stands after, or None when the answer was a 409.
        Raises SweepUnavailable when there is no trial now; its `retry` says
        whether asking again later may get one (paused, or busy).
        """
        report = self._queued_reports.get(id)
        self.last_reported = None
        try:
            answer = self._sweep_request(
                "POST", id, "suggest/", {"report": report} if report else {}
            )
        except SweepTrackerError as error:
            detail = error.detail if isinstance(error.detail, dict) else {}
            if error.status == 409 and "reason" in detail:
                # The report was applied before the sweep said it has no trial now.
                self._queued_reports.pop(id, None)
                raise SweepUnavailable(
                    str(detail.get("detail") or error.message),
                    reason=str(detail["reason"]),
                    retry=bool(detail.get("retry")),
                    state=str(detail.get("state", "")),
                    detail=detail,
                ) from error
            raise
        self._queued_reports.pop(id, None)
        reported = answer.get("reported")
        self.last_reported = TrialInfo.from_json(reported) if reported else None
        if isinstance(answer.get("run"), dict):
            _keep_suggested_run(self.base_url, RunInfo.from_json(answer["run"]))
        return Suggestion.from_json(answer)

    def report_next(self, id: str, report: dict[str, Any] | None) -> None:
        """Queue a trial's result to send with the next `suggest(id)`, or drop it (None).

        `report` is {"trial": number (or "run_id": pk), "state": complete | failed |
        finished | ended, "value" or "values"}: complete and failed as `report()` says
        them; finished ends a run still running as exit code 0 does (its summary holds
        the value); ended changes nothing and asks only how the trial ended. A request
        that fails before the server answers keeps it queued: sending it again is harmless.
        """
        if report is None:
            self._queued_reports.pop(id, None)
        else:
            self._queued_reports[id] = dict(report)

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


# Runs that suggestions of this process made, by (base_url, pk), until init() reads them;
# an agent's init() reads its trial's run at once, so only the last few are kept.
_SUGGESTED_RUNS: dict[tuple[str, str], RunInfo] = {}
MAX_SUGGESTED_RUNS = 8


_SUGGESTED_LOCK = threading.Lock()


def _keep_suggested_run(base_url: str, info: RunInfo) -> None:
    with _SUGGESTED_LOCK:
        while len(_SUGGESTED_RUNS) >= MAX_SUGGESTED_RUNS:
            _SUGGESTED_RUNS.pop(next(iter(_SUGGESTED_RUNS)))
        _SUGGESTED_RUNS[(base_url, info.ref)] = info


def _quote(sweep_id: str) -> str:
    return quote(str(sweep_id), safe="")


def _config_problems(error: SweepTrackerError) -> list[str]:
    """Each problem of a refused sweep config as `path: message`; [] for other errors."""
    detail = error.detail if isinstance(error.detail, dict) else {}
    # The server's one error shape lists them in `errors` (code invalid_config); servers
    # before it, in `problems`.
    key = "errors" if detail.get("code") == "invalid_config" else "problems"
    if error.status != 400 or not isinstance(detail.get(key), list):
        return []
    return [
        f"{p['path']}: {p['message']}" if p.get("path") else str(p.get("message"))
        for p in detail[key]
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


def _timestamp(value: float | str) -> float:
    """A point's time as Unix seconds, W&B's `_timestamp` (older servers sent ISO text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
