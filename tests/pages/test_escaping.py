"""Names a user picks are shown as text: nothing in them runs in the browser."""

from __future__ import annotations

from typing import Any

import pytest
import sweeptracker_client as wandb
from django.urls import reverse
from playwright.sync_api import expect

from runs.charts import figure_id
from runs.models import MetricPoint
from tests.sweep_pages.helpers import UI_TIMEOUT_MS, log_in

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
UNICODE = "損失 λ ünïcödé 🚀"
LONG = "val/" + "x" * 251  # 255 characters, the longest metric name


def test_no_script_runs_from_names_metrics_or_tags(
    page: Any, live_server: Any, transactional_db: None, project: Any, client_env: str
) -> None:
    run = wandb.init(project=project.slug, name=XSS, config={XSS: SCRIPT}, tags=[SCRIPT])
    for step in range(3):
        run.log({XSS: step / 2, UNICODE: step, LONG: -step, SCRIPT: 1.0})
    run.summary["note"] = SCRIPT
    run.finish()
    assert MetricPoint.objects.filter(key__in=[XSS, UNICODE, LONG, SCRIPT]).count() == 12

    run_url = reverse("runs:detail", args=[project.slug, run.id])
    log_in(page, live_server.url, run_url)
    for key in [XSS, UNICODE, LONG, SCRIPT]:
        title = page.locator(f"#{figure_id(key)}-chart .gtitle")
        expect(title).to_have_text(key, timeout=UI_TIMEOUT_MS)
    expect(page.locator("h1")).to_contain_text(XSS)
    expect(page.get_by_text(SCRIPT).first).to_be_visible()

    page.goto(f"{live_server.url}{reverse('runs:project', args=[project.slug])}")
    expect(page.locator("tbody").get_by_role("link", name=XSS)).to_be_visible()  # the run
    expect(page.locator("tbody").get_by_role("link", name=SCRIPT)).to_be_visible()  # its tag

    # What a script could have done: a dialog, or an element of its own in the page.
    assert page.dialogs == []
    assert page.locator("img[src=x]").count() == 0
