"""Plotly figures of a run's metrics: built here as data, drawn by static/js/charts.js.

The styling every chart shares (Chart, fonts, colours, config, base layout) is in
sweeptracker/charts.py; this module says what a metric's line chart shows.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from runs.history import downsample
from sweeptracker import charts
from sweeptracker.charts import Chart

# A live run page redraws every chart every few seconds: a million-step history is cut
# to buckets that keep their first, last, lowest and highest points (runs.history.downsample).
POINTS_PER_CHART = 5_000


def figure_id(key: str) -> str:
    """The id the key's figure data travels under, stable across polls; its chart is
    drawn in the div `<id>-chart`."""
    return charts.dom_id("fig", key, length=16)


def plottable(values: list[float | None]) -> list[float | None]:
    """The values with NaN and ±inf as None: Plotly draws None as a gap, and JSON has no inf."""
    return [v if v is not None and math.isfinite(v) else None for v in values]


def metric_figure(
    key: str, steps: list[Any], values: list[float | None], x_label: str = "step"
) -> dict[str, Any]:
    """A line chart of one metric against the step (or `x_label`, its step_metric), as a
    Plotly figure dict plus config."""
    label = charts.text(key)
    trace = go.Scatter(
        x=steps,
        y=plottable(values),
        # A lone point has no line to draw; show it as a marker until a second arrives.
        mode="lines" if len(steps) > 1 else "markers",
        name=label,
        connectgaps=False,
        line={"color": charts.ACCENT, "width": 2},
        marker={"color": charts.ACCENT, "size": 6},
        hovertemplate=f"{charts.text(x_label)} %{{x}}<br>%{{y:.6g}}<extra></extra>",
    )
    layout = charts.layout(
        # The key itself: the chart keeps the user's zoom for as long as the page lives.
        key,
        title={"text": label, "x": 0.02, "xanchor": "left", "y": 0.97, "font": {"size": 14}},
        margin={"l": 56, "r": 20, "t": 44, "b": 48, "pad": 2},
        hovermode="x",
        xaxis=charts.axis(charts.text(x_label)),
        yaxis=charts.axis(),
    )
    div = f"{figure_id(key)}-chart"
    return {"key": key} | charts.figure(div, [trace], layout)


Series = dict[str, tuple[list[int], list[float | None]]]


def metric_charts(series: Series, axes: dict[str, str] | None = None) -> list[Chart]:
    """One chart per metric key, in key order, each of at most POINTS_PER_CHART points.

    `axes` maps a key to its step_metric (define_metric): that key is drawn against the
    step metric's value at each step both were logged, as W&B draws it."""
    drawn = []
    for key, (steps, values) in sorted(series.items()):
        x_label = (axes or {}).get(key, "step")
        xs: list[Any] = steps
        if x_label in series and x_label != "step":
            xs, values = against(series[x_label], steps, values)
        else:
            x_label = "step"
        xs, values = downsample(xs, values, POINTS_PER_CHART)
        figure = metric_figure(key, xs, values, x_label)
        drawn.append(Chart(id=figure_id(key), title=key, figure=figure))
    return drawn


def against(
    axis: tuple[list[int], list[float | None]], steps: list[int], values: list[float | None]
) -> tuple[list[float | None], list[float | None]]:
    """The metric's values paired with the axis metric's value at the same step.

    Steps where the axis metric was not logged, or is not finite, have no x: left out."""
    axis_at = {step: x for step, x in zip(*axis, strict=True) if x is not None and math.isfinite(x)}
    pairs = [
        (axis_at[step], value) for step, value in zip(steps, values, strict=True) if step in axis_at
    ]
    return [x for x, _ in pairs], [y for _, y in pairs]
