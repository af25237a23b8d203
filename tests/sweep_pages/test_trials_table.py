"""The trials table: value filters (parameter ranges and choices, metric ranges) in the URL
and the database, the last step of each trial, and sideways scrolling with # and State kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from runs.models import MetricPoint
from sweeps.models import Sweep, Trial, TrialState
from tests.sweep_pages.helpers import (
    CONFIG,
    HTMX,
    UI_TIMEOUT_MS,
    bulk_trials,
    detail_url,
    fits,
    log_in,
    make_sweep,
)

TAB_BODY = {**HTMX, "HX-Target": "tab-body"}
# Eight parameters that vary: at 1440 px the table is wider than its card.
WIDE = {
    **CONFIG,
    "parameters": {
        **CONFIG["parameters"],
        "weight_decay": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-2},
        "momentum": {"min": 0.5, "max": 0.99},
        "warmup_steps": {"distribution": "int_uniform", "min": 0, "max": 2000},
        "activation": {"values": ["relu", "gelu", "silu", "tanh"]},
    },
}


def shown(content: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'<tr id="trial-(\d+)"', content)]


def trials_url(sweep: Sweep, query: str) -> str:
    return f"{detail_url(sweep)}?tab=trials&sort=number&{query}"


@pytest.fixture
def wide(project: Project) -> Sweep:
    sweep = make_sweep(project, WIDE, name="wide")
    bulk_trials(sweep, 24, steps=6)
    return sweep


def test_it_narrows_by_a_numeric_parameter_range(client: Client, wide: Sweep) -> None:
    client.force_login(wide.project.owner)
    trials = list(Trial.objects.filter(sweep=wide))
    low, high = sorted(t.params["dropout"] for t in trials)[5], 0.4
    expected = sorted(t.number for t in trials if low <= t.params["dropout"] <= high)
    assert 0 < len(expected) < len(trials)

    response = client.get(trials_url(wide, f"p.dropout.min={low!r}&p.dropout.max=0.4"))

    assert shown(response.content) == expected
    assert f"{len(expected)} trials match".encode() in response.content
    # The form shows what is set; the poll's hidden copy carries it too.
    assert f'name="p.dropout.min" value="{low!r}"'.encode() in response.content
    assert f'<input type="hidden" name="p.dropout.min" value="{low!r}">'.encode() in (
        response.content
    )


def test_it_narrows_by_categorical_values_and_a_metric_range(client: Client, wide: Sweep) -> None:
    client.force_login(wide.project.owner)
    trials = list(Trial.objects.filter(sweep=wide))
    values = sorted(t.value for t in trials if t.value is not None)
    top = values[len(values) // 2]
    expected = sorted(
        t.number
        for t in trials
        if t.params["activation"] in ("relu", "tanh") and t.value is not None and t.value <= top
    )
    assert expected

    query = f"p.activation=relu&p.activation=tanh&m.loss.max={top!r}"
    response = client.get(trials_url(wide, query), headers=TAB_BODY)

    assert shown(response.content) == expected
    assert b'value="relu" checked' in response.content
    assert b'value="gelu" checked' not in response.content


def test_it_combines_value_filters_with_the_state_and_sorts(client: Client, wide: Sweep) -> None:
    client.force_login(wide.project.owner)
    trials = list(Trial.objects.filter(sweep=wide, state=TrialState.COMPLETE))
    expected = [
        t.number
        for t in sorted(trials, key=lambda t: (t.params["lr"], t.number))
        if t.params["lr"] <= 0.01
    ]

    response = client.get(
        f"{detail_url(wide)}?tab=trials&state=complete&sort=p.lr&p.lr.max=0.01", headers=TAB_BODY
    )

    assert shown(response.content) == expected


def test_it_narrows_by_the_second_metric_of_several(client: Client, project: Project) -> None:
    metrics = [{"name": "loss", "goal": "minimize"}, {"name": "latency", "goal": "minimize"}]
    sweep = make_sweep(project, {**WIDE, "metric": metrics}, name="multi")
    trials = bulk_trials(sweep, 8)
    for trial in trials:
        if trial.value is not None:
            Trial.objects.filter(pk=trial.pk).update(values=[trial.value, trial.number * 10])
    expected = sorted(t.number for t in trials if t.value is not None and t.number * 10 >= 40)
    client.force_login(project.owner)

    response = client.get(trials_url(sweep, "m.latency.min=40"), headers=TAB_BODY)

    assert shown(response.content) == expected


def test_it_ignores_what_it_cannot_read(client: Client, wide: Sweep) -> None:
    client.force_login(wide.project.owner)
    query = "p.dropout.min=abc&p.nosuch.max=1&p.activation=purple&m.loss.min=nan&p.lr.max=inf"

    response = client.get(trials_url(wide, query))

    assert response.status_code == 200
    assert len(shown(response.content)) == 24
    assert b"match" not in response.content.split(b'id="trials-table"')[1][:300]


def test_it_shows_the_last_step_each_trial_logged(client: Client, wide: Sweep) -> None:
    """A pruned trial shows where it stopped; a trial without points shows a dash."""
    client.force_login(wide.project.owner)
    pruned = Trial.objects.filter(sweep=wide, state=TrialState.PRUNED).first()
    assert pruned is not None and pruned.run_id is not None
    MetricPoint.objects.filter(run_id=pruned.run_id, step__gt=2).delete()
    silent = Trial.objects.get(sweep=wide, number=1)
    assert silent.run_id is not None
    MetricPoint.objects.filter(run_id=silent.run_id).delete()

    response = client.get(trials_url(wide, "state=pruned"))
    row = re.search(rf'<tr id="trial-{pruned.number}".*?</tr>'.encode(), response.content, re.S)
    assert row is not None
    assert b'<td class="num mono last-step">2</td>' in row.group(0)
    response = client.get(trials_url(wide, ""))
    row = re.search(rb'<tr id="trial-1".*?</tr>', response.content, re.S)
    assert row is not None
    assert '<td class="num mono last-step">—</td>'.encode() in row.group(0)
    other = re.search(rb'<tr id="trial-0".*?</tr>', response.content, re.S)
    assert other is not None and b'<td class="num mono last-step">5</td>' in other.group(0)


def test_it_reads_as_many_queries_with_value_filters_for_any_size(
    client: Client, project: Project
) -> None:
    small, large = make_sweep(project, WIDE, name="small"), make_sweep(project, WIDE, name="large")
    bulk_trials(small, 6, steps=2)
    bulk_trials(large, 60, steps=2)
    for sweep in (small, large):
        # Random parameters may leave six trials with no match: trial 0 always matches.
        first = Trial.objects.get(sweep=sweep, number=0)
        first.params = {**first.params, "activation": "relu", "lr": 0.01}
        first.value = 0.5
        first.save(update_fields=["params", "value"])
    client.force_login(project.owner)
    client.get(detail_url(small))
    query = "p.activation=relu&p.activation=gelu&p.lr.max=0.05&m.loss.max=5&sort=-p.momentum"
    counts = []
    for sweep in (small, large):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(trials_url(sweep, query), headers=TAB_BODY)
        assert shown(response.content)
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]


@pytest.mark.browser
def test_it_scrolls_inside_its_card_and_filters_live_in_chromium(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    sweep = make_sweep(project, WIDE, name="wide")
    bulk_trials(sweep, 24, steps=6)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, detail_url(sweep, tab="trials"))

    frame = page.locator("#trials-table .scroll-frame")
    wrap = frame.locator(".table-wrap")
    expect(frame).to_have_class(re.compile(r"\bmore-right\b"), timeout=UI_TIMEOUT_MS)
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    # One evaluation, so that a poll's fresh table cannot come between the measurements:
    # after scrolling to the end, # and State sit where they were and the last column
    # (Duration) lies inside the card.
    kept = wrap.evaluate(
        """w => {
            const first = () => w.querySelector("tbody tr td").getBoundingClientRect().left;
            const before = first();
            w.scrollLeft = w.scrollWidth;
            const last = w.querySelector("tbody tr td:last-child").getBoundingClientRect();
            return [first() === before, last.right <= w.getBoundingClientRect().right + 1];
        }"""
    )
    assert kept == [True, True]
    expect(frame).to_have_class(re.compile(r"\bmore-left\b"))
    expect(frame).not_to_have_class(re.compile(r"\bmore-right\b"))
    fits(page)

    page.locator(".trial-filter-panel > summary").click()
    page.fill("#p\\.momentum-min", "0.7")
    with page.expect_response(lambda r: "p.momentum.min=0.7" in r.url):
        page.locator(".trial-filter-panel button[type=submit]").click()
    expected = Trial.objects.filter(sweep=sweep).count()
    kept = [t for t in Trial.objects.filter(sweep=sweep) if t.params["momentum"] >= 0.7]
    assert 0 < len(kept) < expected
    rows = page.locator("#trials-table tbody tr")
    expect(rows).to_have_count(len(kept))
    assert "p.momentum.min=0.7" in page.url
    # The sweep is live: its poll must bring back the same, filtered table.
    live = reverse("sweeps:live", args=[sweep.pk])
    with page.expect_response(lambda r: live in r.url, timeout=UI_TIMEOUT_MS) as poll:
        pass
    assert "p.momentum.min=0.7" in poll.value.url
    expect(rows).to_have_count(len(kept))
    assert errors == []
