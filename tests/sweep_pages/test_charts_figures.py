"""What the sweep charts draw (issue 17, items 4, 5 and 8), read from the pages' figure data."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Project
from sweeps import charts, importance, plot_data
from sweeps.models import Agent, Sweep, Trial, TrialState
from sweeptracker.charts import robust_range
from tests.sweep_pages.helpers import bulk_trials, detail_url, make_sweep

SPIKE = 1_000.0


def value(trial: Trial) -> float:
    assert trial.value is not None
    return trial.value


def figures(content: bytes) -> dict[str, Any]:
    found = re.findall(rb'<script type="application/json">(.*?)</script>', content, re.S)
    return {p["div"]: p for p in (json.loads(body) for body in found) if "div" in p}


@pytest.fixture
def spiky(project: Project) -> Sweep:
    """40 ended trials, one of them a spike far above the rest, run by two agents."""
    sweep = make_sweep(project, name="spiky")
    bulk_trials(sweep, 40, steps=5)
    Trial.objects.filter(sweep=sweep, number=5).update(value=SPIKE, state=TrialState.COMPLETE)
    start = timezone.now() - timedelta(hours=1)
    agents = [
        Agent.objects.create(
            sweep=sweep, key=f"k{i}", host=f"gpu-{i}", pid=100 + i, last_seen_at=start
        )
        for i in range(2)
    ]
    for trial in Trial.objects.filter(sweep=sweep):
        trial.created_at = start + timedelta(seconds=30 * (trial.number // 2))
        trial.ended_at = trial.created_at + timedelta(seconds=25)
        trial.agent = agents[trial.number % 2]
        trial.save(update_fields=["created_at", "ended_at", "agent"])
    importance.cached_or_compute(sweep)
    return sweep


def test_robust_range_leaves_out_a_spike_and_only_a_spike() -> None:
    values = [1.0 + 0.01 * i for i in range(30)]

    assert robust_range(values) is None
    bounds = robust_range([*values, SPIKE])
    assert bounds is not None
    low, high = bounds
    assert low < 1.0 and 1.29 < high < 2.0
    # On a log axis the fence is measured in decades.
    assert robust_range([*values, SPIKE], log=True) is not None


def check_the_history_fits_the_good_trials_and_offers_a_log_scale(
    client: Client, spiky: Sweep
) -> None:
    figure = figures(client.get(detail_url(spiky, tab="history")).content)["chart-history"]

    low, high = figure["layout"]["yaxis"]["range"]
    values = [t.value for t in Trial.objects.filter(sweep=spiky) if t.value is not None]
    assert high < SPIKE and all(low <= v <= high for v in values if v != SPIKE)
    assert figure["layout"]["yaxis"]["autorange"] is False
    assert figure["scales"]["log"]["layout"]["yaxis.type"] == "log"
    assert figure["scales"]["log"]["layout"]["uirevision"] != figure["layout"]["uirevision"]
    assert "1 value lies outside the range shown" in figure["note"]
    assert figure["trial_url"] == reverse("sweeps:trial", args=[spiky.pk, 7]).removesuffix("7/")
    # Tooltips name the trial's parameters; the first customdata is the trial's number.
    complete = figure["data"][0]
    assert "lr: %{customdata[1]}" in complete["hovertemplate"]
    assert [row[0] for row in complete["customdata"]] == complete["x"]


def test_a_metric_with_a_value_at_or_below_zero_has_no_log_scale() -> None:
    points = [
        plot_data.TrialPoint(n, None, TrialState.COMPLETE, {}, float(n) - 3, None, False)
        for n in range(6)
    ]

    chart = charts.history_chart(points, "score", "maximize")

    assert chart.scalable and "log" not in chart.figure["scales"]


def check_parallel_coordinates_colour_pruned_best_and_second_and_cover_the_data(
    client: Client, spiky: Sweep
) -> None:
    figure = figures(client.get(detail_url(spiky, tab="parallel")).content)["chart-parallel"]

    trace = figure["data"][0]
    rows = [
        t
        for t in Trial.objects.filter(sweep=spiky).order_by("number")
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    assert trace["customdata"] == [t.number for t in rows]
    colours = dict(zip(trace["customdata"], trace["line"]["color"], strict=True))
    ranked = sorted((t for t in rows if t.state == TrialState.COMPLETE), key=value)
    assert colours[ranked[0].number] == 0.975 and colours[ranked[1].number] == 0.925
    assert all(colours[t.number] == 0.03 for t in rows if t.state == TrialState.PRUNED)
    assert all(0.1 <= colours[t.number] <= 0.88 for t in ranked[2:])
    # The log axis of lr ends on labelled ticks outside every line: the axis line reaches them.
    lr = trace["dimensions"][0]
    low, high = lr["range"]
    assert low <= min(lr["values"]) and max(lr["values"]) <= high
    assert min(lr["tickvals"]) == low and max(lr["tickvals"]) == high
    # The spike sits on the top of the metric axis, whose end says so.
    metric = trace["dimensions"][-1]
    assert max(metric["values"]) == metric["range"][1] < SPIKE
    assert any(label.startswith("≥") for label in metric["ticktext"])
    log = figure["scales"]["log"]["data"][0][1]
    assert log["dimensions[4].values"] == pytest.approx(
        [
            min(
                max(math.log10(value(t)), log["dimensions[4].range"][0]),
                log["dimensions[4].range"][1],
            )
            for t in rows
        ]
    )
    assert figure["compact"]["data"][0][1]["labelangle"] == -40
    assert figure["pick"] is True


def check_the_contour_draws_the_chosen_pair_without_rings(client: Client, spiky: Sweep) -> None:
    page = client.get(detail_url(spiky, tab="slice", cx="dropout", cy="lr")).content
    contour = figures(page)["chart-contour"]

    layout = contour["layout"]
    assert [layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]] == ["dropout", "lr"]
    assert b'<select name="cx" data-live-param>' in page
    assert b'<option value="dropout" selected>' in page
    # The slices say what their colour is.
    sliced = figures(page)[charts.chart_id("slice", "dropout")]
    assert sliced["data"][0]["marker"]["colorbar"]["title"]["text"] == "trial #"
    assert sliced["note"].startswith("Colour: the trial's number")


def test_the_contour_surface_has_no_bulls_eye_around_a_lone_trial() -> None:
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(0, 1, 40), rng.uniform(0, 1, 40)
    zs = xs + ys
    zs[7] = 5.0  # one trial far off the others' trend
    grid = np.linspace(0, 1, charts.CONTOUR_GRID)

    surface = charts.interpolate(xs, ys, zs, grid, grid)

    finite = surface[~np.isnan(surface)]
    span = zs.max() - zs.min()
    steps = np.abs(np.diff(np.nan_to_num(surface, nan=np.nanmean(surface)), axis=0))
    # Inverse-distance weighting jumps by most of the range in one cell around trial 7.
    assert steps.max() < 0.25 * span
    assert finite.max() < 5.0
    # Far from every trial the surface is left blank.
    lone = charts.interpolate(
        np.array([0.0, 0.05, 0.1]),
        np.array([0.0, 0.05, 0.1]),
        np.array([1.0, 2.0, 3.0]),
        grid,
        grid,
    )
    assert np.isnan(lone[-1, -1]) and not np.isnan(lone[0, 0])


def check_the_history_tab_has_the_edf_and_a_timeline_by_agent(client: Client, spiky: Sweep) -> None:
    found = figures(client.get(detail_url(spiky, tab="history")).content)

    edf = found["chart-edf"]["data"][0]
    complete = sorted(
        value(t) for t in Trial.objects.filter(sweep=spiky, state=TrialState.COMPLETE)
    )
    assert edf["x"] == complete
    assert edf["y"][-1] == 1.0 and edf["y"][0] == pytest.approx(1 / len(complete))
    assert found["chart-edf"]["scales"]["log"]["layout"]["xaxis.type"] == "log"
    timeline = found["chart-timeline"]
    lanes = {lane for trace in timeline["data"] for lane in trace["y"]}
    assert lanes == {"gpu-0:100", "gpu-1:101"}
    bars = sum(len(trace["y"]) for trace in timeline["data"])
    assert bars == 40
    assert "One lane per agent (2)" in timeline["note"]


def test_without_agents_the_timeline_packs_trials_into_rows() -> None:
    start = timezone.now()
    points = [
        plot_data.TrialPoint(
            n,
            None,
            TrialState.COMPLETE,
            {},
            1.0,
            None,
            False,
            start + timedelta(seconds=10 * (n // 3)),
            start + timedelta(seconds=10 * (n // 3) + 9),
        )
        for n in range(9)
    ]

    chart = charts.timeline_chart(points, start + timedelta(minutes=5))

    lanes = [lane for trace in chart.figure["data"] for lane in trace["y"]]
    assert sorted(set(lanes)) == ["row 1", "row 2", "row 3"]
    assert "3 lanes show how many ran at once" in chart.note


def check_the_importance_tab_has_a_correlation_heatmap(client: Client, spiky: Sweep) -> None:
    heatmap = figures(client.get(detail_url(spiky, tab="importance")).content)[
        "chart-correlation-matrix"
    ]

    trace = heatmap["data"][0]
    # batch_size has four values (no order to rank); optimizer/name two (0 or 1).
    assert trace["x"] == ["lr", "dropout", "optimizer/name", "<b>loss</b>"]
    z = np.array([[np.nan if v is None else v for v in row] for row in trace["z"]])
    assert np.allclose(np.diag(z), 1.0)
    assert np.allclose(z, z.T, equal_nan=True)
    assert "batch_size" in heatmap["note"]


def test_the_trial_page_shows_params_values_and_states(
    client: Client, spiky: Sweep, other_user: Any
) -> None:
    client.force_login(spiky.project.owner)
    trial = Trial.objects.get(sweep=spiky, number=3)

    response = client.get(reverse("sweeps:trial", args=[spiky.pk, 3]))

    content = response.content.decode()
    assert "Trial #3" in content
    for name, value in trial.params.items():
        assert f'<th scope="row" class="mono">{name}</th>' in content
        assert plot_data.value_label(value) in content
    assert "suggested: running" in content and "by gpu-1 (process 101)" in content
    curve = figures(response.content)["chart-trial-curve"]
    assert curve["data"][0]["x"] == [0, 1, 2, 3, 4]
    assert client.get(reverse("sweeps:trial", args=[spiky.pk, 99])).status_code == 404
    client.force_login(other_user)
    assert client.get(reverse("sweeps:trial", args=[spiky.pk, 3])).status_code == 404


def test_the_charts_of_a_sweep_with_a_spike(client: Client, spiky: Sweep) -> None:
    """One sweep (its set-up is most of the time) for every chart's checks."""
    client.force_login(spiky.project.owner)

    check_the_history_fits_the_good_trials_and_offers_a_log_scale(client, spiky)
    check_parallel_coordinates_colour_pruned_best_and_second_and_cover_the_data(client, spiky)
    check_the_contour_draws_the_chosen_pair_without_rings(client, spiky)
    check_the_history_tab_has_the_edf_and_a_timeline_by_agent(client, spiky)
    check_the_importance_tab_has_a_correlation_heatmap(client, spiky)


def test_the_new_charts_read_as_many_queries_for_300_trials_as_for_10(
    client: Client, project: Project
) -> None:
    counts = []
    for size in (10, 300):
        sweep = make_sweep(project, name=f"size-{size}")
        bulk_trials(sweep, size, steps=3)
        importance.cached_or_compute(sweep)
        client.force_login(project.owner)
        client.get(detail_url(sweep))
        urls = [detail_url(sweep, tab=tab) for tab in ("history", "importance", "slice")]
        for url in [*urls, reverse("sweeps:trial", args=[sweep.pk, 2])]:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured.captured_queries))
    assert counts[:4] == counts[4:]
