"""The sweep charts in Chromium (issue 17, items 4, 5 and 8): the log toggle, clicks that
open a trial, tooltips, the parallel coordinates' picks, the contour's chosen pair (kept by
the poll), the heatmap, and a phone's width; with no console error anywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Project
from sweeps import importance
from sweeps.models import Agent, Sweep, Trial, TrialState
from tests.sweep_pages.helpers import (
    POLL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    bulk_trials,
    detail_url,
    fits,
    log_in,
    make_sweep,
    shoot,
)

DRAWN = (
    "[...document.querySelectorAll('.chart-card:not(.is-empty) .chart')]"
    ".every(div => div.querySelector('.main-svg'))"
)


def errors_of(page: Any) -> list[str]:
    """Console errors and uncaught exceptions, from now on."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def layout_of(page: Any, div: str) -> Any:
    return page.evaluate(f"document.getElementById('{div}').layout")


def spiky_sweep(project: Project) -> Sweep:
    sweep = make_sweep(project, name="spiky")
    bulk_trials(sweep, 40, steps=5)
    Trial.objects.filter(sweep=sweep, number=5).update(value=1000.0, state=TrialState.COMPLETE)
    start = timezone.now() - timedelta(minutes=30)
    agent = Agent.objects.create(sweep=sweep, key="k", host="gpu-0", pid=7, last_seen_at=start)
    Trial.objects.filter(sweep=sweep).update(agent=agent, created_at=start, ended_at=timezone.now())
    importance.cached_or_compute(sweep)
    return sweep


def go(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)


def tab(page: Any, name: str) -> None:
    """Switch tabs as a person does: htmx swaps the tab's body, charts.js draws it."""
    page.click(f"#sweep-tabs a[href$='tab={name}']")
    page.wait_for_function(
        f"document.querySelector('#live-params input[name=tab]').value === '{name}'"
        " && !document.querySelector('.htmx-settling, .htmx-swapping')",
        timeout=UI_TIMEOUT_MS,
    )
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)


@pytest.mark.browser
def test_the_charts_in_the_browser(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = spiky_sweep(project)
    errors = errors_of(page)
    log_in(page, live_server.url, detail_url(sweep, tab="history"))
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)

    # History: the spike is outside the default range; the toggle switches to log and back.
    high = layout_of(page, "chart-history")["yaxis"]["range"][1]
    assert high < 1000.0
    toggle = page.locator(".js-log-scale[data-chart='chart-history']")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("document.getElementById('chart-history').layout.yaxis.type === 'log'")
    toggle.click()
    page.wait_for_function(
        "document.getElementById('chart-history').layout.yaxis.type === 'linear'"
    )
    # The EDF and the timeline are drawn below it.
    expect(page.locator("#chart-edf .main-svg").first).to_be_attached()
    expect(page.locator("#chart-timeline .main-svg").first).to_be_attached()

    # A tooltip names the parameters; a click opens the trial.
    point = page.locator("#chart-history .scatterlayer .trace").first.locator("path.point").nth(2)
    point.hover(force=True)
    expect(page.locator("#chart-history .hoverlayer")).to_contain_text("lr:")
    point.click(force=True)
    page.wait_for_url("**/trials/*/", timeout=UI_TIMEOUT_MS, wait_until="domcontentloaded")
    expect(page.locator("h1")).to_contain_text("Trial #")
    expect(page.locator(".trial-params")).to_contain_text("dropout")
    expect(page.locator(".trial-states")).to_contain_text("suggested: running")
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)

    # Parallel coordinates: the best band's trials are listed as links to their pages.
    go(page, f"{live_server.url}{detail_url(sweep, tab='parallel')}")
    picks = page.locator("#tab-body .chart-picks a.chart-pick")
    expect(picks.first).to_be_visible(timeout=UI_TIMEOUT_MS)
    best = sweep.trials.get(is_best=True).number
    expect(page.locator(".chart-picks")).to_contain_text(f"#{best}")
    page.locator(".js-log-scale[data-chart='chart-parallel']").click()
    page.wait_for_function(
        "document.getElementById('chart-parallel').layout.uirevision === 'chart-parallel:log'"
    )
    href = picks.first.get_attribute("href")
    assert href and href.startswith(f"/sweeps/{sweep.pk}/trials/") and href.endswith("/")

    # The contour draws the pair chosen, and the poll (the sweep is live) keeps it.
    tab(page, "slice")
    page.select_option("select[name=cx]", "dropout")
    expect(page.locator("#chart-contour-title")).to_contain_text(
        "Contour: dropout ×", timeout=UI_TIMEOUT_MS
    )
    # A person takes longer than htmx needs to set up the swapped-in form.
    page.wait_for_function(
        "document.querySelector('.chart-controls')['htmx-internal-data'] &&"
        " !document.querySelector('.htmx-settling, .htmx-swapping, .htmx-request')"
    )
    page.select_option("select[name=cy]", "batch_size")
    expect(page.locator("#chart-contour-title")).to_have_text(
        "Contour: dropout × batch_size", timeout=UI_TIMEOUT_MS
    )
    # A poll sent before the change may still be on its way; the next ones carry the pair.
    with page.expect_response(
        lambda r: "/live/" in r.url and "cx=dropout" in r.url and "cy=batch_size" in r.url,
        timeout=POLL_TIMEOUT_MS,
    ):
        pass
    page.wait_for_function(
        "document.getElementById('chart-contour').layout.xaxis.title.text === 'dropout'"
    )
    expect(page.locator(".chart-card").nth(1)).to_contain_text("Colour: the trial's number")

    # Importance: the correlation heatmap next to the scores (tabs switch through htmx).
    tab(page, "importance")
    assert page.evaluate("document.getElementById('chart-correlation-matrix').data[0].type") == (
        "heatmap"
    )

    # A phone: nothing sticks out, the parallel axes turn their labels to stand closer.
    page.set_viewport_size({"width": 375, "height": 812})
    for name in ["parallel", "overview"]:
        tab(page, name)
        fits(page)
        shoot(page, f"charts-{name}-375.png")
    assert page.evaluate("document.getElementById('chart-parallel').data[0].labelangle") == -40
    width = page.evaluate("document.getElementById('chart-parallel').offsetWidth")
    assert width < 560, width
    assert errors == []
