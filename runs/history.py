"""Reading metric history back, for the API and the charts."""

from __future__ import annotations

import math

from django.db.models import QuerySet

from runs.models import MetricPoint, Run


def points_of(run: Run, keys: list[str] | None = None) -> QuerySet[MetricPoint]:
    """The run's points in step order, then key order."""
    points = MetricPoint.objects.filter(run=run)
    if keys:
        points = points.filter(key__in=keys)
    return points.order_by("step", "key")


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
        finite = [i for i in indexes if values[i] is not None and math.isfinite(values[i])]  # type: ignore[arg-type]
        if finite:
            keep.add(min(finite, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
            keep.add(max(finite, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
    ordered = sorted(keep)
    return [steps[i] for i in ordered], [values[i] for i in ordered]
