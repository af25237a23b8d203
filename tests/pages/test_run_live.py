from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from runs.charts import figure_id
from runs.ingest import log_batch
from runs.lifecycle import finish_run
from runs.models import Run
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output"
# A poll comes every 5 s; allow for two of them and a slow machine.
POLL_TIMEOUT_MS = 15_000
# plotly.min.js is 4.6 MB to parse: more than expect()'s 5 s default on a busy machine.
UI_TIMEOUT_MS = 15_000


def log_steps(run: Run, steps: range, keys: tuple[str, ...] = ("loss", "acc")) -> None:
    rows = [
        {"step": step, "values": {key: 1 / (step + 1) + i for i, key in enumerate(keys)}}
        for step in steps
    ]
    log_batch(run, {"rows": rows})


def log_in(page: Any, base_url: str, next_url: str) -> None:
    page.goto(f"{base_url}{reverse('login')}?next={next_url}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_url}")


def chart(key: str) -> str:
    return f"#{figure_id(key)}-chart"


def points_of(page: Any, key: str) -> int:
    return page.evaluate(f"document.querySelector('{chart(key)}').data[0].x.length")


def screenshot(page: Any, name: str) -> None:
    # After a form post the stylesheet may still be loading; measure the styled page.
    page.wait_for_load_state("load")
    # From the top, or the sticky header lands mid-page in a full-page shot.
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def fits_and_shoot(page: Any, name: str) -> None:
    page.wait_for_load_state("load")
    # Nothing may stick out sideways: wide tables scroll inside their own box.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} is {overflow}px too wide"
    screenshot(page, f"{name}.png")


def zoom_by_dragging(page: Any, key: str) -> list[float]:
    """Drag a zoom box across the middle of the chart, as a user would; returns the x range."""
    drag_layer = page.locator(f"{chart(key)} .nsewdrag")
    drag_layer.scroll_into_view_if_needed()
    box = drag_layer.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y + 5, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"document.querySelector('{chart(key)}').layout.xaxis.autorange === false"
    )
    return page.evaluate(f"document.querySelector('{chart(key)}').layout.xaxis.range")


def test_it_updates_the_charts_live(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    run = Run.objects.create(project=project, name="live-run")
    log_steps(run, range(10))
    log_batch(run, {"rows": [{"step": 0, "values": {XSS: 1.0}}, {"step": 1, "values": {XSS: 2}}]})
    url = reverse("runs:detail", args=[project.slug, run.pk])

    log_in(page, live_server.url, url)

    charts = page.locator(".js-chart-grid .js-plotly-plot")
    expect(charts).to_have_count(3, timeout=UI_TIMEOUT_MS)
    expect(page.locator(f"{chart('loss')} path.js-line")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(page.locator(f"{chart('acc')} path.js-line")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    # The key is shown as text in the chart title; nothing in it ran.
    expect(page.locator(f"{chart(XSS)} .gtitle")).to_have_text(XSS, timeout=UI_TIMEOUT_MS)
    assert points_of(page, "loss") == 10
    zoomed = zoom_by_dragging(page, "loss")
    # Anything on window survives only if the page is never reloaded.
    page.evaluate("window.sameDocument = 'yes'")

    log_steps(run, range(10, 40), keys=("loss", "acc", "lr"))

    page.wait_for_function(
        f"document.querySelector('{chart('loss')}').data[0].x.length === 40",
        timeout=POLL_TIMEOUT_MS,
    )
    expect(charts).to_have_count(4, timeout=UI_TIMEOUT_MS)  # a chart for the new key "lr"
    expect(page.locator(f"{chart('lr')} path.js-line")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert points_of(page, "acc") == 40
    assert page.evaluate("window.sameDocument") == "yes"
    # The user's zoom survived the update (layout.uirevision).
    assert page.evaluate(f"document.querySelector('{chart('loss')}').layout.xaxis.range") == zoomed
    screenshot(page, "run-detail-1280x800.png")

    finish_run(run, exit_code=0)

    expect(page.locator("#run-facts .badge")).to_have_text("finished", timeout=POLL_TIMEOUT_MS)
    # htmx marks the poller cancelled when it gets 286 (HttpResponseStopPolling).
    page.wait_for_function(
        "document.getElementById('run-live')['htmx-internal-data'].cancelled === true"
    )
    assert page.evaluate("window.sameDocument") == "yes"
    page.set_viewport_size({"width": 390, "height": 844})
    # responsive: true makes Plotly follow the window; wait until the charts fit.
    page.wait_for_function(
        f"document.querySelector('{chart('loss')} .main-svg').getBoundingClientRect().right <= 390"
    )
    screenshot(page, "run-detail-390x844.png")
    assert page.dialogs == []


def test_it_looks_right_wide_and_narrow(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    for i in range(30):
        run = Run.objects.create(project=project, name=f"lively-comet-{i}", summary={"loss": i})
        run.set_tags(["baseline"] if i % 2 else ["gpu", "lr-sweep"])
    pages = {
        "projects": reverse("projects:list"),
        "project-runs": reverse("runs:project", args=[project.slug]),
        "keys": reverse("projects:keys"),
    }
    log_in(page, live_server.url, pages["projects"])

    for width, height in [(1280, 800), (390, 844)]:
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            fits_and_shoot(page, f"{name}-{width}x{height}")
        page.goto(f"{live_server.url}{pages['keys']}")
        page.fill("#id_name", f"laptop-{width}")
        page.click("text=Create key")
        expect(page.locator(".new-key")).to_be_visible(timeout=UI_TIMEOUT_MS)
        fits_and_shoot(page, f"keys-new-{width}x{height}")

    assert page.dialogs == []


def test_it_filters_the_runs_table_in_place(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    for name in ["brisk-river-1", "calm-delta-2", "brisk-summit-3"]:
        Run.objects.create(project=project, name=name)
    url = reverse("runs:project", args=[project.slug])
    log_in(page, live_server.url, url)
    page.evaluate("window.sameDocument = 'yes'")

    page.fill("#run-search", "brisk")

    expect(page.locator("#run-table tbody tr")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(page).to_have_url(
        f"{live_server.url}{url}?q=brisk&state=&tag=&group=&job_type=&sort=-created",
        timeout=UI_TIMEOUT_MS,
    )
    page.click("#run-table th >> text=Name")
    expect(page.locator("#run-table .run-name").first).to_have_text(
        "brisk-river-1", timeout=UI_TIMEOUT_MS
    )
    expect(page).to_have_url(
        f"{live_server.url}{url}?q=brisk&state=&tag=&group=&job_type=&sort=name",
        timeout=UI_TIMEOUT_MS,
    )
    assert page.evaluate("window.sameDocument") == "yes"

    page.reload()

    expect(page.locator("#run-table tbody tr")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#run-table .run-name").first).to_have_text(
        "brisk-river-1", timeout=UI_TIMEOUT_MS
    )
    expect(page.locator("#run-search")).to_have_value("brisk", timeout=UI_TIMEOUT_MS)
