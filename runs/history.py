"""Reading metric history back, for the API and the charts."""

from __future__ import annotations

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
