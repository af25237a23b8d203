"""The sweeps list: each sweep's trials by state, its best value and a progress bar, and
a sort on every column that a filter change keeps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from sweeps.models import Sweep
from sweeps.state_machine import transition
from tests.sweep_pages.helpers import CONFIG, UI_TIMEOUT_MS, bulk_trials, log_in, make_sweep

URL = reverse("sweeps:list")
TABLE = {"HX-Request": "true", "HX-Target": "sweep-table"}
GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.01, 0.001]}, "batch_size": {"values": [16, 32]}},
}


def names(content: bytes) -> list[str]:
    return re.findall(r'<td class="sweep-name">\s*<a href="[^"]*">([^<]*)</a>', content.decode())


def row(content: bytes, sweep: Sweep) -> str:
    found = re.search(rf'<tr id="sweep-{sweep.pk}".*?</tr>', content.decode(), re.S)
    assert found is not None
    return found.group(0)


@pytest.fixture
def sweeps(project: Project) -> list[Sweep]:
    """alpha: 8 trials of a run cap of 10; beta: 2 of a 6-point grid; gamma: none."""
    alpha = make_sweep(project, {**CONFIG, "run_cap": 10}, name="alpha")
    bulk_trials(alpha, 8)  # bulk_trials cycles the states: 4 complete, 2 pruned, 2 failed
    beta = make_sweep(project, GRID, name="beta")
    bulk_trials(beta, 2)
    gamma = make_sweep(project, CONFIG, name="gamma")
    return [alpha, beta, gamma]


def test_it_shows_trials_by_state_best_and_progress(client: Client, sweeps: list[Sweep]) -> None:
    alpha, beta, gamma = sweeps
    client.force_login(alpha.project.owner)

    content = client.get(URL).content

    first = row(content, alpha)
    assert '<span class="mono" title="Trials handed out, of the run cap">8 / 10</span>' in first
    assert 'aria-valuemax="10" aria-valuenow="8"' in first and "width: 80%" in first
    for count, state in [(4, "complete"), (2, "pruned"), (2, "failed")]:
        assert f'{count}<span class="visually-hidden"> {state}</span>' in first
    assert "running</span>" not in first
    assert alpha.best_trial is not None
    assert f'<span class="mono">{alpha.best_trial.value:.6g}</span>' in first
    grid = row(content, beta)
    assert '<span class="mono" title="Grid points done">2 / 6</span>' in grid
    assert "width: 33%" in grid
    empty = row(content, gamma)
    assert 'title="No run cap">0</span>' in empty and "progressbar" not in empty


def test_it_sorts_by_every_column(client: Client, sweeps: list[Sweep]) -> None:
    alpha, beta, gamma = sweeps
    client.force_login(alpha.project.owner)
    transition(beta, "start")

    def order(sort: str) -> list[str]:
        return names(client.get(URL, {"sort": sort}, headers=TABLE).content)

    assert order("-created") == ["gamma", "beta", "alpha"]
    assert order("created") == ["alpha", "beta", "gamma"]
    assert order("name") == ["alpha", "beta", "gamma"]
    assert order("-name") == ["gamma", "beta", "alpha"]
    assert order("-trials") == ["alpha", "beta", "gamma"]
    assert order("trials") == ["gamma", "beta", "alpha"]
    assert order("state") == ["gamma", "alpha", "beta"]  # pending, then running
    assert order("method")[0] == "beta"  # grid before random
    best = {s.name: s.best_trial.value or 0.0 for s in (alpha, beta) if s.best_trial}
    by_best = sorted(best, key=lambda name: best[name])
    assert order("best") == [*by_best, "gamma"]  # no best value goes last either way
    assert order("-best") == [*reversed(by_best), "gamma"]
    assert order("nonsense") == order("-created")


@pytest.mark.browser
def test_it_sorts_and_keeps_the_sort_in_chromium(
    page: Any, live_server: Any, transactional_db: None, sweeps: list[Sweep]
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, URL)
    rows = page.locator("#sweep-table td.sweep-name > a")
    expect(rows).to_have_text(["gamma", "beta", "alpha"], timeout=UI_TIMEOUT_MS)

    page.locator("#sweep-table thead a", has_text="Trials").click()
    expect(rows).to_have_text(["alpha", "beta", "gamma"])
    assert "sort=-trials" in page.url
    expect(page.locator("#sweep-table th[aria-sort]")).to_contain_text("Trials")
    with page.expect_response(lambda r: "method=random" in r.url):
        page.select_option("#sweep-method", "random")
    expect(rows).to_have_text(["alpha", "gamma"])
    assert "sort=-trials" in page.url
    expect(page.locator("#sweep-table .progress").first).to_be_visible()
    assert errors == []
