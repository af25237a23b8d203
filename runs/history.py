"""Reading metric history back, for the API and the charts."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Count, Max, Min, QuerySet

from runs.models import MetricPoint, Run

# The most steps `samples` may ask for: they travel back as one IN list of parameters.
MAX_SAMPLES = 10_000


@dataclass(frozen=True)
class StepRange:
    """W&B's scan_history bounds: min_step <= step < max_step; None leaves a side open."""

    min_step: int | None = None
    max_step: int | None = None


def points_of(
    run: Run,
    keys: list[str] | None = None,
    steps: StepRange = StepRange(),
    samples: int | None = None,
) -> QuerySet[MetricPoint]:
    """The run's points in step order, then key order; at most `samples` distinct steps."""
    points = MetricPoint.objects.filter(run=run)
    if keys:
        points = points.filter(key__in=keys)
    if steps.min_step is not None:
        points = points.filter(step__gte=steps.min_step)
    if steps.max_step is not None:
        points = points.filter(step__lt=steps.max_step)
    if samples is not None:
        chosen = sampled_steps(points, samples)
        if chosen is not None:
            points = points.filter(step__in=chosen)
    return points.order_by("step", "key")


def sampled_steps(points: QuerySet[MetricPoint], samples: int) -> list[int] | None:
    """At most `samples` of the points' distinct steps, evenly spread, first and last kept.

    None when there are no more steps than that. A run logged at every step (the usual
    case) is answered from its first, last and count alone; gaps make us read the steps.
    """
    bounds = points.aggregate(
        count=Count("step", distinct=True), first=Min("step"), last=Max("step")
    )
    count, first, last = bounds["count"], bounds["first"], bounds["last"]
    if count <= samples:
        return None
    every: range | list[int]
    if last - first + 1 == count:
        every = range(first, last + 1)
    else:
        ordered = points.order_by("step").values_list("step", flat=True).distinct()
        every = list(ordered.iterator(chunk_size=10_000))
    return spread(every, samples)


def spread(steps: range | list[int], samples: int) -> list[int]:
    """`samples` items of `steps` at even distances, always its first and last."""
    if samples == 1:
        return [steps[-1]]
    last = len(steps) - 1
    return sorted({steps[round(i * last / (samples - 1))] for i in range(samples)})


def last_step(run: Run) -> int | None:
    """The highest step the run logged, or None before its first point."""
    last: int | None = MetricPoint.objects.filter(run=run).aggregate(last=Max("step"))["last"]
    return last


def series_by_key(run: Run) -> dict[str, tuple[list[int], list[float | None]]]:
    """Steps and values of every metric of the run, read in one query."""
    series: dict[str, tuple[list[int], list[float | None]]] = {}
    rows = MetricPoint.objects.filter(run=run).order_by("key", "step")
    for key, step, value in rows.values_list("key", "step", "value").iterator(chunk_size=5000):
        steps, values = series.setdefault(key, ([], []))
        steps.append(step)
        values.append(value)
    return series


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
        finite = {i: v for i in indexes if (v := values[i]) is not None and math.isfinite(v)}
        if finite:
            keep.add(min(finite, key=finite.__getitem__))
            keep.add(max(finite, key=finite.__getitem__))
    ordered = sorted(keep)
    return [steps[i] for i in ordered], [values[i] for i in ordered]
