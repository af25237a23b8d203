"""The runs table's columns: the sweeps' metrics always shown, columns picked and kept in
the URL, every metric column sortable, the sweep and group columns, and pruned runs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from runs import views
from runs.models import Run, RunState
from sweeps.models import Sweep, Trial, TrialState
from tests.sweep_pages.helpers import CONFIG, UI_TIMEOUT_MS, fits, log_in, make_sweep

URL = reverse("runs:project", args=["demo"])
HTMX = {"HX-Request": "true", "HX-Target": "run-table"}


def names_in(content: bytes) -> list[str]:
    return re.findall(r'<td class="run-name"><a href="[^"]*">([^<]*)</a>', content.decode())


def metric_heads(content: bytes) -> list[str]:
    return re.findall(r'title="summary: ([^"]*)"', content.decode())


@pytest.fixture
def sweep(project: Project) -> Sweep:
    config = {**CONFIG, "metric": {"name": "val_loss", "goal": "minimize"}}
    return make_sweep(project, config, name="lr-search")


@pytest.fixture
def runs(project: Project, sweep: Sweep) -> list[Run]:
    """Six plain runs with four common keys; two sweep runs that also log val_loss, one of
    them pruned after it finished."""
    plain = [
        Run(
            project=project,
            name=f"plain-{i}",
            group="cv" if i % 2 else "",
            summary={"a": 6 - i, "b": i, "c": i, "d": i, "_runtime": 3},
        )
        for i in range(6)
    ]
    swept = [
        Run(
            project=project,
            name=f"swept-{i}",
            state=RunState.FINISHED,
            summary={"val_loss": 0.5 - i / 10, "a": 10 + i},
        )
        for i in range(2)
    ]
    made = Run.objects.bulk_create([*plain, *swept])
    states = [TrialState.COMPLETE, TrialState.PRUNED]
    Trial.objects.bulk_create(
        Trial(sweep=sweep, number=i, run=run, params={}, state=states[i])
        for i, run in enumerate(made[6:])
    )
    return made


def test_it_always_shows_the_sweep_metrics(client: Client, runs: list[Run]) -> None:
    """val_loss is on two runs of eight, less than a, b, c and d, yet its sweep's objective."""
    client.force_login(runs[0].project.owner)

    content = client.get(URL).content

    assert metric_heads(content) == ["val_loss", "a", "b", "c"]
    assert b"sweep metric" in content


def test_it_shows_the_columns_picked_in_the_url(client: Client, runs: list[Run]) -> None:
    client.force_login(runs[0].project.owner)

    picked = client.get(URL, {"columns": ["", "d", "val_loss"]}, headers=HTMX).content
    none = client.get(URL, {"columns": ""}, headers=HTMX).content

    assert metric_heads(picked) == ["d", "val_loss"]
    # The picker offers the rest, unticked; the sort links keep the pick.
    assert b'value="a" form="run-filters">' in picked
    assert b'value="d" form="run-filters" checked>' in picked
    assert b"columns=d&amp;columns=val_loss" in picked
    assert metric_heads(none) == []


def test_it_sorts_by_any_metric_column(client: Client, runs: list[Run]) -> None:
    client.force_login(runs[0].project.owner)

    up = names_in(client.get(URL, {"sort": "summary.a"}, headers=HTMX).content)
    down = names_in(client.get(URL, {"sort": "-summary.val_loss"}, headers=HTMX).content)
    odd = client.get(URL, {"sort": "summary."}, headers=HTMX)

    assert up == [*(f"plain-{i}" for i in range(5, -1, -1)), "swept-0", "swept-1"]
    # Runs without the key go last either way.
    assert down[:2] == ["swept-0", "swept-1"]
    assert set(down[2:]) == {f"plain-{i}" for i in range(6)}
    assert odd.status_code == 200


def test_it_shows_the_sweep_and_filters_by_it(
    client: Client, runs: list[Run], sweep: Sweep
) -> None:
    client.force_login(runs[0].project.owner)

    content = client.get(URL).content.decode()
    narrowed = client.get(URL, {"sweep": sweep.pk}, headers=HTMX).content

    assert f'href="{URL}?sweep={sweep.pk}"' in content
    assert f"{reverse('sweeps:detail', args=[sweep.pk])}?tab=trials&amp;trial=1" in content
    assert sorted(names_in(narrowed)) == ["swept-0", "swept-1"]
    by_sweep = names_in(client.get(URL, {"sort": "-sweep"}, headers=HTMX).content)
    assert by_sweep[:2] == ["swept-1", "swept-0"]


def test_it_shows_a_pruned_run_as_pruned(client: Client, runs: list[Run]) -> None:
    client.force_login(runs[0].project.owner)
    pruned = runs[7]

    table = client.get(URL, {"q": "swept"}, headers=HTMX).content.decode()
    only_pruned = names_in(client.get(URL, {"state": "pruned"}, headers=HTMX).content)
    finished = names_in(client.get(URL, {"state": "finished"}, headers=HTMX).content)
    page = client.get(reverse("runs:detail", args=["demo", pruned.pk])).content.decode()

    row = table.split(">swept-1<")[1].split("</tr>")[0]
    assert '<span class="badge badge-pruned">pruned</span>' in row
    assert only_pruned == ["swept-1"]
    assert "swept-1" not in finished and "swept-0" in finished
    assert '<span class="badge badge-pruned">pruned</span>' in page
    assert "the run ended as finished" in page
    assert views.PRUNED == TrialState.PRUNED


def test_it_shows_a_pruned_run_still_running_as_running(client: Client, runs: list[Run]) -> None:
    """Until its script sees the stop, the run is still running."""
    client.force_login(runs[0].project.owner)
    Run.objects.filter(pk=runs[7].pk).update(state=RunState.RUNNING)

    page = client.get(reverse("runs:detail", args=["demo", runs[7].pk])).content.decode()

    assert '<span class="badge badge-running">' in page
    assert "badge-pruned" not in page


@pytest.mark.browser
def test_it_picks_and_sorts_columns_in_chromium(
    page: Any, live_server: Any, transactional_db: None, runs: list[Run]
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, URL)
    heads = page.locator("#run-table thead th.num")
    expect(heads).to_have_text([re.compile(k) for k in ("val_loss", "a", "b", "c")])

    page.locator("#column-picker > summary").click()
    with page.expect_response(lambda r: "columns=" in r.url):
        page.locator("#column-picker input[value=b]").uncheck()
    expect(heads).to_have_text([re.compile(k) for k in ("val_loss", "a", "c")])
    # The picker stays open for the next pick.
    with page.expect_response(lambda r: "columns=d" in r.url):
        page.locator("#column-picker input[value=d]").check()
    expect(heads).to_have_text([re.compile(k) for k in ("val_loss", "a", "c", "d")])
    assert "columns=val_loss" in page.url and "columns=b" not in page.url

    page.locator("#run-table thead a[title='summary: a']").click()
    expect(page.locator("#run-table thead th.is-sorted a")).to_have_attribute("title", "summary: a")
    expect(page.locator("#run-table td.run-name").first).to_have_text("plain-5")
    assert "sort=summary.a" in page.url
    # A filter change keeps the columns and the sort.
    with page.expect_response(lambda r: "group=cv" in r.url):
        page.select_option("#run-group", "cv")
    expect(page.locator("#run-table td.run-name")).to_have_text(["plain-5", "plain-3", "plain-1"])
    expect(heads).to_have_text([re.compile(k) for k in ("val_loss", "a", "c", "d")])
    page.reload()
    expect(heads).to_have_text(
        [re.compile(k) for k in ("val_loss", "a", "c", "d")], timeout=UI_TIMEOUT_MS
    )
    fits(page)
    assert errors == []
