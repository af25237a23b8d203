"""The sweep overview: the best trial's parameters, and a grid's progress as points done
of the grid's size."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from projects.models import Project
from sweeps import plot_data
from sweeps.config import SweepConfig
from sweeps.distributions import grid_points
from tests.sweep_pages.helpers import (
    CONFIG,
    UI_TIMEOUT_MS,
    bulk_trials,
    detail_url,
    fits,
    log_in,
    make_sweep,
    run_trial,
)

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"values": [0.1, 0.01, 0.001]},
        "batch_size": {"values": [16, 32, 64, 128]},
    },
}


def best_block(content: bytes) -> str:
    found = re.search(
        r'<div class="best-params" id="best-params">.*?</div>', content.decode(), re.S
    )
    assert found is not None, "no best parameters on the overview"
    return found.group(0)


def test_it_shows_the_best_parameters_on_the_overview(client: Client, project: Project) -> None:
    sweep = make_sweep(project, name="lr-search")
    bulk_trials(sweep, 8)
    client.force_login(project.owner)
    best = sweep.best_trial
    assert best is not None

    block = best_block(client.get(detail_url(sweep)).content)

    assert f"#{best.number}</a>" in block
    assert f"loss = {best.value:.6g}" in block
    for name, value in best.params.items():
        assert f'<th scope="row" class="mono">{name}</th><td class="mono">' in block
        assert f"{plot_data.value_label(value)}</td>" in block


def test_it_shows_no_best_parameters_before_a_trial_completes(
    client: Client, project: Project
) -> None:
    sweep = make_sweep(project, name="empty")
    client.force_login(project.owner)

    assert b'id="best-params"' not in client.get(detail_url(sweep)).content


def test_it_shows_a_grid_as_points_done_of_its_size(client: Client, project: Project) -> None:
    sweep = make_sweep(project, GRID, name="grid")
    for number in range(6):
        run_trial(sweep.pk, steps=2, fail=number == 2)
    assert len(grid_points(SweepConfig.from_dict(sweep.config).parameters)) == 12
    client.force_login(project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    assert '<span class="js-stat-total">5</span><span class="stat-of"> / 12</span>' in content
    assert 'aria-valuemax="12" aria-valuenow="5"' in content
    assert "grid points done · 6 handed out" in content
    assert "no run cap" not in content


def test_it_shows_a_capped_grid_against_its_run_cap(client: Client, project: Project) -> None:
    sweep = make_sweep(project, {**GRID, "run_cap": 4}, name="capped")
    run_trial(sweep.pk, steps=2)
    client.force_login(project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    assert '<span class="js-stat-total">1</span><span class="stat-of"> / 4</span>' in content
    assert "grid points done, of the run cap" in content


def test_it_keeps_the_run_cap_for_other_methods(client: Client, project: Project) -> None:
    capped = make_sweep(project, {**CONFIG, "run_cap": 10}, name="capped")
    bulk_trials(capped, 4)
    free = make_sweep(project, CONFIG, name="free")
    bulk_trials(free, 3)
    client.force_login(project.owner)

    with_cap = client.get(detail_url(capped)).content.decode()
    without = client.get(detail_url(free)).content.decode()

    assert '<span class="js-stat-total">4</span><span class="stat-of"> / 10</span>' in with_cap
    assert 'style="width: 40%"' in with_cap
    assert '<span class="js-stat-total">3</span>' in without
    assert "no run cap" in without


@pytest.mark.browser
def test_it_shows_the_best_parameters_wide_and_narrow_in_chromium(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = make_sweep(project, GRID, name="grid")
    for _ in range(5):
        run_trial(sweep.pk, steps=2)
    sweep.refresh_from_db()
    best = sweep.best_trial
    assert best is not None
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, detail_url(sweep))

    block = page.locator("#best-params")
    expect(block).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(block.locator("th")).to_have_text(list(best.params))
    expect(page.locator("#sweep-stats .stat").first).to_contain_text("5 / 12")
    for width, height in [(1440, 900), (390, 844)]:
        page.set_viewport_size({"width": width, "height": height})
        block.scroll_into_view_if_needed()
        expect(block).to_be_in_viewport()
        fits(page)
    block.get_by_role("link", name=f"#{best.number}").click()
    expect(page.locator(f"#trial-{best.number}")).to_have_class(re.compile("is-target"))
    assert errors == []
