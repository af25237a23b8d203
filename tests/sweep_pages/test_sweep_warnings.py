"""Config warnings on the new-sweep form (as the user types, apart from errors) and on the
sweep's page."""

from __future__ import annotations

from html import escape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from runs.models import Run
from sweeps.models import Sweep
from tests.sweep_pages.helpers import HTMX, UI_TIMEOUT_MS, fits, log_in, shoot
from tests.sweeps.test_config_warnings import LR_WARNING

URL = reverse("sweeps:project_new", args=["demo"])
CHECK = {**HTMX, "HX-Target": "config-check"}
SPEC = """\
method: grid
metric: {name: best_accuracy, goal: maximize}
parameters:
  learning_rate: {distribution: log_uniform, min: 0.0001, max: 0.01}
  batch_size:    {values: [16, 32, 64, 128]}
  optimizer:     {values: [adam, sgd, rmsprop]}
  dropout:       {distribution: uniform, min: 0.0, max: 0.5, q: 0.1}
  epochs:        {value: 20}
"""
BAD = "method: grid\nparameters:\n  lr: {min: 0.1, max: 0.01}\n"


def check(client: Client, text: str, **fields: Any) -> str:
    data = {"config_text": text, "name": "", "description": "", **fields}
    response = client.post(URL, data, headers=CHECK)
    assert response.status_code == 200
    return response.content.decode()


def test_it_checks_as_the_user_types_and_creates_nothing(client: Client, project: Project) -> None:
    Run.objects.create(project=project, name="before", summary={"accuracy": 0.8})
    client.force_login(project.owner)

    content = check(client, SPEC)

    assert not Sweep.objects.exists()
    assert content.strip().startswith('<div id="config-check"')  # the region, not the page
    assert 'id="config-warnings"' in content and 'id="config-problems"' not in content
    assert "5 things may not be what you meant" in content
    assert escape(LR_WARNING) in content
    assert "a grid cannot enumerate log_uniform, so it tries 5 log-spaced values" in content
    assert escape("did you mean 'accuracy'?") in content  # the metric's hint, from the project
    problems = check(client, BAD)
    assert 'id="config-problems"' in problems and 'id="config-warnings"' not in problems
    # The form's fields count: method random has no grid to discretize.
    assert "a grid cannot" not in check(client, SPEC, method="random")


def test_it_shows_the_stored_warnings_on_the_sweep_page(client: Client, project: Project) -> None:
    client.force_login(project.owner)
    client.post(URL, {"config_text": SPEC, "name": "spec", "description": ""})
    sweep = Sweep.objects.get()

    content = client.get(reverse("sweeps:detail", args=[sweep.pk])).content.decode()

    assert 'id="sweep-warnings"' in content
    for warning in sweep.warnings:
        assert escape(warning["message"]) in content
    plain = Sweep.objects.create(
        project=project, name="plain", method="random", config_text="", config=sweep.config
    )
    assert (
        'id="sweep-warnings"'
        not in client.get(reverse("sweeps:detail", args=[plain.pk])).content.decode()
    )


@pytest.mark.browser
def test_it_shows_warnings_while_typing_and_on_the_sweep_page(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    log_in(page, live_server.url, URL)

    page.fill("#id_name", "spec-grid")
    page.fill("#id_config_text", BAD)
    problems = page.locator("#config-problems")
    # Typed, not submitted: the problems come inline, in red.
    expect(problems).to_contain_text("parameters.lr.max", timeout=UI_TIMEOUT_MS)
    page.fill("#id_config_text", SPEC)
    warnings = page.locator("#config-warnings")
    expect(warnings).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(problems).to_have_count(0)
    expect(warnings).to_contain_text(f"parameters.learning_rate: {LR_WARNING}")
    expect(warnings.locator("li")).to_have_count(4)
    assert not Sweep.objects.exists()
    # Warnings look apart from errors.
    colors = page.eval_on_selector("#config-warnings", "e => getComputedStyle(e).backgroundColor")
    assert colors == "rgb(255, 251, 235)"
    fits(page)
    shoot(page, "sweep-new-warnings-1280x800.png")

    page.click("text=Create sweep")

    expect(page.locator("h1")).to_have_text("spec-grid", timeout=UI_TIMEOUT_MS)
    sweep = Sweep.objects.get()
    expect(page.locator(".messages")).to_contain_text("Its config has 4 warnings")
    shown = page.locator("#sweep-warnings li")
    expect(shown).to_have_count(4)
    expect(shown.nth(0)).to_have_text(f"parameters.learning_rate: {LR_WARNING}")
    expect(shown.nth(1)).to_contain_text("1.0001, 1.0026, 1.0051, 1.0076 and 1.0101")
    assert len(sweep.warnings) == 4
    fits(page)
    shoot(page, "sweep-detail-warnings-1280x800.png")
    page.set_viewport_size({"width": 390, "height": 844})
    fits(page)
    assert page.dialogs == []
