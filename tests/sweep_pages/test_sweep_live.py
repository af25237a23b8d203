from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from sweeps import importance, state_machine
from sweeps.models import Sweep
from sweeps.state_machine import transition
from tests.sweep_pages.helpers import (
    CONFIG,
    HTMX,
    POLL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    Agent,
    bulk_trials,
    detail_url,
    log_in,
    make_sweep,
    run_trial,
)

TABS = ["overview", "trials", "best", "importance", "parallel", "history", "slice", "curves"]


def url(sweep: Sweep, **query: Any) -> str:
    live = reverse("sweeps:live", args=[sweep.pk])
    return live + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def figures(content: bytes) -> dict[str, Any]:
    found = re.findall(rb'<script type="application/json">(.*?)</script>', content, re.S)
    return {payload["div"]: payload for payload in map(json.loads, found)}


def test_it_redirects_anonymous_to_login(client: Client, sweep: Sweep) -> None:
    assert client.get(url(sweep), headers=HTMX)["Location"].startswith(reverse("login"))


def test_it_hides_sweeps_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(url(sweep), headers=HTMX).status_code == 404


def test_it_polls_while_the_sweep_may_get_trials(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    for action in (None, "start", "pause"):
        if action:
            transition(sweep, action)
        content = client.get(detail_url(sweep)).content.decode()
        assert (
            f'<div id="sweep-live" hidden hx-get="{url(sweep)}" hx-trigger="every 3s" '
            'hx-include="#live-params" hx-swap="innerHTML">'
        ) in content
        assert "live · updates every 3 s" in content


def test_it_does_not_poll_an_ended_sweep(client: Client, sweep: Sweep) -> None:
    transition(sweep, "finish")
    client.force_login(sweep.project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    assert '<div id="sweep-live" hidden>' in content
    assert "hx-trigger" not in content
    assert "live · updates" not in content


def test_it_answers_with_figures_and_out_of_band_regions(client: Client, sweep: Sweep) -> None:
    for _ in range(3):
        run_trial(sweep.pk)
    client.force_login(sweep.project.owner)

    response = client.get(url(sweep, tab="overview"), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert set(figures(response.content)) == {
        "chart-parallel",
        "chart-history",
        "chart-importance",
    }
    assert (
        len(figures(response.content)["chart-parallel"]["data"][0]["dimensions"][0]["values"]) == 3
    )
    assert '<div id="sweep-header" class="page-header sweep-header" hx-swap-oob="true">' in content
    assert (
        '<section id="sweep-stats" class="stats" aria-label="Trials" hx-swap-oob="true">' in content
    )
    assert 'id="sweep-details"' in content
    assert 'id="trials-table"' not in content  # only the open tab's regions


def test_it_refreshes_the_trials_table_as_the_user_left_it(client: Client, sweep: Sweep) -> None:
    bulk_trials(sweep, 40)
    client.force_login(sweep.project.owner)

    response = client.get(url(sweep, tab="trials", sort="number", state="", page=2), headers=HTMX)

    content = response.content.decode()
    assert '<div id="trials-table" hx-swap-oob="true">' in content
    assert re.findall(r'<tr id="trial-(\d+)"', content) == [str(n) for n in range(25, 40)]
    assert figures(response.content) == {}


@pytest.mark.parametrize(
    ("tab", "region"), [("best", "best-body"), ("importance", "importance-table")]
)
def test_it_refreshes_the_open_tabs_tables(
    client: Client, sweep: Sweep, tab: str, region: str
) -> None:
    bulk_trials(sweep, 10)
    client.force_login(sweep.project.owner)

    content = client.get(url(sweep, tab=tab), headers=HTMX).content.decode()

    assert f'id="{region}"' in content
    assert "hx-swap-oob" in content


def test_it_stops_polling_once_the_sweep_has_ended(client: Client, project: Project) -> None:
    sweep = make_sweep(
        project,
        {
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"batch_size": {"values": [16, 32]}},
        },
    )
    client.force_login(project.owner)
    running = client.get(url(sweep), headers=HTMX)

    run_trial(sweep.pk)
    run_trial(sweep.pk)
    with pytest.raises(state_machine.SweepUnavailable):
        run_trial(sweep.pk)  # every grid point has run: the sweep finishes
    ended = client.get(url(sweep), headers=HTMX)

    sweep.refresh_from_db()
    assert sweep.state == "finished"
    assert running.status_code == 200
    assert ended.status_code == 286
    # The last answer still carries the final data.
    assert len(figures(ended.content)["chart-history"]["data"][0]["x"]) == 2
    assert "badge-finished" in ended.content.decode()
    assert "live · updates" not in ended.content.decode()


@pytest.mark.parametrize("count", [10, 1000])
def test_it_uses_the_same_queries_for_any_number_of_trials(
    client: Client, project: Project, count: int, django_assert_max_num_queries: Any
) -> None:
    sweep = make_sweep(project)
    bulk_trials(sweep, count, steps=5)
    importance.cached_or_compute(sweep)  # cached per sweep version, as between two trial ends
    client.force_login(project.owner)

    for tab in TABS:
        with django_assert_max_num_queries(7):
            response = client.get(url(sweep, tab=tab), headers=HTMX)
        assert response.status_code == 200


# In the browser -----------------------------------------------------------------------------


@pytest.mark.browser
def test_it_fills_in_live_without_a_reload(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = make_sweep(project, {**CONFIG, "run_cap": 12}, name="live-sweep")
    log_in(page, live_server.url, detail_url(sweep))
    expect(page.locator("#sweep-stats .next-step")).to_contain_text(
        f"No trials yet — start an agent with sweeptracker agent {sweep.pk}"
    )
    expect(page.locator(".chart-card.is-empty")).to_have_count(3)
    page.wait_for_function("window.Plotly !== undefined", timeout=UI_TIMEOUT_MS)
    # Anything on window survives only if the page is never reloaded.
    page.evaluate("window.sameDocument = 'yes'")

    first = Agent(sweep.pk, 6)
    first.start()

    page.wait_for_function(
        "document.getElementById('chart-parallel')?.data?.[0].dimensions[0].values.length === 6",
        timeout=POLL_TIMEOUT_MS,
    )
    first.finish()
    # Plotly drew it: its SVG with an axis per parameter and the metric; the lines
    # themselves go to a WebGL canvas, one per trial in the trace data.
    expect(page.locator("#chart-parallel .main-svg").first).to_be_visible()
    expect(page.locator("#chart-parallel .parcoords .y-axis")).to_have_count(5)
    expect(page.locator("#chart-parallel canvas.gl-canvas-context")).to_have_count(1)
    expect(page.locator("#chart-history .scatterlayer .point").first).to_be_visible()
    # Importance waits for 10 complete trials, and says so.
    empty = page.locator(".chart-card:has(#chart-importance) .chart-empty")
    expect(empty).to_contain_text("6 so far, 4 more to go")
    expect(page.locator("#sweep-stats .next-step")).to_have_count(0)
    expect(page.locator(".js-stat-total")).to_have_text("6")

    page.click("#sweep-tabs >> text=Trials")
    expect(page.locator("#trials-table tbody tr")).to_have_count(6, timeout=UI_TIMEOUT_MS)
    expect(page).to_have_url(f"{live_server.url}{detail_url(sweep, tab='trials')}")

    second = Agent(sweep.pk, 6)
    second.start()

    expect(page.locator("#trials-table tbody tr")).to_have_count(12, timeout=POLL_TIMEOUT_MS)
    second.finish()
    # The run cap is reached: the sweep finishes, and the last poll (286) stops the polling.
    expect(page.locator("#sweep-header .badge").first).to_have_text(
        "finished", timeout=POLL_TIMEOUT_MS
    )
    page.wait_for_function(
        "document.getElementById('sweep-live')['htmx-internal-data'].cancelled === true",
        timeout=POLL_TIMEOUT_MS,
    )
    page.click("#sweep-tabs >> text=Overview")
    page.wait_for_function(
        "document.getElementById('chart-parallel')?.data?.[0].dimensions[0].values.length === 12",
        timeout=UI_TIMEOUT_MS,
    )
    expect(page.locator("#chart-parallel .parcoords .y-axis")).to_have_count(5)
    expect(page.locator("#chart-history .scatterlayer .point")).to_have_count(12 + 1)
    page.wait_for_function(
        "document.getElementById('chart-importance')?.data?.[0].y.length === 4",
        timeout=UI_TIMEOUT_MS,
    )
    expect(page.locator("#chart-importance .bars path")).to_have_count(4)
    assert page.evaluate("window.sameDocument") == "yes"
    assert page.dialogs == []


@pytest.mark.browser
def test_it_keeps_the_zoom_of_a_chart_across_polls(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = make_sweep(project, name="zoomed")
    for _ in range(4):
        run_trial(sweep.pk)
    log_in(page, live_server.url, detail_url(sweep, tab="history"))
    drag = page.locator("#chart-history .nsewdrag")
    expect(drag).to_be_visible(timeout=UI_TIMEOUT_MS)
    box = drag.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y + 5, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "document.getElementById('chart-history').layout.xaxis.autorange === false"
    )
    zoomed = page.evaluate("document.getElementById('chart-history').layout.xaxis.range")
    # A region the poll resends unchanged stays the same element (keyboard focus stays put).
    page.evaluate("document.getElementById('sweep-header').dataset.kept = 'yes'")

    run_trial(sweep.pk)

    page.wait_for_function(
        "document.getElementById('chart-history').data[0].x.length === 5",
        timeout=POLL_TIMEOUT_MS,
    )
    assert page.evaluate("document.getElementById('chart-history').layout.xaxis.range") == zoomed
    expect(page.locator(".js-stat-total")).to_have_text("5")
    assert page.evaluate("document.getElementById('sweep-header').dataset.kept") == "yes"
