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
from collections.abc import Sized
from dataclasses import dataclass
from html import escape
from typing import Any

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

    @property
    def empty(self) -> bool:
        return bool(self.figure["empty"])

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
