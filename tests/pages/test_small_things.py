"""Small things a new user meets: the favicon, the browsable API's name, sub-second
durations, the goal arrow on the best-value card, the tab bar on a phone, the demo user."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from projects.management.commands.create_demo_user import Command as CreateDemoUser
from projects.models import Project
from runs.models import Run, RunState
from sweeptracker.pages import format_duration
from tests.sweep_pages.helpers import (
    CONFIG,
    UI_TIMEOUT_MS,
    bulk_trials,
    detail_url,
    log_in,
    make_sweep,
)

ICO_MAGIC = b"\x00\x00\x01\x00"


def test_it_answers_the_favicon_to_anyone(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content.startswith(ICO_MAGIC)
    assert "max-age" in response["Cache-Control"]


def test_every_page_names_its_icon(client: Client) -> None:
    content = client.get(reverse("login")).content.decode()

    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in content
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in content


def test_the_browsable_api_has_our_name_and_says_what_it_is(client: Client, user: Any) -> None:
    client.force_login(user)

    content = client.get("/api/v1/", headers={"Accept": "text/html"}).content.decode()
    options = client.options("/api/v1/").json()

    assert "<title>SweepTracker API</title>" in content
    assert "Django REST framework" not in content
    assert "The default basic root view" not in content
    assert "<code>Authorization: Bearer KEY</code>" in content
    assert f'<a href="{reverse("api-docs")}">' in content
    assert options["name"] == "SweepTracker API"
    assert options["description"].startswith("Projects, runs with their metrics, API keys")
    runs = client.get("/api/v1/runs/", headers={"Accept": "text/html"}).content.decode()
    assert "<title>Run List – SweepTracker API</title>" in runs


def test_the_api_login_page_has_our_name(client: Client) -> None:
    content = client.get(reverse("rest_framework:login")).content.decode()

    assert "SweepTracker API" in content
    assert "Django REST framework" not in content


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 ms"), (0.042, "42 ms"), (0.42, "0.4s"), (12.3, "12s"), (249, "4m 09s")],
)
def test_it_shows_durations_below_a_second(seconds: float, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


def test_a_quick_run_does_not_take_no_time(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="quick", state=RunState.FINISHED)
    Run.objects.filter(pk=run.pk).update(finished_at=run.created_at + timedelta(milliseconds=420))
    client.force_login(project.owner)

    content = client.get(reverse("runs:project", args=[project.slug])).content.decode()

    assert ">0.4s<" in content


def test_the_readme_says_the_demo_user_is_a_superuser(db: None) -> None:
    CreateDemoUser(stdout=io.StringIO()).handle(username="demo", password="demo")

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    demo = readme[readme.index("the demo login") :][:200]
    assert get_user_model().objects.get(username="demo").is_superuser
    assert "superuser" in demo


def watch(page: Any) -> tuple[list[str], list[str]]:
    """The page's console errors and its answers of 400 or more, from now on."""
    errors: list[str] = []
    failed: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("response", on_response)
    return errors, failed


@pytest.mark.browser
def test_pages_load_their_icon_without_errors_and_fit_labels_and_tabs(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    config = {**CONFIG, "metric": {"name": "val_accuracy", "goal": "maximize"}}
    sweep = make_sweep(project, config, name="arrows")
    bulk_trials(sweep, 8)
    run = Run.objects.filter(project=project).first()
    assert run is not None
    Run.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    errors, failed = watch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, detail_url(sweep))
    icons = page.evaluate("[...document.querySelectorAll('link[rel=icon]')].map(l => l.href)")
    assert len(icons) == 2

    # The best value's label shows its goal arrow whole: nothing of it is cut off.
    label = page.locator(".stat-best .stat-label")
    expect(label).to_contain_text("val_accuracy ↑")
    assert label.evaluate("node => node.scrollWidth <= node.clientWidth")
    # A tab bar that fits shows no fade.
    tabs = page.locator("#sweep-tabs")
    assert tabs.evaluate("n => getComputedStyle(n).getPropertyValue('--tabs-fade-end')") == "0px"

    # On a phone the tab bar scrolls: it fades at the edge there is more beyond.
    page.set_viewport_size({"width": 390, "height": 844})
    assert tabs.evaluate("n => n.scrollWidth > n.clientWidth")
    fade = (
        "n => ['--tabs-fade-start', '--tabs-fade-end']"
        ".map(p => getComputedStyle(n).getPropertyValue(p)).join(' ')"
    )
    assert tabs.evaluate(fade) == "0px 40px"
    tabs.evaluate("n => n.scrollTo({left: n.scrollWidth})")
    page.wait_for_function(
        f"({fade})(document.querySelector('#sweep-tabs')) === '40px 0px'", timeout=UI_TIMEOUT_MS
    )

    # Every page, as on a phone: no console error, nothing missing.
    pages = [
        reverse("projects:list"),
        reverse("runs:project", args=[project.slug]),
        reverse("runs:detail", args=[project.slug, run.pk]),
        reverse("sweeps:list"),
        reverse("sweeps:project_new", args=[project.slug]),
        reverse("projects:keys"),
        "/api/v1/",
    ]
    for url in pages:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
    for icon in [*icons, f"{live_server.url}/favicon.ico"]:
        assert page.request.get(icon).status == 200, icon

    assert errors == []
    assert failed == []
