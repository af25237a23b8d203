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

import numpy as np
from django.db.models import Count, F, OrderBy, Q
from django.db.models.fields.json import KeyTransform
from django.http import QueryDict

from runs.history import downsample
from runs.models import MetricPoint
from sweeps.config import Param, SweepConfig
from sweeps.models import Sweep, Trial, TrialState
from sweeps.space import LOG_SCALE

CATEGORICAL = ("categorical", "categorical_w_probabilities")
TRIALS_PER_PAGE = 25
DEFAULT_TRIAL_SORT = "-number"
# Points the learning-curves chart may carry in all; each drawn run gets an equal share,
# at most CURVE_MAX_POINTS. At most CURVE_FOCUS best and CURVE_FOCUS running trials are
# always drawn, plus a cloud of CLOUD_CURVES others, so a curve keeps at least ~36 points.
CURVE_BUDGET = 40_000
CURVE_MAX_POINTS = 2_000
CURVE_FOCUS = 50
CLOUD_CURVES = 1_000


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
    created_at: datetime | None = None
    ended_at: datetime | None = None
    # Which agent ran it ("host:pid"), "" when no agent announced itself.
    agent: str = ""

    @property
    def objective(self) -> list[float] | None:
        if self.values is not None:
            return [float(v) for v in self.values]
        return None if self.value is None else [self.value]


POINT_COLUMNS = ("number", "run_id", "state", "params", "value", "values", "is_best")
# The agent's columns come through a LEFT JOIN in the same query.
TIME_COLUMNS = ("created_at", "ended_at", "agent_id", "agent__host", "agent__pid")


def agent_label(agent_id: int | None, host: str | None, pid: int | None) -> str:
    if agent_id is None:
        return ""
    return f"{host or 'unknown host'}:{pid}" if pid is not None else host or f"agent {agent_id}"


def _point(row: tuple[Any, ...]) -> TrialPoint:
    number, run_id, state, params, value, values, is_best, created, ended, *agent = row
    return TrialPoint(
        number, run_id, state, params, value, values, is_best, created, ended, agent_label(*agent)
    )


def trial_points(sweep: Sweep) -> list[TrialPoint]:
    """Every trial of the sweep by number, in one query of the columns the charts use."""
    rows = (
        Trial.objects.filter(sweep=sweep)
        .order_by("number")
        .values_list(*POINT_COLUMNS, *TIME_COLUMNS)
    )
    return [_point(row) for row in rows.iterator(chunk_size=2000)]


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
        .values_list(*POINT_COLUMNS)
    )
    return [TrialPoint(*row) for row in rows]


# Parallel coordinates --------------------------------------------------------------------


def number_label(value: float) -> str:
    """1e-05 as 1e-5, 0.001 as 0.001: short labels for log-axis ticks."""
    label = f"{value:.3g}"
    return label.replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick positions in log10 units and their labels as values, for [low, high].

    Decades when the range spans several; 1, 2 and 5 of each decade when it spans
    few, so a narrow log axis still gets readable ticks.
    """
    first, last = math.floor(low), math.ceil(high)
    mantissas = (1,) if last - first >= 4 else (1, 2, 5)
    ticks = [(k + math.log10(m), m * 10.0**k) for k in range(first, last + 1) for m in mantissas]
    inside = [(t, v) for t, v in ticks if low - 1e-9 <= t <= high + 1e-9]
    if len(inside) < 2:
        inside = [(low, 10.0**low), (high, 10.0**high)]
    return [t for t, _ in inside], [number_label(v) for _, v in inside]


def log_axis(low: float, high: float) -> tuple[tuple[float, float], list[float], list[str]]:
    """A log axis over [low, high] (log10 units) that ends on a labelled tick each side.

    Plotly's parallel coordinates draw an axis line only between its outermost ticks, so
    the range is widened to the ticks just outside the data: every line meets the axis.
    """
    first, last = math.floor(low), math.ceil(high)
    mantissas = (1,) if last - first >= 4 else (1, 2, 5)
    ticks = [k + math.log10(m) for k in range(first, last + 1) for m in mantissas]
    below = max((t for t in ticks if t <= low + 1e-9), default=low)
    above = min((t for t in ticks if t >= high - 1e-9), default=high)
    values, labels = log_ticks(below, above)
    return (below, above), values, labels


def linear_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], list[str]]:
    """About `count` round ticks over [low, high] (1, 2 or 5 times a power of ten apart)."""
    span = high - low
    if not span > 0:
        return [low], [number_label(low)]
    raw = span / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    ticks = [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]
    return ticks, [number_label(t) for t in ticks]


@dataclass(frozen=True)
class Dimension:
    """One axis of the parallel coordinates: a parameter, or the metric (the last one).

    `scale` is "linear", "log" (positions are log10 of the value) or "categorical"
    (positions are indexes into `tick_labels`); `positions` has one entry per row.
    """

    name: str
    scale: str
    range: tuple[float, float]
    tick_values: list[float]
    tick_labels: list[str]
    positions: list[float]
    is_metric: bool = False


@dataclass(frozen=True)
class ParallelData:
    """One row per finished trial (or a thinned set of them) and one dimension per axis."""

    dimensions: list[Dimension]
    rows: list[TrialPoint]
    best_index: int | None
    metric: str
    goal: str
    finished: int  # how many finished trials there are; more than the rows when thinned


def finished_points(points: list[TrialPoint]) -> list[TrialPoint]:
    """Complete and pruned trials with a finite value: the ones a chart can place."""
    return [
        p
        for p in points
        if p.state in (TrialState.COMPLETE, TrialState.PRUNED)
        and p.value is not None
        and math.isfinite(p.value)
    ]


def thinned(drawn: list[TrialPoint], goal: str, limit: int) -> list[TrialPoint]:
    """At most `limit` trials: the best half of the budget, then an even spread of the rest."""
    if len(drawn) <= limit:
        return drawn
    sign = 1.0 if goal == "minimize" else -1.0
    # `drawn` holds only trials with a finite value.
    ranked = sorted(drawn, key=lambda p: sign * (p.value or 0.0))
    best = {p.number for p in ranked[: limit // 2]}
    rest = [p for p in drawn if p.number not in best]
    stride = math.ceil(len(rest) / (limit - len(best)))
    keep = best | {p.number for p in rest[::stride]}
    return [p for p in drawn if p.number in keep]


def _parameter_dimension(axis: Axis, rows: list[TrialPoint]) -> Dimension:
    positions = [axis.position(p.params.get(axis.name)) for p in rows]
    placed = [p for p in positions if p is not None]
    low, high = (min(placed), max(placed)) if placed else (0.0, 1.0)
    if axis.kind == "categorical":
        count = len(axis.labels)
        low, high = (0.0, count - 1.0) if count > 1 else (-0.5, 0.5)
        ticks: tuple[list[float], list[str]] = ([float(i) for i in range(count)], list(axis.labels))
    elif axis.kind == "log":
        if low == high:
            low, high = low - 0.5, high + 0.5
        (low, high), tick_values, tick_labels = log_axis(low, high)
        ticks = (tick_values, tick_labels)
    else:
        if low == high:
            low, high = low - 0.5, high + 0.5
        ticks = linear_ticks(low, high)
    # A value that cannot be placed (a parameter added to the config later) sits at the bottom.
    drawn = [low if p is None else p for p in positions]
    return Dimension(axis.name, axis.kind, (low, high), *ticks, drawn)


def _best_index(rows: list[TrialPoint], goal: str) -> int | None:
    marked = [i for i, p in enumerate(rows) if p.is_best]
    if len(marked) == 1:
        return marked[0]
    if not rows:
        return None
    pick = min if goal == "minimize" else max
    # Why the type: ignore below: Rows are finished_points: every value is finite.
    return pick(range(len(rows)), key=lambda i: rows[i].value)  # type: ignore[arg-type,return-value]


def parallel_data(
    axes: list[Axis], points: list[TrialPoint], metric: str, goal: str, limit: int = 0
) -> ParallelData:
    """What the parallel coordinates draw; the API's `parallel-coordinates` answers it too.

    With `limit`, at most that many rows (see `thinned`). The best row is the sweep's
    best trial, or the best value among the rows when none or several are marked.
    """
    every = finished_points(points)
    rows = thinned(every, goal, limit) if limit else every
    dimensions = [_parameter_dimension(axis, rows) for axis in axes]
    # Why the type: ignore below: Rows are finished_points: every value is finite.
    values = [float(p.value) for p in rows]  # type: ignore[arg-type]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    dimensions.append(
        Dimension(metric, "linear", (low, high), *linear_ticks(low, high), values, is_metric=True)
    )
    return ParallelData(dimensions, rows, _best_index(rows, goal), metric, goal, len(every))


# Parameter relations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Correlations:
    """Spearman's rank correlation between every pair of columns (the parameters, then the
    metric), over the complete trials; None where a column does not vary."""

    names: list[str]
    matrix: list[list[float | None]]
    trials: int
    left_out: list[str]  # categorical parameters of more than two values: no order to rank


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank."""
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse], dtype=float)


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    both = ~(np.isnan(a) | np.isnan(b))
    if both.sum() < 3:
        return None
    x, y = _ranks(a[both]), _ranks(b[both])
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def correlations(axes: list[Axis], points: list[TrialPoint], metric: str) -> Correlations:
    """Numeric parameters (log10 of a log-scale one), two-valued categorical ones (0 or 1)
    and the metric, correlated pairwise over the complete trials that have both values."""
    complete = [
        p
        for p in points
        if p.state == TrialState.COMPLETE and p.value is not None and math.isfinite(p.value)
    ]
    used = [a for a in axes if a.kind != "categorical" or len(a.labels) == 2]
    columns = [
        np.array(
            [np.nan if (x := a.position(p.params.get(a.name))) is None else x for p in complete],
            dtype=float,
        )
        for a in used
    ]
    columns.append(np.array([p.value for p in complete], dtype=float))
    matrix = [[_spearman(a, b) for b in columns] for a in columns]
    left_out = [a.name for a in axes if a not in used]
    return Correlations([a.name for a in used] + [metric], matrix, len(complete), left_out)


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


def trial_ordering(sort: str) -> list[OrderBy]:
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
    """The curves of `metric` worth drawing, in two queries: the trials, then their points.

    A sweep of 10,000 trials with 100 steps each would ship a million points, so the
    chart draws the focus (best, running, and the CURVE_FOCUS best complete trials)
    plus a cloud of at most CLOUD_CURVES others spread evenly over the sweep, and the
    CURVE_BUDGET points are shared among the drawn curves (see `downsample`).
    """
    trials = (
        Trial.objects.filter(sweep=sweep, run__isnull=False)
        .order_by("number")
        .values_list("number", "state", "is_best", "value", "run_id")
    )
    chosen = _drawn_trials(list(trials), sweep.directions[0] if sweep.metric else "minimize")
    if not chosen:
        return []
    by_run = {run_id: Curve(number, state, is_best) for number, state, is_best, _, run_id in chosen}
    rows = (
        MetricPoint.objects.filter(run_id__in=list(by_run), key=metric)
        .order_by("run_id", "step")
        .values_list("run_id", "step", "value")
    )
    for run_id, step, value in rows.iterator(chunk_size=5000):
        curve = by_run[run_id]
        curve.steps.append(step)
        curve.values.append(value)
    curves = sorted((c for c in by_run.values() if c.steps), key=lambda c: c.number)
    limit = min(CURVE_BUDGET // max(len(curves), 1), CURVE_MAX_POINTS)
    for curve in curves:
        curve.steps, curve.values = downsample(curve.steps, curve.values, limit)
    return curves


CurveTrial = tuple[int, str, bool, float | None, int]


def _drawn_trials(trials: list[CurveTrial], goal: str) -> list[CurveTrial]:
    """The focus trials plus an evenly spread cloud of the others, at most the caps."""
    ranked = sorted(
        (t for t in trials if t[1] == TrialState.COMPLETE and t[3] is not None),
        key=lambda t: (1.0 if goal == "minimize" else -1.0) * (t[3] or 0.0),
    )
    running = [t for t in trials if t[1] == TrialState.RUNNING][-CURVE_FOCUS:]
    focus = {t[0] for t in [*ranked[:CURVE_FOCUS], *running]} | {t[0] for t in trials if t[2]}
    others = [t for t in trials if t[0] not in focus]
    stride = max(math.ceil(len(others) / CLOUD_CURVES), 1)
    cloud = {t[0] for t in others[::stride]}
    return [t for t in trials if t[0] in focus or t[0] in cloud]


# One trial ---------------------------------------------------------------------------------


def trial_of(sweep: Sweep, number: int) -> Trial | None:
    """The trial with its run and agent, in one query."""
    return Trial.objects.filter(sweep=sweep, number=number).select_related("run", "agent").first()


def trial_curve(trial: Trial, metric: str) -> Curve:
    """The metric's values by step in the trial's run (its intermediate values)."""
    curve = Curve(trial.number, trial.state, trial.is_best)
    if trial.run_id is None or not metric:
        return curve
    rows = (
        MetricPoint.objects.filter(run_id=trial.run_id, key=metric)
        .order_by("step")
        .values_list("step", "value")
    )
    for step, value in rows.iterator(chunk_size=5000):
        curve.steps.append(step)
        curve.values.append(value)
    curve.steps, curve.values = downsample(curve.steps, curve.values, CURVE_MAX_POINTS)
    return curve


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
