"""Plotly figures of a run's metrics: built here as data, drawn by static/js/charts.js.

This is the only module that imports plotly, so the figure shape lives in one place
and the browser code stays a thin "draw what you are given".
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from html import escape
from typing import Any

import plotly.graph_objects as go

from runs.history import downsample

PLOTLY_CONFIG: dict[str, Any] = {"responsive": True, "displaylogo": False}
LINE_COLOR = "#4f46e5"
GRID_COLOR = "#e5e7eb"
# A live run page redraws every chart every few seconds: a million-step history is cut
# to buckets that keep their first, last, lowest and highest points (runs.history.downsample).
POINTS_PER_CHART = 5_000
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}


@dataclass(frozen=True)
class Chart:
    """One metric's figure and the DOM id its data travels under."""

    id: str
    key: str
    figure: dict[str, Any]


def figure_id(key: str) -> str:
    """A DOM id for the key's chart, stable across polls.

    Metric keys may hold any character (spaces, quotes, markup), so the id is a
    digest rather than the key itself; the same key always lands in the same div.
    """
    digest = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"fig-{digest}"


def plottable(values: list[float | None]) -> list[float | None]:
    """The values with NaN and ±inf as None: Plotly draws None as a gap, and JSON has no inf."""
    return [v if v is not None and math.isfinite(v) else None for v in values]


def metric_figure(
    key: str, steps: list[Any], values: list[float | None], x_label: str = "step"
) -> dict[str, Any]:
    """A line chart of one metric against the step (or `x_label`, its step_metric), as a
    Plotly figure dict plus config."""
    # Plotly renders titles and trace names as HTML-like markup; escaping makes a key
    # such as "<img onerror=...>" show as text. Plotly turns the entities back into
    # characters when it draws the SVG text.
    label = escape(key)
    trace = go.Scatter(
        x=steps,
        y=plottable(values),
        # A lone point has no line to draw; show it as a marker until a second arrives.
        mode="lines" if len(steps) > 1 else "markers",
        name=label,
        connectgaps=False,
        line={"color": LINE_COLOR, "width": 2},
        marker={"color": LINE_COLOR, "size": 6},
        hovertemplate=f"{escape(x_label)} %{{x}}<br>%{{y:.6g}}<extra></extra>",
    )
    figure = go.Figure(trace)
    figure.update_layout(
        # "none" keeps each figure small: the default template adds ~6 kB per chart,
        # and the live view resends every chart every few seconds.
        template="none",
        title={"text": label, "x": 0.02, "xanchor": "left", "y": 0.97, "font": {"size": 14}},
        # A constant uirevision makes Plotly.react keep the user's zoom and pan.
        uirevision=key,
        autosize=True,
        font=FONT,
        margin={"l": 56, "r": 20, "t": 44, "b": 48, "pad": 2},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=False,
        hovermode="x",
        xaxis={
            "title": {"text": escape(x_label), "standoff": 6},
            "gridcolor": GRID_COLOR,
            "zeroline": False,
            "automargin": True,
        },
        yaxis={"gridcolor": GRID_COLOR, "zeroline": False, "automargin": True},
    )
    plotly_json = figure.to_plotly_json()
    return {
        "key": key,
        "data": plotly_json["data"],
        "layout": plotly_json["layout"],
        "config": PLOTLY_CONFIG,
    }


Series = dict[str, tuple[list[int], list[float | None]]]


def metric_charts(series: Series, axes: dict[str, str] | None = None) -> list[Chart]:
    """One chart per metric key, in key order, each of at most POINTS_PER_CHART points.

    `axes` maps a key to its step_metric (define_metric): that key is drawn against the
    step metric's value at each step both were logged, as W&B draws it."""
    charts = []
    for key, (steps, values) in sorted(series.items()):
        x_label = (axes or {}).get(key, "step")
        xs: list[Any] = steps
        if x_label in series and x_label != "step":
            xs, values = against(series[x_label], steps, values)
        else:
            x_label = "step"
        xs, values = downsample(xs, values, POINTS_PER_CHART)
        figure = metric_figure(key, xs, values, x_label)
        charts.append(Chart(id=figure_id(key), key=key, figure=figure))
    return charts


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
