"""Plotly figures of a sweep: built here as data, drawn by static/js/charts.js.

Each builder takes rows from sweeps/plot_data.py and returns a Chart whose figure is a
plain dict (data, layout, config) for json_script. The styling every chart shares (the
Chart type, fonts, colours, base layout, escaping with `text`) is sweeptracker/charts.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from sweeps.models import TrialState
from sweeps.plot_data import (
    Axis,
    Curve,
    Dimension,
    TrialPoint,
    finished_points,
    log_ticks,
    parallel_data,
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
    checked,
    text,
)

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


def parallel_chart(
    axes: list[Axis], points: list[TrialPoint], metric: str, goal: str, limit: int = 0
) -> Chart:
    """One line per finished trial; with `limit`, at most that many (see `thinned`)."""
    div = chart_id("parallel")
    title = "Parallel coordinates"
    data = parallel_data(axes[: MAX_DIMENSIONS - 1], points, metric, goal, limit)
    if not data.rows:
        return Chart(div, title, _empty(div, "No finished trials yet."), height=440)
    drawn = data.rows
    *params, metric_axis = data.dimensions
    dimensions = [_dimension(dimension) for dimension in params]
    values = metric_axis.positions
    dimensions.append(
        {
            "label": f"<b>{text(metric_label(metric, goal))}</b>",
            "values": values,
            "constraintrange": top_range(values, goal),
        }
    )
    trace = go.Parcoords(
        dimensions=dimensions,
        line={
            "color": values,
            "colorscale": COLORSCALE,
            "reversescale": goal == "minimize",
            "showscale": True,
            "colorbar": {"thickness": 12, "title": {"text": text(metric)}},
        },
        unselected={"line": {"color": "#94a3b8", "opacity": 0.3}},
        labelfont={"size": 12},
        tickfont={"size": 11},
        labelangle=-12 if len(dimensions) > 6 else 0,
        customdata=[p.number for p in drawn],
        _validate=checked(drawn),
    )
    layout = charts.layout(div, margin={"l": 48, "r": 40, "t": 56, "b": 24})
    shown = max(math.ceil(len(drawn) * TOP_FRACTION), 1)
    note = (
        f"One line per finished trial ({len(drawn)}), coloured by {metric}. "
        f"The best {shown} {'is' if shown == 1 else 'are'} highlighted: drag along any axis "
        "to pick other lines, click outside the band to clear it."
    )
    if len(drawn) < data.finished:
        note += (
            f" Here {len(drawn)} of the {data.finished} trials: the best and an even spread of the"
            " others; the Parallel coordinates tab draws them all."
        )
    figure = _figure(div, [trace], layout)
    return Chart(
        div, title, figure, note=note, height=440, min_width=max(560, 120 * len(dimensions))
    )


# Optimization history --------------------------------------------------------------------


def history_chart(points: list[TrialPoint], metric: str, goal: str) -> Chart:
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
    hover = "trial #%{x}<br>%{y:.6g}<extra>%{fullData.name}</extra>"
    traces = [
        go.Scatter(
            _validate=checked(drawn),
            x=[p.number for p in complete],
            y=[p.value for p in complete],
            mode="markers",
            name="complete",
            marker={"color": ACCENT, "size": 7, "opacity": 0.75},
            hovertemplate=hover,
        ),
        go.Scatter(
            _validate=checked(drawn),
            x=[p.number for p in pruned],
            y=[p.value for p in pruned],
            mode="markers",
            name="pruned",
            marker={"color": PRUNED, "size": 7, "symbol": "circle-open"},
            hovertemplate=hover,
        ),
        go.Scatter(
            _validate=checked(drawn),
            x=best_x,
            y=best_y,
            mode="lines",
            name="best so far",
            line={"color": BEST, "width": 2.5, "shape": "hv"},
            hoverinfo="skip",
        ),
        go.Scatter(
            _validate=checked(drawn),
            x=[p.number for p in complete if p.is_best],
            y=[p.value for p in complete if p.is_best],
            mode="markers",
            name="best",
            marker={"color": BEST, "size": 15, "symbol": "star", "line": {"color": "#92400e"}},
            hovertemplate=hover,
        ),
    ]
    layout = charts.layout(
        div,
        **WITH_LEGEND,
        xaxis=charts.axis("trial"),
        yaxis=charts.axis(text(metric_label(metric, goal))),
    )
    return Chart(div, title, _figure(div, traces, layout))


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
                marker |= {"color": [p.number for p in group], "colorscale": LATER_DARKER}
            elif name == "pruned":
                marker |= {"color": PRUNED, "symbol": "circle-open"}
            else:
                marker |= {"color": BEST, "size": 15, "symbol": "star", "opacity": 1}
            traces.append(
                go.Scatter(
                    _validate=checked(drawn),
                    x=xs,
                    y=[p.value for p in group],
                    customdata=[p.number for p in group],
                    mode="markers",
                    name=name,
                    marker=marker,
                    hovertemplate="trial #%{customdata}<br>%{x}<br>%{y:.6g}"
                    f"<extra>{name}</extra>",
                )
            )
        layout = charts.layout(
            div,
            hovermode="closest",
            xaxis=charts.axis(text(axis.name), **x_axis),
            yaxis=charts.axis(text(metric_label(metric, goal))),
        )
        slices.append(Chart(div, axis.name, _figure(div, traces, layout), height=300))
    return slices


def contour_axes(axes: list[Axis], importance: dict[str, Any] | None) -> list[Axis]:
    """The two most important parameters, else the first two numeric ones, else any two."""
    by_name = {axis.name: axis for axis in axes}
    scores = (importance or {}).get("importances") or {}
    # Why the type: ignore below: Every name sorted is a key of scores, so get never answers None.
    ranked = [by_name[name] for name in sorted(scores, key=scores.get, reverse=True)]  # type: ignore[arg-type]
    ranked = [axis for axis in ranked if axis.name in by_name]
    if len(ranked) >= 2:
        return ranked[:2]
    numeric = [axis for axis in axes if axis.kind != "categorical"]
    return (numeric if len(numeric) >= 2 else axes)[:2]


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
    """z on the grid by inverse-distance weighting of the trials, distances in axis units.

    Simple and without scipy's triangulation, so it works for any point layout (a
    categorical axis puts many trials on one line, which Delaunay cannot take).
    """
    span_x = (gx[-1] - gx[0]) or 1.0
    span_y = (gy[-1] - gy[0]) or 1.0
    mesh_x, mesh_y = np.meshgrid(gx, gy)
    dx = (mesh_x[..., None] - xs) / span_x
    dy = (mesh_y[..., None] - ys) / span_y
    weights = 1.0 / (dx**2 + dy**2 + 1e-6) ** 1.5
    surface: np.ndarray = (weights * zs).sum(axis=-1) / weights.sum(axis=-1)
    return surface


def contour_chart(
    axes: list[Axis],
    points: list[TrialPoint],
    metric: str,
    goal: str,
    importance: dict[str, Any] | None,
) -> Chart:
    div = chart_id("contour")
    pair = contour_axes(axes, importance)
    if len(pair) < 2:
        return Chart(div, "Contour", _empty(div, "A contour needs two parameters that vary."))
    x_axis, y_axis = pair
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
        return Chart(div, title, _empty(div, message), height=420)
    xs = np.array([x for x, _, _ in placed])
    ys = np.array([y for _, y, _ in placed])
    zs = np.array([p.value for _, _, p in placed], dtype=float)
    gx, gy = _grid(x_axis, list(xs)), _grid(y_axis, list(ys))
    # An even spread of the trials plus the best ones shapes the surface as well as all.
    spread = np.unique(
        np.linspace(0, len(placed) - 1, min(len(placed), CONTOUR_POINTS)).astype(int)
    )
    used = np.union1d(spread, [i for i, (_, _, p) in enumerate(placed) if p.is_best]).astype(int)
    z = interpolate(xs[used], ys[used], zs[used], gx, gy)
    best = [(x, y, p) for x, y, p in placed if p.is_best]
    traces = [
        go.Contour(
            _validate=checked(placed),
            x=gx.tolist(),
            y=gy.tolist(),
            z=z.tolist(),
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
            customdata=[[p.number, p.value] for _, _, p in placed],
            mode="markers",
            name="trials",
            marker={"color": "white", "size": 7, "line": {"color": "#111827", "width": 1}},
            hovertemplate="trial #%{customdata[0]}<br>%{customdata[1]:.6g}<extra></extra>",
        ),
        go.Scatter(
            _validate=checked(placed),
            x=[x for x, _, _ in best],
            y=[y for _, y, _ in best],
            mode="markers",
            name="best",
            marker={"color": BEST, "size": 16, "symbol": "star", "line": {"color": "#111827"}},
            hoverinfo="skip",
        ),
    ]
    layout = charts.layout(
        div,
        hovermode="closest",
        xaxis=charts.axis(text(x_axis.name), **_ticks(x_axis, gx)),
        yaxis=charts.axis(text(y_axis.name), **_ticks(y_axis, gy)),
    )
    note = (
        f"Colour is {metric} between the trials (inverse-distance weighting); "
        "dots are complete trials, the star the best."
    )
    return Chart(div, title, _figure(div, traces, layout), note=note, height=420)


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
    hover = "trial #%{customdata}<br>step %{x}<br>%{y:.6g}<extra>%{fullData.name}</extra>"
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
    note = "Each line is a trial's run; an ✕ marks where early termination stopped a run."
    return Chart(div, title, _figure(div, traces, layout), note=note, height=420)


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
