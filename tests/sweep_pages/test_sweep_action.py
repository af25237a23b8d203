from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import RunState
from sweeps.models import Sweep, SweepState, TrialState
from sweeps.state_machine import ACTIONS, suggest_trial, transition
from tests.sweep_pages.helpers import (
    HEADER,
    UI_TIMEOUT_MS,
    detail_url,
    log_in,
    row_target,
    run_trial,
)

LIST = reverse("sweeps:project_list", args=["demo"])


def url(sweep: Sweep, action: str) -> str:
    return reverse(f"sweeps:{action}", args=[sweep.pk])


def test_it_redirects_anonymous_to_login(client: Client, sweep: Sweep) -> None:
    response = client.post(url(sweep, "start"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_sweeps_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    for action in ACTIONS:
        assert client.post(url(sweep, action)).status_code == 404


@pytest.mark.parametrize("action", [*ACTIONS, "delete"])
def test_it_refuses_viewers(client: Client, sweep: Sweep, viewer: Any, action: str) -> None:
    client.force_login(viewer)

    response = client.post(url(sweep, action), headers=row_target(sweep))

    assert response.status_code == 403
    sweep.refresh_from_db()
    assert sweep.state == SweepState.PENDING


def test_it_needs_a_post(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    assert client.get(url(sweep, "start")).status_code == 405


def test_it_starts_and_goes_back_without_javascript(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep, "start"), {"next": f"{LIST}?state=pending"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?state=pending"
    sweep.refresh_from_db()
    assert sweep.state == SweepState.RUNNING
    assert sweep.started_at is not None


def test_it_ignores_a_next_url_elsewhere(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep, "pause"), {"next": "https://evil.example/"})

    assert response["Location"] == reverse("sweeps:detail", args=[sweep.pk])


def test_it_rerenders_the_row_for_htmx(client: Client, sweep: Sweep, editor: Any) -> None:
    client.force_login(editor)

    response = client.post(url(sweep, "pause"), {"scope": "project"}, headers=row_target(sweep))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith(f'<tr id="sweep-{sweep.pk}"')
    assert "badge-paused" in content
    assert "js-action-resume" in content
    assert "js-action-pause" not in content
    assert "js-action-start" not in content
    assert "Demo project" not in content  # a project's own list names no project


def test_it_rerenders_the_header_on_the_sweep_page(client: Client, sweep: Sweep) -> None:
    transition(sweep, "start")
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep, "pause"), headers=HEADER)

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="sweep-header"')
    assert "hx-swap-oob" not in content
    assert "badge-paused" in content
    assert "js-action-resume" in content
    assert 'hx-target="#sweep-header"' in content


def test_it_says_when_the_action_is_no_longer_legal(client: Client, sweep: Sweep) -> None:
    # The page still showed "Resume", but an agent or a colleague moved the sweep on.
    transition(sweep, "cancel")
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep, "resume"), headers=row_target(sweep))
    plain = client.post(url(sweep, "resume"), follow=True)

    assert response.status_code == 200
    assert "The sweep is canceled; resume needs it to be paused." in response.content.decode()
    assert "badge-canceled" in response.content.decode()
    assert "The sweep is canceled" in plain.content.decode()


def test_it_cancels_with_a_confirmation_and_kills_running_trials(
    client: Client, sweep: Sweep
) -> None:
    done = run_trial(sweep.pk)
    running = suggest_trial(sweep.pk)
    client.force_login(sweep.project.owner)
    page = client.get(LIST).content.decode()

    client.post(url(sweep, "cancel"), headers=row_target(sweep))

    assert 'hx-confirm="Cancel this sweep? Its running trials are killed."' in page
    sweep.refresh_from_db()
    assert sweep.state == SweepState.CANCELED
    assert sweep.ended_at is not None
    done.refresh_from_db()
    running.refresh_from_db()
    assert done.state == TrialState.COMPLETE
    assert running.state == TrialState.FAILED
    assert running.run.state == RunState.KILLED


@pytest.mark.browser
def test_it_pauses_and_resumes_in_place(
    page: Any, live_server: Any, transactional_db: None, sweep: Sweep
) -> None:
    transition(sweep, "start")
    log_in(page, live_server.url, detail_url(sweep))
    page.evaluate("window.sameDocument = 'yes'")
    badge = page.locator("#sweep-header .badge").first
    buttons = page.locator("#sweep-header button")
    expect(badge).to_have_text("running")
    expect(buttons).to_have_text(["Pause", "Finish", "Cancel"])

    page.click("#sweep-header >> text=Pause")

    expect(badge).to_have_text("paused", timeout=UI_TIMEOUT_MS)
    expect(buttons).to_have_text(["Resume", "Finish", "Cancel"])
    sweep.refresh_from_db()
    assert sweep.state == SweepState.PAUSED

    page.click("#sweep-header >> text=Resume")

    expect(badge).to_have_text("running", timeout=UI_TIMEOUT_MS)
    expect(buttons).to_have_text(["Pause", "Finish", "Cancel"])
    sweep.refresh_from_db()
    assert sweep.state == SweepState.RUNNING
    assert page.evaluate("window.sameDocument") == "yes"
    assert page.dialogs == []
