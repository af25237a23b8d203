"""Plotly figures of a sweep: built here as data, drawn by static/js/charts.js.

Each builder takes rows from sweeps/plot_data.py and returns a Chart whose figure is a
plain dict (data, layout, config) for json_script. The styling every chart shares (the
Chart type, fonts, colours, base layout, escaping with `text`) is sweeptracker/charts.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go

from sweeps.models import TrialState
from sweeps.plot_data import (
    Axis,
    Correlations,
    Curve,
    Dimension,
    TrialPoint,
    finished_points,
    linear_ticks,
    log_axis,
    log_ticks,
    parallel_data,
    value_label,
)
from sweeptracker import charts
from sweeptracker.charts import (
    ACCENT,
    BEST,
    COLORSCALE,
    FAILED,
    LATER_DARKER,
    PRUNED,
    RUNNING,
    STOPPED,
    Chart,
    apply_scale,
    checked,
    metric_scales,
    outside_note,
    robust_range,
    text,
)
from sweeptracker.pages import format_duration

# Lasso and box select do nothing on these charts; the parallel axes brush by dragging.
PLOTLY_CONFIG: dict[str, Any] = charts.PLOTLY_CONFIG | {
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
# The layout of the charts that tell their traces apart by a legend above the plot.
WITH_LEGEND: dict[str, Any] = {
    "showlegend": True,
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    "margin": {"l": 60, "r": 20, "t": 36, "b": 48, "pad": 2},
    "hovermode": "closest",
}
# Plotly draws at most 60 parallel axes; the metric takes one.
MAX_DIMENSIONS = 60
CONTOUR_GRID = 48
TOP_FRACTION = 0.1
# The contour is interpolated from at most this many trials (the best always among them):
# the weights are a grid x grid x trials array.
CONTOUR_POINTS = 1_000
# The contour's kernel width, as a share of each axis: wide enough that a lone trial
# shades a soft patch rather than a bull's-eye, narrow enough to keep the valleys.
CONTOUR_BANDWIDTH = 0.12
# Cells farther than this many bandwidths from every trial stay blank: no trial says
# anything there.
CONTOUR_REACH = 2.5
# Parameters a tooltip names; the trial's page shows them all.
HOVER_PARAMS = 12
SECOND = "#db2777"
# Viridis from dark to bright, the colours of the parallel lines between worst and best.
VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]


def short(label: str, limit: int = 24) -> str:
    """A tick label that fits beside its neighbours; the hover and the table show it whole."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def metric_label(name: str, goal: str) -> str:
    return f"{name} {'↓' if goal == 'minimize' else '↑'}"


def chart_id(kind: str, name: str = "") -> str:
    """A DOM id; parameter names may hold '.', so they go in as a digest."""
    return charts.dom_id(f"chart-{kind}", name)


def _figure(div: str, traces: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    return charts.figure(div, traces, layout, PLOTLY_CONFIG)


def _empty(div: str, message: str) -> dict[str, Any]:
    return charts.empty(div, message, PLOTLY_CONFIG)


def finished(points: list[TrialPoint]) -> list[TrialPoint]:
    """Complete and pruned trials with a finite value: the ones a chart can place."""
    return finished_points(points)


def better(goal: str, a: float, b: float) -> bool:
    return a < b if goal == "minimize" else a > b


def link_trials(drawn: list[Chart], trial_url: str) -> None:
    """Let a click on a trial's point or line open its page: `trial_url` + number + "/".

    Every trace of these charts carries the trial's number as its customdata (or as
    its first element); charts.js reads it on plotly_click.
    """
    for chart in drawn:
        chart.figure["trial_url"] = trial_url


def hover_params(
    axes: list[Axis] | tuple[Axis, ...], group: list[TrialPoint]
) -> tuple[list[list[Any]], str]:
    """customdata rows [number, value labels...] and the tooltip lines that show them."""
    shown = list(axes)[:HOVER_PARAMS]
    rows = [
        [p.number, *(text(short(value_label(p.params.get(a.name)), 32)) for a in shown)]
        for p in group
    ]
    lines = "".join(f"<br>{text(a.name)}: %{{customdata[{i + 1}]}}" for i, a in enumerate(shown))
    return rows, lines


def scaled(figure: dict[str, Any], values: list[float], axis: str, div: str) -> dict[str, Any]:
    """The figure with its metric axis' scales (for the log toggle), on the linear one."""
    figure["scales"] = metric_scales(values, axis, div)
    return apply_scale(figure)


# Parallel coordinates --------------------------------------------------------------------


def _dimension(dimension: Dimension) -> dict[str, Any]:
    drawn: dict[str, Any] = {"label": text(dimension.name)}
    # Plotly's own ticks read well on a linear axis; the others need their values named.
    if dimension.scale != "linear":
        drawn["tickvals"] = dimension.tick_values
        drawn["ticktext"] = [text(short(label)) for label in dimension.tick_labels]
    drawn["values"] = dimension.positions
    drawn["range"] = list(dimension.range)
    return drawn


def top_range(values: list[float], goal: str) -> list[float]:
    """The metric range of the best 10% of the trials (at least the best one)."""
    ranked = sorted(values, reverse=goal != "minimize")
    cut = ranked[max(math.ceil(len(ranked) * TOP_FRACTION), 1) - 1]
    low, high = (ranked[0], cut) if goal == "minimize" else (cut, ranked[0])
    # A range of zero width would select nothing on screen; widen it a hair.
    pad = max(abs(high - low), abs(high), 1e-12) * 1e-6
    return [low - pad, high + pad]


def _metric_dimension(values: list[float], goal: str, log: bool) -> dict[str, Any]:
    """The metric's axis: a spike is drawn at the edge of a range that fits the rest.

    Parallel coordinates cannot zoom, and a line outside its axis' range is drawn off
    the chart, so a value beyond the robust range sits on the range's end, whose tick
    says "≥" (or "≤"). On the log scale the positions are log10 of the values.
    """
    shown = [math.log10(v) for v in values] if log else list(values)
    bounds = robust_range(values, log=log)
    low, high = bounds or (min(shown), max(shown))
    # The robust range's margin would label an end no trial reached (a loss below 0).
    low, high = max(low, min(shown)), min(high, max(shown))
    if low == high:
        low, high = low - 0.5, high + 0.5
    if log and bounds is None:
        (low, high), tickvals, labels = log_axis(low, high)
    else:
        tickvals, labels = (log_ticks if log else linear_ticks)(low, high)
    ticktext = [text(label) for label in labels]
    clipped_low = any(v < low for v in shown)
    clipped_high = any(v > high for v in shown)
    ends = [(low, "≤", clipped_low), (high, "≥", clipped_high)]
    for end, sign, clipped in ends:
        if clipped:
            label = f"{sign} {_end_label(10**end if log else end)}"
            tickvals.append(end)
            ticktext.append(label)
    # The ticks' outermost pair is where plotly draws the axis line: put them on the ends.
    for end in (low, high):
        if not any(abs(t - end) < 1e-9 * max(abs(end), 1) for t in tickvals):
            tickvals.append(end)
            ticktext.append(_end_label(10**end if log else end))
    return {
        "values": [min(max(v, low), high) for v in shown],
        "range": [low, high],
        "tickvals": tickvals,
        "ticktext": ticktext,
        "constraintrange": top_range([min(max(v, low), high) for v in shown], goal),
    }


def _end_label(value: float) -> str:
    return f"{value:.3g}"


def _line_colours(rows: list[TrialPoint], goal: str) -> tuple[list[float], list[Any]]:
    """A colour position per line and the colour scale that reads them.

    Pruned trials are grey (0 to 0.06), the best and the second best have their own
    colours at the top (0.9 to 1), and the others run through Viridis, bright for good,
    by their value within the robust range.
    """
    # Why the type: ignore below: Rows are finished points: every value is finite.
    values: list[float] = [p.value for p in rows]  # type: ignore[misc]
    complete = [p for p in rows if p.state == TrialState.COMPLETE]
    sign = 1.0 if goal == "minimize" else -1.0
    # Why the type: ignore below: as above.
    ranked = sorted(complete, key=lambda p: sign * p.value)  # type: ignore[operator]
    first = ranked[0].number if ranked else None
    second = ranked[1].number if len(ranked) > 1 else None
    low, high = robust_range(values) or (min(values), max(values))
    span = (high - low) or 1.0
    positions = []
    for p in rows:
        if p.number == first:
            positions.append(0.975)
        elif p.number == second:
            positions.append(0.925)
        elif p.state != TrialState.COMPLETE:
            positions.append(0.03)
        else:
            # Why the type: ignore below: as above.
            good = (min(max(p.value, low), high) - low) / span  # type: ignore[type-var,operator]
            positions.append(0.1 + 0.78 * (1 - good if goal == "minimize" else good))
    steps = len(VIRIDIS) - 1
    scale: list[Any] = [[0.0, PRUNED], [0.06, PRUNED], [0.06, VIRIDIS[0]]]
    scale += [[0.1 + 0.78 * i / steps, colour] for i, colour in enumerate(VIRIDIS)]
    scale += [[0.9, VIRIDIS[-1]], [0.9, SECOND], [0.95, SECOND], [0.95, BEST], [1.0, BEST]]
    return positions, scale


def parallel_chart(
    axes: list[Axis], points: list[TrialPoint], metric: str, goal: str, limit: int = 0
) -> Chart:
    """One line per finished trial; with `limit`, at most that many (see `thinned`)."""
    div = chart_id("parallel")
    title = "Parallel coordinates"
    data = parallel_data(axes[: MAX_DIMENSIONS - 1], points, metric, goal, limit)
    if not data.rows:
        return Chart(div, title, _empty(div, "No finished trials yet."), height=440)
    # In trial order (the API's rows too): the brushed band, drawn above the rest, holds
    # the best ones.
    drawn = data.rows
    colours, colourscale = _line_colours(drawn, goal)
    *params, metric_axis = data.dimensions
    dimensions = [_dimension(dimension) for dimension in params]
    values = metric_axis.positions
    metric_dimension = _metric_dimension(values, goal, log=False)
    dimensions.append({"label": f"<b>{text(metric_label(metric, goal))}</b>", **metric_dimension})
    trace = go.Parcoords(
        dimensions=dimensions,
        line={
            "color": colours,
            "colorscale": colourscale,
            "cmin": 0,
            "cmax": 1,
            "showscale": False,
        },
        unselected={"line": {"color": "#94a3b8", "opacity": 0.25}},
        labelfont={"size": 12},
        tickfont={"size": 11},
        labelangle=-12 if len(dimensions) > 6 else 0,
        customdata=[p.number for p in drawn],
        _validate=checked(drawn),
    )
    layout = charts.layout(div, margin={"l": 48, "r": 48, "t": 56, "b": 24})
    figure = _figure(div, [trace], layout)
    figure["scales"] = _parallel_scales(values, goal, len(dimensions) - 1, div)
    # On a phone the labels turn and shrink so that the axes can stand closer.
    figure["compact"] = {
        "data": [[0, {"labelangle": -40, "labelfont.size": 10, "tickfont.size": 9}]],
        "layout": {"margin.t": 84, "margin.l": 40, "margin.r": 60},
    }
    figure["pick"] = True
    shown = max(math.ceil(len(drawn) * TOP_FRACTION), 1)
    note = (
        f"One line per finished trial ({len(drawn)}), coloured by {metric}. "
        f"The best {shown} {'is' if shown == 1 else 'are'} highlighted: drag along any axis "
        "to pick other lines; the trials picked are listed under the chart."
    )
    if len(drawn) < data.finished:
        note += (
            f" Here {len(drawn)} of the {data.finished} trials: the best and an even spread of the"
            " others; the Parallel coordinates tab draws them all."
        )
    legend = (
        ("best", BEST),
        ("second best", SECOND),
        (
            f"complete, worse → better {metric}",
            "linear-gradient(90deg, " + ", ".join(VIRIDIS) + ")",
        ),
        ("pruned", PRUNED),
    )
    return Chart(
        div,
        title,
        figure,
        note=note,
        height=440,
        min_width=max(560, 120 * len(dimensions)),
        legend=legend,
    )


def _parallel_scales(values: list[float], goal: str, index: int, div: str) -> dict[str, Any]:
    """The metric axis (dimension `index`) on a linear and on a log scale."""

    def scale(log: bool) -> dict[str, Any]:
        dimension = _metric_dimension(values, goal, log)
        patch = {f"dimensions[{index}].{key}": value for key, value in dimension.items()}
        return {"data": [[0, patch]], "layout": {"uirevision": f"{div}:log" if log else div}}

    scales = {"linear": scale(False)}
    if all(v > 0 for v in values):
        scales["log"] = scale(True)
    return scales


# Optimization history --------------------------------------------------------------------


def history_chart(
    points: list[TrialPoint], metric: str, goal: str, axes: list[Axis] | None = None
) -> Chart:
    div = chart_id("history")
    title = "Optimization history"
    drawn = finished(points)
    if not drawn:
        return Chart(div, title, _empty(div, "No finished trials yet."))
    complete = [p for p in drawn if p.state == TrialState.COMPLETE]
    pruned = [p for p in drawn if p.state == TrialState.PRUNED]
    best_x = [p.number for p in complete]
    best_y: list[float] = []
    for p in complete:
        # Why the type: ignore below: Complete trials here all have a finite value.
        value: float = p.value  # type: ignore[assignment]
        best_y.append(value if not best_y or better(goal, value, best_y[-1]) else best_y[-1])
    if best_x and best_x[-1] != drawn[-1].number:
        # Carry the line to the newest trial so it reads "best so far" right up to now.
        best_x.append(drawn[-1].number)
        best_y.append(best_y[-1])

    def markers(group: list[TrialPoint], name: str, marker: dict[str, Any]) -> go.Scatter:
        customdata, lines = hover_params(axes or [], group)
        return go.Scatter(
            _validate=checked(drawn),
            x=[p.number for p in group],
            y=[p.value for p in group],
            customdata=customdata,
            mode="markers",
            name=name,
            marker=marker,
            hovertemplate=f"trial #%{{x}}<br>{text(metric)} %{{y:.6g}}{lines}<extra>{name}</extra>",
        )

    traces = [
        markers(complete, "complete", {"color": ACCENT, "size": 7, "opacity": 0.75}),
        markers(pruned, "pruned", {"color": PRUNED, "size": 7, "symbol": "circle-open"}),
        go.Scatter(
            _validate=checked(drawn),
            x=best_x,
            y=best_y,
            mode="lines",
            name="best so far",
            line={"color": BEST, "width": 2.5, "shape": "hv"},
            hoverinfo="skip",
        ),
        markers(
            [p for p in complete if p.is_best],
            "best",
            {"color": BEST, "size": 15, "symbol": "star", "line": {"color": "#92400e"}},
        ),
    ]
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        xaxis=charts.axis("trial"),
        yaxis=charts.axis(text(metric_label(metric, goal))),
    )
    # Why the type: ignore below: finished() keeps only trials with a finite value.
    values: list[float] = [p.value for p in drawn]  # type: ignore[misc]
    figure = scaled(_figure(div, traces, layout), values, "yaxis", div)
    note = "Click a point to open its trial." + outside_note(values, figure["scales"])
    return Chart(div, title, figure, note=note)


def edf_chart(
    points: list[TrialPoint], metric: str, goal: str, axes: list[Axis] | None = None
) -> Chart:
    """The empirical distribution function of the metric over the complete trials."""
    div = chart_id("edf")
    title = "Distribution of the metric (EDF)"
    complete = [p for p in finished(points) if p.state == TrialState.COMPLETE]
    if not complete:
        return Chart(div, title, _empty(div, "No complete trials yet."))
    # Why the type: ignore below: finished() keeps only trials with a finite value.
    ranked = sorted(complete, key=lambda p: p.value)  # type: ignore[arg-type,return-value]
    count = len(ranked)
    shares = [(i + 1) / count for i in range(count)]
    customdata, lines = hover_params(axes or [], ranked)
    trace = go.Scatter(
        _validate=checked(ranked),
        x=[p.value for p in ranked],
        y=shares,
        customdata=customdata,
        mode="lines+markers",
        name="complete",
        line={"color": ACCENT, "width": 2, "shape": "hv"},
        marker={"color": ACCENT, "size": 5},
        hovertemplate=(
            f"trial #%{{customdata[0]}}<br>{text(metric)} %{{x:.6g}}<br>"
            f"%{{y:.0%}} of the trials at or below{lines}<extra></extra>"
        ),
    )
    layout = charts.layout(
        div,
        hovermode="closest",
        xaxis=charts.axis(text(metric_label(metric, goal))),
        yaxis=charts.axis("share of trials", range=[0, 1.04], tickformat=".0%"),
    )
    # Why the type: ignore below: finished() keeps only trials with a finite value.
    values: list[float] = [p.value for p in ranked]  # type: ignore[misc]
    figure = scaled(_figure(div, [trace], layout), values, "xaxis", div)
    better_side = "left" if goal == "minimize" else "right"
    note = (
        f"For each value of {metric}, the share of the {count} complete trials at or below "
        f"it; a curve that rises early (better is to the {better_side}) means a sweep that "
        "finds good values often." + outside_note(values, figure["scales"], "xaxis")
    )
    return Chart(div, title, figure, note=note)


TIMELINE_COLORS = {
    TrialState.COMPLETE: ACCENT,
    TrialState.RUNNING: RUNNING,
    TrialState.PRUNED: PRUNED,
    TrialState.FAILED: FAILED,
}


@dataclass(frozen=True)
class Span:
    """A trial on the timeline: from its start to its end (now while it runs)."""

    point: TrialPoint
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _lanes(spans: list[Span]) -> tuple[list[str], str]:
    """A lane per trial: its agent, or, when no agent announced itself, the first row
    free at its start (so the rows count how many trials ran at once)."""
    if any(span.point.agent for span in spans):
        return [span.point.agent or "no agent recorded" for span in spans], "agent"
    ends: list[datetime] = []
    lanes = []
    for span in spans:
        free = next((i for i, end in enumerate(ends) if end <= span.start), len(ends))
        if free == len(ends):
            ends.append(span.end)
        ends[free] = span.end
        lanes.append(f"row {free + 1}")
    return lanes, "row"


def timeline_chart(points: list[TrialPoint], now: datetime) -> Chart:
    """Each trial as a bar from its start to its end, one lane per agent."""
    div = chart_id("timeline")
    title = "Timeline of trials"
    spans = sorted(
        (Span(p, p.created_at, p.ended_at or now) for p in points if p.created_at),
        key=lambda span: span.start,
    )
    if not spans:
        return Chart(div, title, _empty(div, "No trials yet."))
    lanes, kind = _lanes(spans)
    traces = []
    for state, colour in TIMELINE_COLORS.items():
        group = [(s, lane) for s, lane in zip(spans, lanes, strict=True) if s.point.state == state]
        traces.append(
            go.Bar(
                _validate=checked(spans),
                orientation="h",
                base=[span.start.isoformat() for span, _ in group],
                # A bar's length is in milliseconds on a date axis; a blink still shows.
                x=[max(span.seconds, 0.05) * 1000 for span, _ in group],
                y=[text(lane) for _, lane in group],
                customdata=[
                    [
                        span.point.number,
                        text(lane),
                        format_duration(timedelta(seconds=span.seconds)),
                    ]
                    for span, lane in group
                ],
                name=str(state),
                marker={"color": colour, "line": {"color": "white", "width": 0.5}},
                hovertemplate=(
                    "trial #%{customdata[0]}<br>%{customdata[1]}<br>"
                    "started %{base|%H:%M:%S}, took %{customdata[2]}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    lane_count = len(set(lanes))
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        barmode="overlay",
        bargap=0.3,
        xaxis=charts.axis("time", type="date"),
        yaxis=charts.axis(
            "agent" if kind == "agent" else "",
            type="category",
            # In the order the lanes began, the first at the top.
            categoryorder="array",
            categoryarray=[text(lane) for lane in dict.fromkeys(lanes)][::-1],
        ),
    )
    if kind == "agent":
        note = f"One lane per agent ({lane_count}), by the host and process it announced."
    else:
        note = (
            "No agent announced itself for these trials: each lane is a row of trials that "
            f"did not overlap, so the {lane_count} lanes show how many ran at once."
        )
    note += " Click a bar to open its trial."
    height = min(max(160 + 26 * lane_count, 260), 640)
    return Chart(div, title, _figure(div, traces, layout), note=note, height=height)


# Parameter importance --------------------------------------------------------------------


IMPORTANCE_NOTES = {
    "fanova": "the share of the metric's variance each parameter explains (a random forest",
    "ped_anova": "which parameters decide whether a trial lands among the best 10% (of",
}


def _needs_more(result: dict[str, Any] | None, complete: int) -> str:
    minimum = (result or {}).get("min_trials") or 10
    trials = (result or {}).get("trials", complete)
    if trials >= minimum:
        return "No parameter varies over the complete trials."
    more = max(minimum - trials, 1)
    return (
        f"Importance needs at least {minimum} complete trials; {trials} so far, {more} more to go."
    )


def importance_chart(result: dict[str, Any] | None, complete: int, method: str = "fanova") -> Chart:
    """Bars of the chosen method's scores (fANOVA unless `method` is "ped_anova")."""
    div = chart_id("importance")
    block = (result or {}).get(method) or {}
    label = block.get("method") or {"fanova": "fANOVA", "ped_anova": "PED-ANOVA"}[method]
    title = f"Parameter importance ({label})"
    trials = block.get("trials") or (result or {}).get("trials") or 0
    note = f"{label}: {IMPORTANCE_NOTES[method]} over {trials} complete trials)"
    if trials < (result or {}).get("trials", 0):
        # Why the type: ignore below: `trials` in result implies a result (the test just above).
        note += f", an even sample of the {result['trials']}"  # type: ignore[index]
    scores = block.get("importances") or {}
    if (result or {}).get("error"):
        # Why the type: ignore below: An error implies a result (the test just above).
        return Chart(div, title, _empty(div, result["error"]), note=note)  # type: ignore[index]
    if not scores:
        return Chart(div, title, _empty(div, _needs_more(result, complete)), note=note)
    ranked = sorted(scores.items(), key=lambda item: item[1])  # Plotly draws bars bottom-up
    trace = go.Bar(
        x=[score for _, score in ranked],
        y=[text(name) for name, _ in ranked],
        orientation="h",
        marker={"color": ACCENT},
        text=[f"{score:.0%}" for _, score in ranked],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )
    top = max(score for _, score in ranked) or 1.0
    layout = charts.layout(
        div,
        margin={"l": 20, "r": 40, "t": 8, "b": 40, "pad": 4},
        xaxis=charts.axis("importance", range=[0, top * 1.18], tickformat=".0%"),
        yaxis=charts.axis("", automargin=True, gridcolor="rgba(0,0,0,0)"),
        bargap=0.35,
    )
    height = min(max(120 + 34 * len(ranked), 220), 720)
    return Chart(div, title, _figure(div, [trace], layout), note=note, height=height)


def correlation_chart(result: dict[str, Any] | None) -> Chart:
    """Signed bars of each parameter's (or categorical value's) correlation with the metric."""
    div = chart_id("correlation")
    block = (result or {}).get("correlation") or {}
    method = block.get("method") or "Pearson"
    title = f"Correlation with the metric ({method})"
    trials = (result or {}).get("trials") or 0
    note = (
        f"{method}'s r over {trials} complete trials: above 0 the metric rises with the "
        "parameter (log10 of it on a log scale), below 0 it falls."
    )
    entries = [e for e in block.get("correlations") or [] if e.get("r") is not None]
    if not entries:
        return Chart(div, title, _empty(div, _needs_more(result, trials)), note=note)
    labels = [
        text(e["parameter"] if e["value"] is None else f"{e['parameter']} = {short(e['value'])}")
        for e in entries
    ]
    ranked = sorted(zip(labels, (e["r"] for e in entries), strict=True), key=lambda i: abs(i[1]))
    trace = go.Bar(
        x=[r for _, r in ranked],
        y=[label for label, _ in ranked],
        orientation="h",
        marker={"color": [ACCENT if r >= 0 else FAILED for _, r in ranked]},
        text=[f"{r:+.2f}" for _, r in ranked],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: r = %{x:.3f}<extra></extra>",
    )
    layout = charts.layout(
        div,
        margin={"l": 20, "r": 40, "t": 8, "b": 40, "pad": 4},
        xaxis=charts.axis("correlation", range=[-1.15, 1.15], zeroline=True),
        yaxis=charts.axis("", automargin=True, gridcolor="rgba(0,0,0,0)"),
        bargap=0.35,
    )
    height = min(max(120 + 34 * len(ranked), 220), 720)
    return Chart(div, title, _figure(div, [trace], layout), note=note, height=height)


def correlation_heatmap(found: Correlations) -> Chart:
    """Every pair of parameters and the metric, coloured by Spearman's rank correlation."""
    div = chart_id("correlation-matrix")
    title = "Correlations between parameters and the metric (Spearman)"
    note = (
        f"Spearman's ρ over {found.trials} complete trials: the rank correlation, so one spike "
        "does not dominate it; log-scale parameters as log10, a two-valued choice as 0 for its "
        "first value and 1 for its second."
    )
    if found.left_out:
        note += " Left out (choices without an order): " + ", ".join(found.left_out) + "."
    if found.trials < 3 or len(found.names) < 2:
        message = f"Correlations need 3 complete trials; {found.trials} so far."
        return Chart(div, title, _empty(div, message), note=note)
    labels = [text(short(name)) for name in found.names]
    labels[-1] = f"<b>{labels[-1]}</b>"
    cells = [[None if r is None else round(r, 3) for r in row] for row in found.matrix]
    trace = go.Heatmap(
        z=cells,
        x=labels,
        y=labels,
        zmin=-1,
        zmax=1,
        colorscale="RdBu",
        reversescale=True,
        text=[["" if r is None else f"{r:+.2f}" for r in row] for row in cells],
        texttemplate="%{text}",
        hovertemplate="%{y} × %{x}<br>ρ = %{z:.3f}<extra></extra>",
        colorbar={"thickness": 12, "title": {"text": "ρ"}},
        xgap=1,
        ygap=1,
    )
    layout = charts.layout(
        div,
        margin={"l": 20, "r": 20, "t": 8, "b": 20, "pad": 2},
        xaxis=charts.axis("", gridcolor="rgba(0,0,0,0)", tickangle=-35),
        yaxis=charts.axis("", gridcolor="rgba(0,0,0,0)", autorange="reversed"),
    )
    height = min(max(160 + 34 * len(labels), 300), 720)
    return Chart(div, title, _figure(div, [trace], layout), note=note, height=height)


# Slices and contour ----------------------------------------------------------------------


def _slice_x(axis: Axis, points: list[TrialPoint]) -> tuple[list[Any], dict[str, Any]]:
    """x values of a slice plot and its axis: a real log axis, or categories in config order."""
    raw = [p.params.get(axis.name) for p in points]
    if axis.kind == "categorical":
        labels = [text(label) for label in axis.labels]
        xs = [labels[int(pos)] if (pos := axis.position(v)) is not None else None for v in raw]
        return xs, {"type": "category", "categoryorder": "array", "categoryarray": labels}
    xs = [None if axis.position(v) is None else v for v in raw]
    if axis.kind == "log":
        # Plotly's default log labels use SI prefixes (10µ); powers of ten read better here.
        return xs, {"type": "log", "exponentformat": "power", "dtick": 1}
    return xs, {"type": "linear"}


def slice_charts(axes: list[Axis], points: list[TrialPoint], metric: str, goal: str) -> list[Chart]:
    drawn = finished(points)
    slices = []
    for axis in axes:
        div = chart_id("slice", axis.name)
        if not drawn:
            slices.append(Chart(div, axis.name, _empty(div, "No finished trials yet.")))
            continue
        groups = [
            ([p for p in drawn if p.state == TrialState.COMPLETE], "complete"),
            ([p for p in drawn if p.state == TrialState.PRUNED], "pruned"),
            ([p for p in drawn if p.is_best], "best"),
        ]
        traces = []
        x_axis: dict[str, Any] = {}
        for group, name in groups:
            xs, x_axis = _slice_x(axis, group)
            marker: dict[str, Any] = {"size": 8, "opacity": 0.8}
            if name == "complete":
                # Later trials darker: shows where the sampler went as the sweep went on.
                marker |= {
                    "color": [p.number for p in group],
                    "colorscale": LATER_DARKER,
                    "showscale": True,
                    "colorbar": {"thickness": 10, "title": {"text": "trial #"}, "len": 0.8},
                }
            elif name == "pruned":
                marker |= {"color": PRUNED, "symbol": "circle-open"}
            else:
                marker |= {"color": BEST, "size": 15, "symbol": "star", "opacity": 1}
            customdata, lines = hover_params(axes, group)
            traces.append(
                go.Scatter(
                    _validate=checked(drawn),
                    x=xs,
                    y=[p.value for p in group],
                    customdata=customdata,
                    mode="markers",
                    name=name,
                    marker=marker,
                    hovertemplate=f"trial #%{{customdata[0]}}<br>{text(metric)} %{{y:.6g}}"
                    f"{lines}<extra>{name}</extra>",
                )
            )
        layout = charts.layout(
            div,
            hovermode="closest",
            xaxis=charts.axis(text(axis.name), **x_axis),
            yaxis=charts.axis(text(metric_label(metric, goal))),
        )
        # Why the type: ignore below: finished() keeps only trials with a finite value.
        values: list[float] = [p.value for p in drawn]  # type: ignore[misc]
        figure = scaled(_figure(div, traces, layout), values, "yaxis", div)
        note = (
            "Colour: the trial's number, darker = later (where the sampler went as the sweep "
            "went on); ○ pruned, ★ best." + outside_note(values, figure["scales"])
        )
        slices.append(Chart(div, axis.name, figure, note=note, height=300))
    return slices


def contour_axes(
    axes: list[Axis], importance: dict[str, Any] | None, chosen: tuple[str, str] = ("", "")
) -> list[Axis]:
    """The parameters the user chose (x, then y; a missing or repeated one filled in),
    else the two most important ones, else the first two numeric ones, else any two."""
    by_name = {axis.name: axis for axis in axes}
    scores = (importance or {}).get("importances") or {}
    ordered = sorted(scores, key=lambda name: float(scores[name]), reverse=True)
    ranked = [by_name[name] for name in ordered if name in by_name]
    numeric = [axis for axis in axes if axis.kind != "categorical"]
    defaults = ranked if len(ranked) >= 2 else numeric if len(numeric) >= 2 else axes
    picked = [by_name[name] for name in chosen if name in by_name]
    if len(picked) == 2 and picked[0] == picked[1]:
        picked = picked[:1]
    others = [axis for axis in [*defaults, *axes] if axis not in picked]
    if len(picked) == 1:
        x_first = chosen[0] == picked[0].name
        extra = others[:1]
        picked = [*picked, *extra] if x_first else [*extra, *picked]
    return picked if len(picked) == 2 else defaults[:2]


def _grid(axis: Axis, positions: list[float]) -> np.ndarray:
    if axis.kind == "categorical":
        low, high = 0.0, max(len(axis.labels) - 1.0, 1.0)
    else:
        low, high = min(positions), max(positions)
        if low == high:
            low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, CONTOUR_GRID)


def _ticks(axis: Axis, grid: np.ndarray) -> dict[str, Any]:
    if axis.kind == "categorical":
        labels = [text(short(label)) for label in axis.labels]
        return {"tickvals": list(range(len(labels))), "ticktext": labels}
    if axis.kind == "log":
        tickvals, ticktext = log_ticks(float(grid[0]), float(grid[-1]))
        return {"tickvals": tickvals, "ticktext": ticktext}
    return {}


def interpolate(
    xs: np.ndarray, ys: np.ndarray, zs: np.ndarray, gx: np.ndarray, gy: np.ndarray
) -> np.ndarray:
    """z on the grid by Gaussian kernel regression of the trials, distances in axis units.

    A smoother, not an interpolator: the surface need not pass through each trial's
    value, so a lone trial shades a soft patch instead of a ring of contour lines around
    it. Cells farther than CONTOUR_REACH kernel widths from every trial are NaN (blank):
    no trial says anything there. Works for any point layout (a categorical axis puts
    many trials on one line, which a triangulation cannot take).
    """
    span_x = (gx[-1] - gx[0]) or 1.0
    span_y = (gy[-1] - gy[0]) or 1.0
    mesh_x, mesh_y = np.meshgrid(gx, gy)
    dx = (mesh_x[..., None] - xs) / span_x
    dy = (mesh_y[..., None] - ys) / span_y
    distance2 = (dx**2 + dy**2) / CONTOUR_BANDWIDTH**2
    weights = np.exp(-0.5 * distance2)
    surface: np.ndarray = (weights * zs).sum(axis=-1) / np.maximum(weights.sum(axis=-1), 1e-300)
    surface[distance2.min(axis=-1) > CONTOUR_REACH**2] = np.nan
    return surface


@dataclass(frozen=True)
class Choice:
    """A select above a chart: its query name, label, the options and the one chosen."""

    name: str
    label: str
    options: tuple[str, ...]
    selected: str


def contour_chart(
    axes: list[Axis],
    points: list[TrialPoint],
    metric: str,
    goal: str,
    importance: dict[str, Any] | None,
    chosen: tuple[str, str] = ("", ""),
) -> Chart:
    div = chart_id("contour")
    pair = contour_axes(axes, importance, chosen)
    if len(pair) < 2:
        return Chart(div, "Contour", _empty(div, "A contour needs two parameters that vary."))
    x_axis, y_axis = pair
    names = tuple(axis.name for axis in axes)
    controls = (
        Choice("cx", "x", names, x_axis.name),
        Choice("cy", "y", names, y_axis.name),
    )
    title = f"Contour: {x_axis.name} × {y_axis.name}"
    placed = []
    for p in finished(points):
        if p.state != TrialState.COMPLETE:
            continue
        x = x_axis.position(p.params.get(x_axis.name))
        y = y_axis.position(p.params.get(y_axis.name))
        if x is not None and y is not None:
            placed.append((x, y, p))
    if len(placed) < 3:
        message = f"The contour needs 3 complete trials; {len(placed)} so far."
        return Chart(div, title, _empty(div, message), height=420, controls=controls)
    xs = np.array([x for x, _, _ in placed])
    ys = np.array([y for _, y, _ in placed])
    zs = np.array([p.value for _, _, p in placed], dtype=float)
    gx, gy = _grid(x_axis, list(xs)), _grid(y_axis, list(ys))
    # An even spread of the trials plus the best ones shapes the surface as well as all.
    spread = np.unique(
        np.linspace(0, len(placed) - 1, min(len(placed), CONTOUR_POINTS)).astype(int)
    )
    used = np.union1d(spread, [i for i, (_, _, p) in enumerate(placed) if p.is_best]).astype(int)
    # A spike would take the whole colour scale and flood its neighbours: the values are
    # clipped into the robust range before smoothing, and the colours span that range.
    low, high = robust_range(zs.tolist()) or (float(zs.min()), float(zs.max()))
    z = interpolate(xs[used], ys[used], np.clip(zs[used], low, high), gx, gy)
    best = [(x, y, p) for x, y, p in placed if p.is_best]
    customdata, lines = hover_params(axes, [p for _, _, p in placed])
    traces = [
        go.Contour(
            _validate=checked(placed),
            x=gx.tolist(),
            y=gy.tolist(),
            # NaN is not JSON: a blank cell travels as null.
            z=[[None if math.isnan(v) else v for v in row] for row in z.tolist()],
            zmin=low,
            zmax=high,
            connectgaps=False,
            colorscale=COLORSCALE,
            reversescale=goal == "minimize",
            contours={"coloring": "heatmap", "showlines": True},
            line={"width": 0.5, "color": "rgba(255,255,255,0.5)"},
            colorbar={"thickness": 12, "title": {"text": text(metric)}},
            hoverinfo="skip",
        ),
        go.Scatter(
            _validate=checked(placed),
            x=xs.tolist(),
            y=ys.tolist(),
            customdata=customdata,
            text=[p.value for _, _, p in placed],
            mode="markers",
            name="trials",
            marker={"color": "white", "size": 7, "line": {"color": "#111827", "width": 1}},
            hovertemplate=f"trial #%{{customdata[0]}}<br>{text(metric)} %{{text:.6g}}{lines}"
            "<extra></extra>",
        ),
        go.Scatter(
            _validate=checked(placed),
            x=[x for x, _, _ in best],
            y=[y for _, y, _ in best],
            customdata=[p.number for _, _, p in best],
            mode="markers",
            name="best",
            marker={"color": BEST, "size": 16, "symbol": "star", "line": {"color": "#111827"}},
            hovertemplate="best: trial #%{customdata}<extra></extra>",
        ),
    ]
    layout = charts.layout(
        div,
        hovermode="closest",
        xaxis=charts.axis(text(x_axis.name), **_ticks(x_axis, gx)),
        yaxis=charts.axis(text(y_axis.name), **_ticks(y_axis, gy)),
    )
    note = (
        f"Colour is {metric} smoothed between the trials (a Gaussian kernel over "
        f"{CONTOUR_BANDWIDTH:.0%} of each axis); blank where no trial is near. Dots are "
        "complete trials (click one to open it), the star the best."
    )
    figure = _figure(div, traces, layout)
    return Chart(div, title, figure, note=note, height=420, controls=controls)


# Learning curves -------------------------------------------------------------------------


CURVE_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    TrialState.COMPLETE: ("complete", {"color": ACCENT, "width": 1.2}),
    TrialState.RUNNING: ("running", {"color": RUNNING, "width": 1.6}),
    TrialState.PRUNED: ("pruned", {"color": PRUNED, "width": 1.1}),
    TrialState.FAILED: ("failed", {"color": FAILED, "width": 1, "dash": "dot"}),
}


def _joined(curves: list[Curve]) -> tuple[list[Any], list[Any], list[Any]]:
    """Many curves as one trace with gaps: a thousand traces would make Plotly crawl."""
    xs: list[Any] = []
    ys: list[Any] = []
    numbers: list[Any] = []
    for curve in curves:
        xs += [*curve.steps, None]
        ys += [*(v if v is None or math.isfinite(v) else None for v in curve.values), None]
        numbers += [curve.number] * len(curve.steps) + [None]
    return xs, ys, numbers


def curves_chart(curves: list[Curve], metric: str, goal: str) -> Chart:
    div = chart_id("curves")
    title = f"Learning curves: {metric}" if metric else "Learning curves"
    if not metric:
        return Chart(div, title, _empty(div, "The sweep has no metric to follow."))
    if not curves:
        return Chart(div, title, _empty(div, f"No trial's run has logged {metric} yet."))
    hover = (
        f"trial #%{{customdata}}<br>step %{{x}}<br>{text(metric)} %{{y:.6g}}"
        "<extra>%{fullData.name}</extra>"
    )
    traces = []
    for state, (name, line) in CURVE_STYLES.items():
        group = [c for c in curves if c.state == state and not c.is_best]
        xs, ys, numbers = _joined(group)
        opacity = 0.55 if state == TrialState.COMPLETE else 0.8
        traces.append(
            go.Scatter(
                _validate=checked(xs),
                x=xs,
                y=ys,
                customdata=numbers,
                mode="lines",
                name=name,
                line=line,
                opacity=opacity,
                connectgaps=False,
                hovertemplate=hover,
            )
        )
    xs, ys, numbers = _joined([c for c in curves if c.is_best])
    traces.append(
        go.Scatter(
            _validate=checked(xs),
            x=xs,
            y=ys,
            customdata=numbers,
            mode="lines",
            name="best",
            line={"color": BEST, "width": 3},
            hovertemplate=hover,
        )
    )
    ends = [c for c in curves if c.state == TrialState.PRUNED and c.steps]
    traces.append(
        go.Scatter(
            _validate=checked(curves),
            x=[c.steps[-1] for c in ends],
            y=[c.values[-1] for c in ends],
            customdata=[c.number for c in ends],
            mode="markers",
            name="stopped early",
            marker={"color": STOPPED, "size": 9, "symbol": "x"},
            hovertemplate="trial #%{customdata} stopped at step %{x}<extra></extra>",
        )
    )
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        xaxis=charts.axis("step"),
        yaxis=charts.axis(text(metric_label(metric, goal))),
    )
    values = [v for c in curves for v in c.values if v is not None and math.isfinite(v)]
    figure = scaled(_figure(div, traces, layout), values, "yaxis", div)
    note = (
        "Each line is a trial's run (click one to open its trial); an ✕ marks where early "
        "termination stopped a run." + outside_note(values, figure["scales"])
    )
    return Chart(div, title, figure, note=note, height=420)


def trial_chart(curve: Curve, metric: str, goal: str, stop_step: int | None) -> Chart:
    """One trial's intermediate values: its run's metric by step."""
    div = chart_id("trial-curve")
    title = f"Intermediate values: {metric}" if metric else "Intermediate values"
    if not curve.steps:
        message = f"The trial's run has logged no {metric} yet." if metric else "No metric."
        return Chart(div, title, _empty(div, message), height=320)
    name, line = CURVE_STYLES[curve.state]
    traces = [
        go.Scatter(
            _validate=checked(curve.steps),
            x=curve.steps,
            y=[v if v is not None and math.isfinite(v) else None for v in curve.values],
            mode="lines+markers",
            name=name,
            line=line | {"width": 2},
            marker={"size": 4},
            hovertemplate=f"step %{{x}}<br>{text(metric)} %{{y:.6g}}<extra></extra>",
        )
    ]
    values = [v for v in curve.values if v is not None and math.isfinite(v)]
    if stop_step is not None and values:
        traces.append(
            go.Scatter(
                x=[stop_step, stop_step],
                y=[min(values), max(values)],
                mode="lines",
                name="stop asked",
                line={"color": STOPPED, "dash": "dash", "width": 1.5},
                hovertemplate=f"early termination asked to stop at step {stop_step}<extra></extra>",
            )
        )
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        xaxis=charts.axis("step"),
        yaxis=charts.axis(text(metric_label(metric, goal))),
    )
    figure = scaled(_figure(div, traces, layout), values, "yaxis", div)
    return Chart(
        div, title, figure, note=outside_note(values, figure["scales"]).strip(), height=320
    )


# Pareto front ----------------------------------------------------------------------------


def pareto_chart(points: list[TrialPoint], metrics: list[dict[str, Any]]) -> Chart:
    div = chart_id("pareto")
    first, second = metrics[0], metrics[1]
    title = f"Pareto front: {first['name']} × {second['name']}"
    placed = [
        p
        for p in points
        if p.state == TrialState.COMPLETE
        and p.objective is not None
        and len(p.objective) >= 2
        and all(math.isfinite(v) for v in p.objective[:2])
    ]
    if not placed:
        return Chart(div, title, _empty(div, "No complete trials yet."), height=420)
    # Why the type: ignore below: Placed trials have two finite objective values (above).
    front = sorted((p for p in placed if p.is_best), key=lambda p: p.objective[0])  # type: ignore[index]
    others = [p for p in placed if not p.is_best]
    hover = (
        "trial #%{customdata}<br>"
        f"{text(first['name'])} %{{x:.6g}}<br>{text(second['name'])} %{{y:.6g}}"
        "<extra>%{fullData.name}</extra>"
    )
    traces = [
        go.Scatter(
            _validate=checked(placed),
            x=[p.objective[0] for p in others],  # type: ignore[index]
            y=[p.objective[1] for p in others],  # type: ignore[index]
            customdata=[p.number for p in others],
            mode="markers",
            name="dominated",
            marker={"color": "#cbd5e1", "size": 8},
            hovertemplate=hover,
        ),
        go.Scatter(
            _validate=checked(placed),
            x=[p.objective[0] for p in front],  # type: ignore[index]
            y=[p.objective[1] for p in front],  # type: ignore[index]
            customdata=[p.number for p in front],
            mode="lines+markers",
            name="Pareto front",
            line={"color": ACCENT, "width": 1.5, "dash": "dot"},
            marker={"color": ACCENT, "size": 11, "line": {"color": "white", "width": 1}},
            hovertemplate=hover,
        ),
    ]
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        xaxis=charts.axis(text(metric_label(first["name"], first["goal"]))),
        yaxis=charts.axis(text(metric_label(second["name"], second["goal"]))),
    )
    note = (
        f"{len(front)} of {len(placed)} complete trials are on the front: none beats them on both."
    )
    if len(metrics) > 2:
        note += " The sweep has more objectives; the front is over all of them."
    return Chart(div, title, _figure(div, traces, layout), note=note, height=420)
