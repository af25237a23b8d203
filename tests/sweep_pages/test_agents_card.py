"""The sweep page's Agents card: the live agents, or that there is none and the command
that starts one; gone once the sweep has ended. Agents are recorded as their suggest
requests record them (sweeps.agents.record), the rest through the engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Project
from runs.models import Run
from sweeps import agents, state_machine
from sweeps.models import Agent, Sweep
from sweeps.state_machine import suggest_trial
from tests.sweep_pages.helpers import (
    POLL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    detail_url,
    fits,
    log_in,
    make_sweep,
    shoot,
)

GPU = agents.Announcement(key="a1b2c3", host="gpu-7.lab", pid=31337)


def card(client: Client, sweep: Sweep) -> str:
    content = client.get(detail_url(sweep)).content.decode()
    start = content.index('<div id="sweep-agents"')
    return content[start : content.index("</div>", content.index("</section>", start))]


def test_a_sweep_with_no_live_agent_says_so_with_the_command(
    client: Client, project: Project, settings: Any
) -> None:
    sweep = make_sweep(project)
    client.force_login(project.owner)

    assert "The first agent starts it." in card(client, sweep)
    state_machine.transition(sweep, "start")
    running = card(client, sweep)
    assert "No agent is running this sweep." in running
    assert f"sweeptracker agent {sweep.pk}" in running
    assert "0 live" in running

    # One that went silent past AGENT_TIMEOUT, its trial's run silent too, is not listed.
    agents.record(sweep, GPU, suggest_trial(sweep.pk))
    silent = timezone.now() - timedelta(seconds=settings.AGENT_TIMEOUT + 1)
    Agent.objects.update(last_seen_at=silent)
    Run.objects.filter(trial__sweep=sweep).update(heartbeat_at=silent)
    assert "No agent is running this sweep." in card(client, sweep)


def test_an_ended_sweep_has_no_agents_card(client: Client, project: Project) -> None:
    sweep = make_sweep(project)
    agents.record(sweep, GPU, suggest_trial(sweep.pk))
    state_machine.transition(sweep, "cancel")
    client.force_login(project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    assert '<div id="sweep-agents" class="sweep-agents">' in content
    assert "agents-heading" not in content and "Run an agent" not in content


def test_the_card_lists_live_agents_and_follows_them_live(
    page: Any, live_server: Any, project: Project
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sweep = make_sweep(project)
    agents.record(sweep, GPU, suggest_trial(sweep.pk))
    long_host = "a-very-long-host-name.of.a.cluster.example.org"
    agents.record(sweep, agents.Announcement(key="d4e5f6", host=long_host, pid=77))

    log_in(page, live_server.url, detail_url(sweep))

    rows = page.locator("#sweep-agents .agents-table tbody tr")
    expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
    gpu = page.locator("#agent-a1b2c3")
    expect(gpu.locator("td").nth(0)).to_have_text("gpu-7.lab")
    expect(gpu.locator("td").nth(1)).to_have_text("31337")
    expect(gpu.locator("td").nth(4)).to_have_text("1")
    expect(gpu.get_by_role("link", name="trial #0")).to_have_attribute(
        "href", f"{detail_url(sweep)}?tab=trials&trial=0#trial-0"
    )
    expect(page.locator("#agent-d4e5f6")).to_contain_text("between trials")
    expect(page.locator("#sweep-agents .js-agents-live")).to_have_text("2 live")
    shoot(page, "sweep-agents.png")
    # On a phone the table scrolls inside its card; the page does not get wider.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(gpu).to_be_visible()
    fits(page)

    # Both exit: the poll shows there is none and how to start one, without a reload.
    agents.record(sweep, GPU, stopped=True)
    agents.record(sweep, agents.Announcement(key="d4e5f6"), stopped=True)
    expect(page.locator("#sweep-agents .agents-none")).to_contain_text(
        "No agent is running this sweep.", timeout=POLL_TIMEOUT_MS
    )
    expect(page.locator("#sweep-agents #agent-command")).to_have_text(
        f"sweeptracker agent {sweep.pk}"
    )

    # The sweep ends: the card goes.
    state_machine.transition(sweep, "finish")
    expect(page.locator("#agents-heading")).to_have_count(0, timeout=POLL_TIMEOUT_MS)
    assert not errors, errors
