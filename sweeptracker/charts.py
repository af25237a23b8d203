"""What every chart of every page shares: the Chart type, fonts, colours, Plotly config,
the base layout and axis, and the figure dict static/js/charts.js draws.

Figures are built in Python as plain dicts (data, layout, config) and travel to the page
with json_script; runs/charts.py and sweeps/charts.py build their figures from these
pieces, so that a run's chart and a sweep's look like one product. Every string a user
chose goes through `text()` first: Plotly renders titles, labels and hover text as
HTML-like markup, and shows the entities as the characters they stand for.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence, Sized
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import plotly.graph_objects as go

PLOTLY_CONFIG: dict[str, Any] = {"responsive": True, "displaylogo": False}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}
GRID_COLOR = "#e5e7eb"
ACCENT = "#4f46e5"
BEST = "#f59e0b"
PRUNED = "#9ca3af"
RUNNING = "#0ea5e9"
FAILED = "#f87171"
STOPPED = "#dc2626"
# Bright is good on every chart: Viridis ends in yellow, reversed when lower is better.
COLORSCALE = "Viridis"
LATER_DARKER = [[0.0, "#c7d2fe"], [1.0, "#312e81"]]
# Figures over more points than this go in unchecked (see `checked`).
CHECKED_UP_TO = 2_000
# Tukey's far fence: values beyond this many interquartile ranges from the middle half
# are spikes that the default range leaves out (autoscale still shows them).
FENCE = 3.0


@dataclass(frozen=True)
class Chart:
    """A figure and the words around it.

    `id` names the chart in the page: a sweep's chart card is the div of that id; a
    run's live charts travel as json_script of that id and charts.js makes their divs
    (figure["div"]) as new metrics arrive.
    """

    id: str
    title: str
    figure: dict[str, Any]
    note: str = ""
    height: int = 340
    # Wider than a phone: the card scrolls sideways rather than crushing the axes.
    min_width: int = 0
    # Swatches under the chart, (label, colour), for colours a colour bar cannot explain.
    legend: tuple[tuple[str, str], ...] = ()
    # Form controls above the chart (sweeps/includes/chart_controls.html reads them).
    controls: tuple[Any, ...] = ()

    @property
    def empty(self) -> bool:
        return bool(self.figure["empty"])

    @property
    def scalable(self) -> bool:
        """Whether the chart has a metric axis that the log-scale toggle switches."""
        return "scales" in self.figure

    @property
    def payload(self) -> dict[str, Any]:
        """What json_script carries: the figure, and the note that may change with it."""
        return self.figure | {"note": self.note}


def text(value: str) -> str:
    """A user's string made safe for Plotly's markup (it shows the entities as characters)."""
    return escape(value, quote=False)


def dom_id(prefix: str, name: str = "", length: int = 12) -> str:
    """A DOM id for the chart of `name`, stable across polls.

    Names (metric keys, parameter names) may hold any character (spaces, quotes, '.',
    markup), so they go in as a digest; the same name always lands in the same div.
    """
    if not name:
        return prefix
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:length]
    return f"{prefix}-{digest}"


def layout(uirevision: str, **updates: Any) -> dict[str, Any]:
    """The layout every chart starts from; `updates` replace its keys."""
    base: dict[str, Any] = {
        # "none" keeps figures small: the default template adds kilobytes to every poll.
        "template": "none",
        # A constant uirevision makes Plotly.react keep the user's zoom, pan and brushing.
        "uirevision": uirevision,
        "autosize": True,
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 16, "b": 48, "pad": 2},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "hoverlabel": {"font": FONT},
    }
    return base | updates


def axis(title: str = "", **updates: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "gridcolor": GRID_COLOR,
        "zeroline": False,
        "automargin": True,
        "title": {"text": title, "standoff": 8},
    }
    return base | updates


def robust_range(values: Sequence[float], log: bool = False) -> tuple[float, float] | None:
    """An axis range that one spike does not squash, or None when no value is a spike.

    Values beyond Tukey's far fence (FENCE interquartile ranges outside the middle half;
    on a log axis, of log10 of the values) are left out; the range covers the rest with
    a margin. Plotly's autoscale (or a double-click) still shows the whole data.
    """
    finite = np.array([v for v in values if math.isfinite(v) and (v > 0 or not log)], float)
    if finite.size < 4:
        return None
    scaled = np.log10(finite) if log else finite
    q1, q3 = np.quantile(scaled, [0.25, 0.75])
    spread = q3 - q1
    inside = scaled[(scaled >= q1 - FENCE * spread) & (scaled <= q3 + FENCE * spread)]
    if spread <= 0 or inside.size == scaled.size:
        return None
    low, high = float(inside.min()), float(inside.max())
    pad = (high - low) * 0.06 or abs(high) * 0.06 or 1.0
    return low - pad, high + pad


def metric_scales(
    values: Sequence[float], axis: str = "yaxis", uirevision: str = ""
) -> dict[str, Any]:
    """The layout of a chart's metric axis on a linear and on a log scale, for the toggle.

    static/js/charts.js applies one of the two to the figure before drawing it: each is
    {"layout": {dotted path: value}}. The log one is absent when a value is not positive.
    Each scale has its own uirevision, so a zoom in one is not read in the other.
    """

    def scale(kind: str, bounds: tuple[float, float] | None, revision: str) -> dict[str, Any]:
        patch: dict[str, Any] = {f"{axis}.type": kind, "uirevision": revision}
        patch[f"{axis}.autorange"] = bounds is None
        if bounds is not None:
            patch[f"{axis}.range"] = list(bounds)
        return {"layout": patch}

    scales = {"linear": scale("linear", robust_range(values), uirevision)}
    if values and all(v > 0 for v in values if math.isfinite(v)):
        scales["log"] = scale("log", robust_range(values, log=True), f"{uirevision}:log")
    return scales


def apply_scale(figure: dict[str, Any], scale: str = "linear") -> dict[str, Any]:
    """`figure` with its `scale` applied to its layout, as charts.js does before drawing."""
    for path, value in figure["scales"][scale].get("layout", {}).items():
        target = figure["layout"]
        *parents, key = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = value
    return figure


def outside_note(values: Sequence[float], scales: dict[str, Any], axis: str = "yaxis") -> str:
    """What the default range leaves out, and how to see it."""
    bounds = scales["linear"]["layout"].get(f"{axis}.range")
    if not bounds:
        return ""
    low, high = bounds
    outside = sum(1 for v in values if math.isfinite(v) and not low <= v <= high)
    if not outside:
        return ""
    return (
        f" {outside} value{'s lie' if outside > 1 else ' lies'} outside the range shown: "
        "double-click the chart (or autoscale) to see all."
    )


def checked(points: Sized) -> bool:
    """Whether plotly checks a trace drawn over `points`, element by element.

    At 10,000 trials plotly's checks and copies of the arrays were most of a page's
    time. The figures are checked while they are small (every test sweep is); a large
    one is built by the same code, so its arrays of our own numbers go in unchecked.
    """
    return len(points) <= CHECKED_UP_TO


def figure(
    div: str, traces: list[Any], layout: dict[str, Any], config: dict[str, Any] = PLOTLY_CONFIG
) -> dict[str, Any]:
    """The figure dict charts.js draws into the div `div`."""
    # Trace objects remember whether they were checked (plotly's own _validate flag).
    if all(trace._validate for trace in traces):
        plotly_json = go.Figure(data=traces, layout=layout).to_plotly_json()
        data, layout = plotly_json["data"], plotly_json["layout"]
    else:
        # A Figure would copy every array once more; the layout alone is still checked.
        data = [trace.to_plotly_json() for trace in traces]
        layout = go.Layout(layout).to_plotly_json()
    return {
        "div": div,
        "data": data,
        "layout": layout,
        "config": config,
        "empty": False,
        "message": "",
    }


def empty(div: str, message: str, config: dict[str, Any] = PLOTLY_CONFIG) -> dict[str, Any]:
    """No figure yet: the page shows `message` where the chart will be."""
    return {
        "div": div,
        "data": [],
        "layout": {},
        "config": config,
        "empty": True,
        "message": message,
    }
