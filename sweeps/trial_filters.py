"""The trials table's filters and its page: a range for each numeric parameter and for each
metric, a set of values for each categorical parameter, read from the query string and
applied in the database; and the page of trials, each with its last logged step.

The query names are `p.<param>.min`, `p.<param>.max` (a number), `p.<param>` (repeated:
the labels of the categorical values kept) and `m.<metric>.min`, `m.<metric>.max`. A page
reads them leniently, as it reads every filter: a value it cannot read shows everything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.http import QueryDict

from runs.models import MetricPoint
from runs.run_filters import JSONTypeIs
from sweeps.models import Sweep, Trial
from sweeps.plot_data import (
    DEFAULT_TRIAL_SORT,
    TRIALS_PER_PAGE,
    Axis,
    TrialView,
    trial_ordering,
    value_label,
)

PARAM = "p."
METRIC = "m."
# The labels one categorical filter may keep; more than a config could offer is not a filter.
MAX_CHOICES = 200


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None

    def condition(self, column: str) -> Q:
        found = Q()
        if self.low is not None:
            found &= Q(**{f"{column}__gte": self.low})
        if self.high is not None:
            found &= Q(**{f"{column}__lte": self.high})
        return found


def number(text: str | None) -> float | None:
    """A finite number typed in a filter box, else None (the box is ignored)."""
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def range_of(query: QueryDict, name: str) -> Range | None:
    found = Range(number(query.get(f"{name}.min")), number(query.get(f"{name}.max")))
    return None if found == Range() else found


@dataclass(frozen=True)
class FilterField:
    """One row of the filter form: a range (min, max) or a set of values to keep."""

    label: str
    name: str  # the query name: `<name>.min`/`<name>.max` for a range, `<name>` for choices
    kind: str  # "range" or "choice"
    low: float | None = None
    high: float | None = None
    options: list[tuple[str, bool]] = field(default_factory=list)  # (label, kept)


@dataclass(frozen=True)
class TrialFilters:
    """What the trials table narrows to, besides the state."""

    params: dict[str, Range] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metrics: dict[str, Range] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: QueryDict, axes: list[Axis], metrics: list[str]) -> TrialFilters:
        params, choices = {}, {}
        for axis in axes:
            name = f"{PARAM}{axis.name}"
            if axis.kind == "categorical":
                kept = [label for label in query.getlist(name) if label in axis.labels]
                if kept:
                    choices[axis.name] = tuple(dict.fromkeys(kept[:MAX_CHOICES]))
            elif found := range_of(query, name):
                params[axis.name] = found
        ranges = {m: found for m in metrics if (found := range_of(query, f"{METRIC}{m}"))}
        return cls(params, choices, ranges)

    @property
    def active(self) -> bool:
        return bool(self.params or self.choices or self.metrics)

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as (query name, value) pairs: what the live poll must send again."""
        items: list[tuple[str, str]] = []
        for prefix, ranges in ((PARAM, self.params), (METRIC, self.metrics)):
            for name, found in ranges.items():
                if found.low is not None:
                    items.append((f"{prefix}{name}.min", repr(found.low)))
                if found.high is not None:
                    items.append((f"{prefix}{name}.max", repr(found.high)))
        items += [(f"{PARAM}{n}", label) for n, labels in self.choices.items() for label in labels]
        return items

    def apply(
        self, trials: QuerySet[Trial], axes: list[Axis], metrics: list[str]
    ) -> QuerySet[Trial]:
        """`trials` narrowed in the database; each JSON key is compared through an alias."""
        aliases: dict[str, KeyTransform] = {}
        condition = Q()
        for name, found in self.params.items():
            alias = f"_param_{len(aliases)}"
            aliases[alias] = KeyTransform(name, "params")
            # Within numbers only: a JSON string never counts as inside a numeric range.
            condition &= Q(JSONTypeIs(KeyTransform(name, "params"), "number"))
            condition &= found.condition(alias)
        by_name = {axis.name: axis for axis in axes}
        for name, labels in self.choices.items():
            alias = f"_param_{len(aliases)}"
            aliases[alias] = KeyTransform(name, "params")
            condition &= _any_of(alias, by_name[name], labels)
        for name, found in self.metrics.items():
            index = metrics.index(name)
            if len(metrics) == 1:
                condition &= found.condition("value")
            else:
                alias = f"_metric_{index}"
                aliases[alias] = KeyTransform(index, "values")
                condition &= found.condition(alias)
        return trials.alias(**aliases).filter(condition) if aliases else trials.filter(condition)

    def fields(self, axes: list[Axis], metrics: list[str]) -> list[FilterField]:
        """The filter form's rows: a range per numeric parameter and per metric, a set of
        values per categorical parameter, each showing what is set now."""
        rows = []
        for axis in axes:
            name = f"{PARAM}{axis.name}"
            if axis.kind == "categorical":
                kept = self.choices.get(axis.name, ())
                options = [(label, label in kept) for label in dict.fromkeys(axis.labels)]
                rows.append(FilterField(axis.name, name, "choice", options=options))
            else:
                found = self.params.get(axis.name, Range())
                rows.append(FilterField(axis.name, name, "range", found.low, found.high))
        for metric in metrics:
            found = self.metrics.get(metric, Range())
            rows.append(FilterField(metric, f"{METRIC}{metric}", "range", found.low, found.high))
        return rows


def _any_of(alias: str, axis: Axis, labels: Iterable[str]) -> Q:
    """The trials whose value has one of `labels` (two values may share a label: both count)."""
    kept = set(labels)
    found = Q(pk__in=[])
    for value in axis_values(axis):
        if value_label(value) in kept:
            found |= Q(**{alias: value})
    return found


def axis_values(axis: Axis) -> list[Any]:
    """A categorical axis's values, as the config gave them (its keys are their JSON)."""
    return [json.loads(key) for key in axis.keys]


def trials_page(sweep: Sweep, view: TrialView, filters: TrialFilters, axes: list[Axis]) -> Page:
    """One page of the trials table: a count and one query of the page's trials."""
    # What the table never shows is left behind; any column it may show comes along.
    trials = Trial.objects.filter(sweep=sweep).defer("internal", "point_key", "checkpoints")
    # The step of each trial's last logged point of the metric, in the page's own query
    # (the (run, key, step) index answers it): where a pruned trial stopped.
    metric = sweep.metric_names[0] if sweep.metric else ""
    last = MetricPoint.objects.filter(run_id=OuterRef("run_id"), key=metric).order_by("-step")
    trials = trials.annotate(last_step=Subquery(last.values("step")[:1]))
    if view.state:
        trials = trials.filter(state=view.state)
    trials = filters.apply(trials, axes, sweep.metric_names)
    page_number: Any = view.page
    if (
        view.trial is not None
        and view.sort == DEFAULT_TRIAL_SORT
        and not view.state
        and not filters.active
    ):
        # Numbers are dense from 0, so the trial's page under newest-first is arithmetic.
        page_number = (max(sweep.next_number - 1 - view.trial, 0)) // TRIALS_PER_PAGE + 1
    paginator = Paginator(trials.order_by(*trial_ordering(view.sort)), TRIALS_PER_PAGE)
    return paginator.get_page(page_number)
