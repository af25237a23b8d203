"""`define_metric`: what a run's summary keeps of each metric, and which axis it is drawn on.

As in W&B: `summary="min"` (or "max", "mean", "first", "last", several joined
by commas) makes the summary of a metric a dict of those aggregates over every
logged value; "none" keeps no summary; "best" is the min or the max as `goal`
says. Without a definition the summary is the last value. A name ending in
`*` is a glob matching every metric that starts with what precedes it.
`step_metric` names the metric to plot against; with `step_sync` (the default
when a step metric is given) a row that logs the metric without its step
metric gets the step metric's last value added.

The client computes the summary; the definitions travel in log batches
(`metrics`) so that the server draws each chart on its axis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sweeptracker_client.errors import SweepTrackerError

SUMMARY_OPS = ("min", "max", "mean", "best", "last", "copy", "none", "first")
GOALS = {"min": "minimize", "max": "maximize"}


@dataclass
class Metric:
    """A metric's definition, as `define_metric()` returns it (W&B's `wandb_metric.Metric`)."""

    name: str
    step_metric: str | None = None
    step_sync: bool | None = None
    hidden: bool | None = None
    summary: tuple[str, ...] | None = None
    goal: str | None = None

    @property
    def is_glob(self) -> bool:
        """True when the name ends with `*` and so defines every metric it prefixes."""
        return self.name.endswith("*")

    def merged(self, later: Metric) -> Metric:
        """This definition with `later` over it, as W&B merges repeated calls."""
        summary = self.summary
        if later.summary is not None:
            kept = () if "none" in later.summary else tuple(self.summary or ())
            summary = tuple(dict.fromkeys([*kept, *later.summary]))
        return Metric(
            name=self.name,
            step_metric=later.step_metric or self.step_metric,
            step_sync=bool(self.step_sync or later.step_sync),
            hidden=bool(self.hidden or later.hidden),
            summary=summary,
            goal=later.goal or self.goal,
        )

    def wire(self) -> dict[str, Any]:
        """The definition as the server keeps it (`metric_definitions`)."""
        return {
            "step_metric": self.step_metric,
            "summary": ",".join(self.summary) if self.summary else None,
            "goal": self.goal,
            "hidden": bool(self.hidden),
        }


def make_metric(
    name: str,
    step_metric: str | Metric | None = None,
    step_sync: bool | None = None,
    hidden: bool | None = None,
    summary: str | None = None,
    goal: str | None = None,
) -> Metric:
    """A checked Metric from define_metric()'s arguments; SweepTrackerError as W&B's Error."""
    if not name:
        raise SweepTrackerError("define_metric() requires non-empty name argument")
    if isinstance(step_metric, Metric):
        step_metric = step_metric.name
    for arg, value, kind in (
        ("name", name, str),
        ("step_metric", step_metric, str),
        ("step_sync", step_sync, bool),
        ("hidden", hidden, bool),
        ("summary", summary, str),
        ("goal", goal, str),
    ):
        if value is not None and not isinstance(value, kind):
            raise SweepTrackerError(
                f"Unhandled define_metric() arg: {arg} type: {type(value).__name__}"
            )
    if "*" in name[:-1]:
        raise SweepTrackerError(f"Unhandled define_metric() arg: name (glob suffixes only): {name}")
    ops: tuple[str, ...] | None = None
    if summary:
        ops = tuple(op.strip().lower() for op in summary.split(","))
        for op in ops:
            if op not in SUMMARY_OPS:
                raise SweepTrackerError(f"Unhandled define_metric() arg: summary op: {op}")
    goal_name = None
    if goal is not None:
        if goal[:3].lower() not in GOALS:
            raise SweepTrackerError(f"Unhandled define_metric() arg: goal: {goal}")
        goal_name = GOALS[goal[:3].lower()]
    return Metric(
        name=name,
        step_metric=step_metric,
        # W&B syncs the step metric by default once there is one.
        step_sync=step_sync if step_sync is not None else step_metric is not None,
        hidden=hidden,
        summary=ops,
        goal=goal_name,
    )


@dataclass
class Aggregate:
    """Everything logged for one metric so far, enough for any summary op."""

    latest: Any = None
    first: Any = None
    least: float | int | None = None
    most: float | int | None = None
    total: float = 0.0
    count: int = 0
    seen: bool = False

    def add(self, value: Any) -> None:
        """Take a logged value; only numbers count towards min, max and mean."""
        if not self.seen:
            self.first = value
        self.latest, self.seen = value, True
        if isinstance(value, bool | int | float) and value == value:  # NaN counts in none
            number = int(value) if isinstance(value, bool) else value
            self.least = number if self.least is None else min(self.least, number)
            self.most = number if self.most is None else max(self.most, number)
            self.total += number
            self.count += 1

    def summary(self, metric: Metric | None) -> tuple[bool, Any]:
        """(keep, value): what the summary holds for the metric under its definition."""
        ops = metric.summary if metric is not None else None
        if not ops or ops == ("copy",):
            return True, self.latest
        if "none" in ops:
            return False, None
        found: dict[str, Any] = {}
        for op in ops:
            if op in ("last", "copy"):
                found["last"] = self.latest
            elif op == "first":
                found["first"] = self.first
            elif op == "min" and self.least is not None:
                found["min"] = self.least
            elif op == "max" and self.most is not None:
                found["max"] = self.most
            elif op == "mean" and self.count:
                found["mean"] = self.total / self.count
            elif op == "best" and self.count:
                maximize = metric is not None and metric.goal == "maximize"
                found["best"] = self.most if maximize else self.least
        return True, found


@dataclass
class MetricDefs:
    """The definitions of one run and the aggregates of its metrics."""

    named: dict[str, Metric] = field(default_factory=dict)
    globs: dict[str, Metric] = field(default_factory=dict)
    aggregates: dict[str, Aggregate] = field(default_factory=dict)
    # The last value of each step metric, for step_sync.
    latest_steps: dict[str, Any] = field(default_factory=dict)
    # Metrics defined by a glob's match: metric name -> glob.
    from_glob: dict[str, str] = field(default_factory=dict)
    # Definitions not yet sent to the server, by name.
    unsent: dict[str, Metric] = field(default_factory=dict)

    def define(self, metric: Metric, overwrite: bool | None = None) -> Metric:
        """Add or merge a definition; returns the definition now in force."""
        table = self.globs if metric.is_glob else self.named
        previous = table.get(metric.name)
        if previous is not None and not overwrite:
            metric = previous.merged(metric)
        table[metric.name] = metric
        if metric.is_glob:
            # Metrics the glob matched before follow its new definition at their next log.
            for name in [n for n, g in self.from_glob.items() if g == metric.name]:
                del self.named[name], self.from_glob[name]
        else:
            self.from_glob.pop(metric.name, None)
        self.unsent[metric.name] = metric
        return metric

    def of(self, key: str) -> Metric | None:
        """The definition of `key`: its own, else that of the longest glob matching it."""
        found = self.named.get(key)
        if found is not None or key.startswith("_"):
            return found
        prefixes = [g for g in self.globs if key.startswith(g[:-1])]
        if not prefixes:
            return None
        glob = self.globs[max(prefixes, key=len)]
        # As W&B does, a matched glob defines the metric by name from then on.
        concrete = Metric(
            key, glob.step_metric, glob.step_sync, glob.hidden, glob.summary, glob.goal
        )
        self.named[key] = concrete
        self.from_glob[key] = glob.name
        self.unsent[key] = concrete
        return concrete

    def observe(self, values: dict[str, Any]) -> dict[str, Any]:
        """Take one log() call's values; return the summary values they change."""
        changed: dict[str, Any] = {}
        for key, value in values.items():
            aggregate = self.aggregates.setdefault(key, Aggregate())
            aggregate.add(value)
            keep, summary = aggregate.summary(self.of(key))
            if keep:
                changed[key] = summary
        return changed

    def sync_steps(self, row: dict[str, Any]) -> None:
        """Add to a committed row the step metrics its metrics are synced to, then note
        the row's step metric values for the rows after it."""
        for key in list(row):
            metric = self.of(key)
            if metric is None or not metric.step_metric or not metric.step_sync:
                continue
            if metric.step_metric not in row and metric.step_metric in self.latest_steps:
                row[metric.step_metric] = self.latest_steps[metric.step_metric]
        for step_metric in self.step_metrics():
            if step_metric in row:
                self.latest_steps[step_metric] = row[step_metric]

    def step_metrics(self) -> Iterable[str]:
        """Every metric some definition plots against."""
        return {
            m.step_metric for m in [*self.named.values(), *self.globs.values()] if m.step_metric
        }

    def take_unsent(self) -> dict[str, dict[str, Any]]:
        """The definitions to send with the next batch, in wire form."""
        taken = {name: metric.wire() for name, metric in self.unsent.items()}
        self.unsent.clear()
        return taken
