"""The data behind the sweep pages: each chart and table read with ONE query of its columns.

No plotly here: sweeps/charts.py turns these rows into figures, and the views put the
tables on the page. Every reader takes the sweep and returns plain Python, so the
query count of a page never depends on how many trials the sweep has.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OrderBy, Q
from django.db.models.fields.json import KeyTransform
from django.http import QueryDict

from runs.models import MetricPoint
from sweeps.config import Param, SweepConfig
from sweeps.models import Sweep, Trial, TrialState
from sweeps.space import LOG_SCALE

CATEGORICAL = ("categorical", "categorical_w_probabilities")
TRIALS_PER_PAGE = 25
DEFAULT_TRIAL_SORT = "-number"
# Points the learning-curves chart may carry in all; each run gets its share, within bounds.
CURVE_BUDGET = 60_000
CURVE_MIN_POINTS, CURVE_MAX_POINTS = 40, 2_000


# Parameters as chart axes ----------------------------------------------------------------


def value_label(value: Any) -> str:
    """A parameter value as a person reads it: strings bare, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Axis:
    """How one parameter that varies is placed on a chart axis.

    kind is "log" (plotted as log10 of the value), "categorical" (plotted as the index
    of the value in the config's `values`, labelled with the value) or "linear".
    """

    name: str
    kind: str
    labels: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, param: Param) -> Axis:
        if param.distribution in CATEGORICAL:
            values = param.values or ()
            return cls(
                param.name,
                "categorical",
                labels=tuple(value_label(v) for v in values),
                keys=tuple(json.dumps(v, sort_keys=True) for v in values),
            )
        return cls(param.name, "log" if param.distribution in LOG_SCALE else "linear")

    def position(self, value: Any) -> float | None:
        """Where `value` sits on this axis, or None when it cannot be placed."""
        if self.kind == "categorical":
            key = json.dumps(value, sort_keys=True)
            return float(self.keys.index(key)) if key in self.keys else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        number = float(value)
        if self.kind == "log":
            return math.log10(number) if number > 0 and math.isfinite(number) else None
        return number if math.isfinite(number) else None


def axes_of(config: SweepConfig) -> list[Axis]:
    """An axis per parameter that varies; a constant would only draw a flat line."""
    return [Axis.of(p) for p in config.parameters if p.distribution != "constant"]


def constants_of(config: SweepConfig) -> list[tuple[str, str]]:
    return [
        (p.name, value_label(p.value)) for p in config.parameters if p.distribution == "constant"
    ]


# Trials ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialPoint:
    """What the charts need of one trial."""

    number: int
    run_id: int | None
    state: str
    params: dict[str, Any]
    value: float | None
    values: list[float] | None
    is_best: bool

    @property
    def objective(self) -> list[float] | None:
        if self.values is not None:
            return [float(v) for v in self.values]
        return None if self.value is None else [self.value]


def trial_points(sweep: Sweep) -> list[TrialPoint]:
    """Every trial of the sweep by number, in one query of the columns the charts use."""
    rows = (
        Trial.objects.filter(sweep=sweep)
        .order_by("number")
        .values_list("number", "run_id", "state", "params", "value", "values", "is_best")
    )
    return [TrialPoint(*row) for row in rows.iterator(chunk_size=2000)]


@dataclass(frozen=True)
class TrialCounts:
    total: int = 0
    running: int = 0
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    best: int = 0  # 1 for a single metric once a trial completes; the Pareto front's size else


def trial_counts(sweep: Sweep) -> TrialCounts:
    """Trials per state and the best ones, counted in the database in one query."""
    counts = {state: Count("pk", filter=Q(state=state)) for state in TrialState.values}
    totals = Trial.objects.filter(sweep=sweep).aggregate(
        total=Count("pk"), best=Count("pk", filter=Q(is_best=True)), **counts
    )
    return TrialCounts(**totals)


def pareto_set(sweep: Sweep) -> list[TrialPoint]:
    """The trials on a multi-objective sweep's Pareto front (results marks them is_best)."""
    rows = (
        Trial.objects.filter(sweep=sweep, is_best=True)
        .order_by("number")
        .values_list("number", "run_id", "state", "params", "value", "values", "is_best")
    )
    return [TrialPoint(*row) for row in rows]


# The trials table ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialView:
    """What the trials table shows, read from the query string; bad values mean the default."""

    sort: str = DEFAULT_TRIAL_SORT
    state: str = ""
    page: str = "1"
    # A trial to point at (from a run page): its page is shown and its row marked.
    trial: int | None = None

    @classmethod
    def from_query(cls, query: QueryDict, axes: list[Axis]) -> TrialView:
        sort = query.get("sort", "")
        state = query.get("state", "")
        trial = query.get("trial", "")
        return cls(
            sort=sort if sort in trial_sorts(axes) else DEFAULT_TRIAL_SORT,
            state=state if state in TrialState.values else "",
            page=query.get("page", "1"),
            trial=int(trial) if trial.isdigit() else None,
        )

    @property
    def is_first_page(self) -> bool:
        return self.page in ("", "1")


def trial_sorts(axes: list[Axis]) -> set[str]:
    columns = ["number", "value", "state", *(f"p.{axis.name}" for axis in axes)]
    return {*columns, *(f"-{column}" for column in columns)}


def _ordering(sort: str) -> list[OrderBy]:
    descending = sort.startswith("-")
    column = sort.removeprefix("-")
    if column.startswith("p."):
        # JSON values order by type, then within the type: numbers numerically, on both databases.
        expression: Any = KeyTransform(column.removeprefix("p."), "params")
    else:
        expression = F(column)
    # Trials without a value (running, failed) go last whichever way the table is sorted.
    first = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return [first, F("number").desc() if descending else F("number").asc()]


def trials_page(sweep: Sweep, view: TrialView) -> Page:
    """One page of the trials table: a count and one query of the page's trials."""
    trials = Trial.objects.filter(sweep=sweep).only(
        "number",
        "run_id",
        "state",
        "params",
        "value",
        "values",
        "is_best",
        "created_at",
        "ended_at",
    )
    if view.state:
        trials = trials.filter(state=view.state)
    page_number: Any = view.page
    if view.trial is not None and view.sort == DEFAULT_TRIAL_SORT and not view.state:
        # Numbers are dense from 0, so the trial's page under newest-first is arithmetic.
        page_number = (max(sweep.next_number - 1 - view.trial, 0)) // TRIALS_PER_PAGE + 1
    paginator = Paginator(trials.order_by(*_ordering(view.sort)), TRIALS_PER_PAGE)
    return paginator.get_page(page_number)


# Learning curves -------------------------------------------------------------------------


@dataclass
class Curve:
    """The metric against the step for one trial's run, downsampled for drawing."""

    number: int
    state: str
    is_best: bool
    steps: list[int] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)


def learning_curves(sweep: Sweep, metric: str) -> list[Curve]:
    """Every point of `metric` logged by the sweep's runs, in one query, downsampled per run."""
    rows = (
        MetricPoint.objects.filter(run__trial__sweep=sweep, key=metric)
        .order_by("run__trial__number", "step")
        .values_list(
            "run__trial__number", "run__trial__state", "run__trial__is_best", "step", "value"
        )
    )
    curves: list[Curve] = []
    for number, state, is_best, step, value in rows.iterator(chunk_size=5000):
        if not curves or curves[-1].number != number:
            curves.append(Curve(number, state, is_best))
        curves[-1].steps.append(step)
        curves[-1].values.append(value)
    share = CURVE_BUDGET // max(len(curves), 1)
    limit = min(max(share, CURVE_MIN_POINTS), CURVE_MAX_POINTS)
    for curve in curves:
        curve.steps, curve.values = downsample(curve.steps, curve.values, limit)
    return curves


def downsample(
    steps: list[int], values: list[float | None], limit: int
) -> tuple[list[int], list[float | None]]:
    """At most about `limit` points that keep the curve's shape.

    The history is cut into buckets; each keeps its first, last, lowest and highest
    point, so spikes and the final value survive (a plain stride would drop them).
    NaN points (None) are kept where they fall only as a bucket's first or last.
    """
    if len(steps) <= limit:
        return steps, values
    buckets = max(limit // 4, 1)
    size = math.ceil(len(steps) / buckets)
    keep: set[int] = set()
    for start in range(0, len(steps), size):
        indexes = range(start, min(start + size, len(steps)))
        keep.update((indexes[0], indexes[-1]))
        finite = [i for i in indexes if values[i] is not None and math.isfinite(values[i])]  # type: ignore[arg-type]
        if finite:
            keep.add(min(finite, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
            keep.add(max(finite, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
    ordered = sorted(keep)
    return [steps[i] for i in ordered], [values[i] for i in ordered]


# CSV export ------------------------------------------------------------------------------


def csv_header(sweep: Sweep, config: SweepConfig) -> list[str]:
    metrics = sweep.metric_names or ["value"]
    params = [p.name for p in config.parameters]
    return ["number", "state", *metrics, "is_best", "run_id", "created_at", "ended_at", *params]


def csv_rows(sweep: Sweep, config: SweepConfig) -> Iterator[list[Any]]:
    """Every trial as a CSV row, streamed from one query in chunks."""
    names = [p.name for p in config.parameters]
    width = max(len(sweep.metric_names), 1)
    rows = (
        Trial.objects.filter(sweep=sweep)
        .order_by("number")
        .values_list(
            *("number", "state", "value", "values", "is_best", "run_id", "created_at"),
            *("ended_at", "params"),
        )
    )
    for number, state, value, values, is_best, run_id, created, ended, params in rows.iterator(
        chunk_size=2000
    ):
        objective = list(values) if values is not None else [value]
        objective += [None] * (width - len(objective))
        yield [
            number,
            state,
            *objective[:width],
            is_best,
            run_id,
            _iso(created),
            _iso(ended),
            *((params or {}).get(name) for name in names),
        ]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
