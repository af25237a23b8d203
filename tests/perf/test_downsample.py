"""Long histories are cut to a cap that keeps each bucket's first, last, lowest and highest."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Project
from runs.charts import POINTS_PER_CHART
from runs.models import MetricPoint, Run
from sweeps import plot_data, views
from sweeps.models import Trial, TrialState
from tests.sweep_pages.helpers import bulk_trials, detail_url, make_sweep


def test_it_keeps_first_last_min_and_max_of_every_bucket() -> None:
    steps = list(range(5_003))
    values: list[float | None] = [math.sin(s / 7) * (1 + s % 13) for s in steps]
    values[100] = None
    limit = 200

    kept_steps, kept_values = plot_data.downsample(steps, values, limit)

    assert len(kept_steps) <= limit
    assert kept_steps == sorted(kept_steps)
    kept = set(kept_steps)
    size = math.ceil(len(steps) / (limit // 4))
    for start in range(0, len(steps), size):
        bucket = steps[start : start + size]
        finite = [s for s in bucket if values[s] is not None]
        lowest = min(finite, key=lambda s: values[s])  # type: ignore[arg-type,return-value]
        highest = max(finite, key=lambda s: values[s])  # type: ignore[arg-type,return-value]
        assert {bucket[0], bucket[-1], lowest, highest} <= kept, start
    assert kept_values == [values[s] for s in kept_steps]


def test_it_leaves_a_short_history_whole() -> None:
    steps, values = [0, 1, 2], [3.0, None, 1.0]

    assert plot_data.downsample(steps, values, 200) == (steps, values)


def figures(content: bytes) -> dict[str, Any]:
    found = re.findall(rb'<script type="application/json">(.*?)</script>', content, re.S)
    return {payload["div"]: payload for payload in map(json.loads, found)}


def test_it_caps_the_learning_curves_and_keeps_the_best(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caps scaled down, so that a small sweep is already over them.
    monkeypatch.setattr(plot_data, "CURVE_BUDGET", 600)
    monkeypatch.setattr(plot_data, "CURVE_FOCUS", 5)
    monkeypatch.setattr(plot_data, "CLOUD_CURVES", 20)
    sweep = make_sweep(project)
    trials = bulk_trials(sweep, 120, steps=40)
    client.force_login(project.owner)

    figure = figures(client.get(detail_url(sweep, tab="curves")).content)["chart-curves"]

    *lines, _stops = figure["data"]
    points = sum(1 for line in lines for x in line["x"] if x is not None)
    assert points <= 600
    drawn = {n for line in lines for n in line["customdata"] if n is not None}
    complete = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert {t.number for t in complete[:5]} <= drawn
    assert Trial.objects.get(sweep=sweep, is_best=True).number in drawn
    assert len(drawn) <= 5 + 20 + 1
    best_line = lines[-1]
    assert best_line["x"][0] == 0 and best_line["x"][-2] == 39


def test_it_thins_the_overviews_parallel_coordinates_but_not_their_tab(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "OVERVIEW_LINES", 40)
    sweep = make_sweep(project)
    trials = bulk_trials(sweep, 120)
    client.force_login(project.owner)

    overview = figures(client.get(detail_url(sweep)).content)["chart-parallel"]
    tab = figures(client.get(detail_url(sweep, tab="parallel")).content)["chart-parallel"]

    finished = sorted(
        (t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)),
        key=lambda t: t.value,
    )
    shown = overview["data"][0]["customdata"]
    assert len(shown) <= 40
    assert {t.number for t in finished[:20]} <= set(shown)
    assert f"Here {len(shown)} of the {len(finished)} trials" in overview["note"]
    assert sorted(tab["data"][0]["customdata"]) == sorted(t.number for t in finished)


def test_it_caps_a_long_run_history_on_the_run_page(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="long")
    steps = 3 * POINTS_PER_CHART
    MetricPoint.objects.bulk_create(
        MetricPoint(
            run=run, key="loss", step=s, value=99.0 if s == 1234 else 1 / (s + 1), wall_time=0
        )
        for s in range(steps)
    )
    client.force_login(project.owner)

    content = client.get(reverse("runs:detail", args=[project.slug, run.pk])).content
    body = re.search(rb'<script id="fig-[0-9a-f]+" type="application/json">(.*?)</script>', content)

    assert body is not None
    trace = json.loads(body.group(1))["data"][0]
    assert len(trace["x"]) <= POINTS_PER_CHART
    assert trace["x"][0] == 0 and trace["x"][-1] == steps - 1
    assert 99.0 in trace["y"]
