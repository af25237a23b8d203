"""Sweeps and trials as the server holds them, read through `Api`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sweeptracker_client.values import from_wire


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts from a trial's flat params: {"model/layers": 3} -> {"model": {"layers": 3}}.

    The server keys a trial's params by the parameter's path joined with "/"
    (a parameter name cannot hold one); a run's config has them nested.
    """
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


@dataclass
class TrialInfo:
    """One trial of a sweep: the params its run got, and what came of them.

    `params` is nested as the run's config is; `flat_params` is the server's
    form, keyed by the parameter path joined with "/". `state` is running,
    complete, pruned or failed.
    """

    number: int
    run_id: int | None
    params: dict[str, Any]
    flat_params: dict[str, Any]
    state: str
    value: float | None
    values: list[float] | None
    is_best: bool
    created_at: datetime | None = None
    ended_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialInfo:
        """A TrialInfo from the API's JSON."""
        flat = from_wire(data.get("params") or {})
        values = data.get("values")
        return cls(
            number=int(data["number"]),
            run_id=data.get("run_id"),
            params=nest(flat),
            flat_params=flat,
            state=str(data.get("state", "")),
            value=None if data.get("value") is None else float(data["value"]),
            values=None if values is None else [float(v) for v in values],
            is_best=bool(data.get("is_best")),
            created_at=_time(data.get("created_at")),
            ended_at=_time(data.get("ended_at")),
        )


@dataclass
class SweepInfo:
    """A sweep: its config (normalized by the server), state, trials and best trial.

    `metric` is a list of {"name", "goal", "target"}, one per objective.
    `trials` is filled by `Api.sweep()`, in number order. `warnings` lists what the
    server said of the config when the sweep was created, each {"path", "message"}.
    """

    id: str
    project: str
    name: str
    description: str
    state: str
    method: str
    metric: list[dict[str, Any]]
    config: dict[str, Any]
    config_text: str
    run_cap: int | None
    seed: int | None
    trial_count: int
    best_trial: TrialInfo | None
    url: str
    trials: list[TrialInfo] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], base_url: str) -> SweepInfo:
        """A SweepInfo from the API's JSON; `base_url` makes its page's URL."""
        best = data.get("best_trial")
        return cls(
            id=data["id"],
            project=data.get("project", ""),
            name=data.get("name", ""),
            description=data.get("description", ""),
            state=data.get("state", ""),
            method=data.get("method", ""),
            metric=list(data.get("metric") or []),
            config=data.get("config") or {},
            config_text=data.get("config_text") or "",
            run_cap=data.get("run_cap"),
            seed=data.get("seed"),
            trial_count=int(data.get("trial_count") or 0),
            best_trial=TrialInfo.from_json(best) if best else None,
            url=sweep_url(base_url, data["id"]),
            warnings=[dict(w) for w in data.get("warnings") or []],
            created_at=_time(data.get("created_at")),
            started_at=_time(data.get("started_at")),
            ended_at=_time(data.get("ended_at")),
        )

    @property
    def metric_names(self) -> list[str]:
        """The names of the metrics the sweep optimizes."""
        return [m["name"] for m in self.metric]


@dataclass(eq=False)
class Suggestion(Mapping[str, Any]):
    """A trial handed out by the sweep: a new run on the server whose config is `params`.

    It is also those params, as a read-only mapping: `s["lr"]`, `dict(s)`, `f(**s)`
    and `init(config=s)` all work; `.number`, `.run_id` and `.params` (nested, as
    the run's config) say which trial it is. Equal to any mapping of the same params.
    """

    sweep_id: str
    project: str
    number: int
    run_id: int
    run_name: str
    params: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Suggestion:
        """A Suggestion from the answer to POST sweeps/{id}/suggest/."""
        return cls(
            sweep_id=data["sweep"],
            project=data["project"],
            number=int(data["trial"]),
            run_id=int(data["run_id"]),
            run_name=data.get("run_name", ""),
            params=from_wire(data.get("params") or {}),
        )

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)


@dataclass
class SweepStats:
    """Trials per state, the best trial, and which parameters matter (None until known)."""

    counts: dict[str, int]
    best: TrialInfo | None
    importance: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepStats:
        """A SweepStats from the answer to GET sweeps/{id}/stats/."""
        best = data.get("best")
        return cls(
            counts={k: int(v) for k, v in (data.get("counts") or {}).items()},
            best=TrialInfo.from_json(best) if best else None,
            importance=data.get("importance"),
        )


def sweep_url(base_url: str, sweep_id: str) -> str:
    """The sweep's page on the server."""
    return f"{base_url}/sweeps/{sweep_id}/"
