"""The Importance tab in Chromium: fANOVA beside the correlation, and PED-ANOVA on demand."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from projects.models import Project
from sweeps.models import Sweep
from sweeps.state_machine import transition
from tests.sweep_pages.helpers import (
    CONFIG,
    UI_TIMEOUT_MS,
    detail_url,
    fits,
    log_in,
    make_sweep,
    run_trial,
    shoot,
)

DRAWN = (
    "['chart-importance', 'chart-correlation']"
    ".every(id => document.getElementById(id)?.querySelector('.main-svg'))"
)


@pytest.mark.browser
def test_the_importance_tab_shows_fanova_and_correlation(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = make_sweep(project, CONFIG, name="importance")
    for _ in range(14):
        run_trial(sweep.pk, steps=3)
    transition(sweep, "finish")
    log_in(page, live_server.url, detail_url(sweep, tab="importance"))

    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#chart-importance .bars path")).to_have_count(4)
    # optimizer/name is correlated one value at a time: 5 bars for 4 parameters.
    expect(page.locator("#chart-correlation .bars path")).to_have_count(5)
    expect(page.locator("#chart-importance-title")).to_have_text("Parameter importance (fANOVA)")
    expect(page.locator("#chart-correlation-title")).to_have_text(
        "Correlation with the metric (Pearson)"
    )
    table = page.locator("#importance-table")
    expect(table.locator("thead th")).to_have_text(["Parameter", "fANOVA", "Correlation (r)"])
    expect(table).to_contain_text("fANOVA on 14 complete trials")
    fanova = Sweep.objects.get(pk=sweep.pk).importance["fanova"]["importances"]
    top = max(fanova, key=fanova.get)
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(top)
    shoot(page, "sweep-importance-fanova.png")

    page.click(".importance-methods >> text=PED-ANOVA")
    expect(page).to_have_url(
        f"{live_server.url}{detail_url(sweep)}?tab=importance&importance=ped_anova"
    )
    expect(page.locator("#chart-importance-title")).to_have_text(
        "Parameter importance (PED-ANOVA)", timeout=UI_TIMEOUT_MS
    )
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)
    expect(table.locator("thead th").nth(1)).to_have_text("PED-ANOVA")
    expect(page.locator(".importance-methods [aria-current]")).to_have_text("PED-ANOVA")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)
    fits(page)
    shoot(page, "sweep-importance-390x844.png")
