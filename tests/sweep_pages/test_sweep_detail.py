from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from sweeps import importance, plot_data
from sweeps.models import Sweep, Trial, TrialState
from sweeps.state_machine import report_result, suggest_trial, transition
from tests.sweep_pages.helpers import (
    CONFIG,
    DOCS_SCREENSHOTS,
    HTMX,
    UI_TIMEOUT_MS,
    XSS,
    bulk_trials,
    detail_url,
    fits,
    log_in,
    make_sweep,
    objective,
    run_trial,
    shoot,
)

TAB_BODY = {**HTMX, "HX-Target": "tab-body"}
TABS = ["overview", "trials", "best", "importance", "parallel", "history", "slice", "curves"]
MULTI = {
    **CONFIG,
    "metric": [{"name": "loss", "goal": "minimize"}, {"name": "latency", "goal": "minimize"}],
}


def figures(content: bytes) -> dict[str, Any]:
    """The figure payloads of a page (json_script without an id), by the div they draw in."""
    found = re.findall(rb'<script type="application/json">(.*?)</script>', content, re.S)
    payloads = [json.loads(body) for body in found]
    return {payload["div"]: payload for payload in payloads}


def trial_numbers(content: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'<tr id="trial-(\d+)"', content)]


@pytest.fixture
def done(sweep: Sweep) -> Sweep:
    """The sweep with 12 trials run through the engine (learning curves and all): enough
    for importance, which needs 10."""
    for _ in range(12):
        run_trial(sweep.pk)
    sweep.refresh_from_db()
    return sweep


def test_it_redirects_anonymous_to_login(client: Client, sweep: Sweep) -> None:
    response = client.get(detail_url(sweep))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_sweeps_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(detail_url(sweep)).status_code == 404
    assert client.get(detail_url(sweep, tab="trials"), headers=TAB_BODY).status_code == 404
    assert client.get(reverse("sweeps:detail", args=["nosuchid"])).status_code == 404


def test_it_shows_the_overview(client: Client, project: Project) -> None:
    sweep = make_sweep(project, name="lr-search", description="Tuning <b>lr</b>.", seed=7)
    client.force_login(project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    assert "<h1>lr-search</h1>" in content
    assert "badge-pending" in content and "badge-method" in content
    assert f"sweeptracker agent {sweep.pk}" in content
    assert 'data-copy="agent-command"' in content
    assert "No trials yet</strong> — start an agent with" in content
    assert "Tuning &lt;b&gt;lr&lt;/b&gt;." in content
    assert "log_uniform_values" in content  # the config as YAML
    assert '<dd class="mono">7</dd>' in content
    assert "epochs = 10" in content  # constants listed, not charted
    assert 'aria-current="page">Overview</a>' in content
    assert "Projects</a>" in content and "Demo project</a>" in content  # breadcrumbs
    assert 'hx-trigger="every 3s"' in content  # pending: live


def test_it_shows_editors_the_legal_buttons_and_viewers_none(
    client: Client, sweep: Sweep, viewer: Any
) -> None:
    transition(sweep, "start")
    client.force_login(sweep.project.owner)
    owner = client.get(detail_url(sweep)).content.decode()
    client.force_login(viewer)
    seen = client.get(detail_url(sweep)).content.decode()

    assert re.findall(r"js-action-(\w+)", owner) == ["pause", "finish", "cancel"]
    assert f"?copy={sweep.pk}" in owner
    assert "js-delete" in owner
    assert "js-action-" not in seen
    assert "js-delete" not in seen
    assert "?copy=" not in seen


@pytest.mark.parametrize("tab", TABS)
def test_it_renders_each_tab(client: Client, done: Sweep, tab: str) -> None:
    client.force_login(done.project.owner)

    page = client.get(detail_url(done, tab=tab))
    partial = client.get(detail_url(done, tab=tab), headers=TAB_BODY)

    assert page.status_code == 200
    assert 'aria-current="page">' in page.content.decode()
    assert b"<html" not in partial.content
    assert b'id="sweep-tabs" class="tabs" aria-label="Sweep views" hx-swap-oob="true"' in (
        partial.content
    )
    assert f'<input type="hidden" name="tab" value="{tab}">'.encode() in partial.content
    assert "HX-Target" in page["Vary"]


def test_it_gives_whole_pages_to_htmx_requests_for_the_page(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    # HX-Location after a create targets the body; a history restore wants the page.
    located = client.get(detail_url(done), headers=HTMX)
    restored = client.get(
        detail_url(done), headers={**TAB_BODY, "HX-History-Restore-Request": "true"}
    )

    assert b"<html" in located.content
    assert b"<html" in restored.content


def test_it_falls_back_to_the_overview(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    content = client.get(detail_url(done, tab="pareto")).content.decode()

    # A single-metric sweep has no Pareto front tab.
    assert 'aria-current="page">Overview</a>' in content
    assert "Pareto front</a>" not in content


def test_it_shows_stat_cards(client: Client, project: Project) -> None:
    sweep = make_sweep(project, {**CONFIG, "run_cap": 10})
    trials = bulk_trials(sweep, 9)
    suggest_trial(sweep.pk)  # one running
    client.force_login(project.owner)

    content = client.get(detail_url(sweep)).content.decode()

    counts = plot_data.trial_counts(sweep)
    assert (counts.total, counts.running) == (10, 1)
    assert '<span class="js-stat-total">10</span><span class="stat-of"> / 10</span>' in content
    assert f'Complete</p><p class="stat-value">{counts.complete}</p>' in content
    assert f'Pruned</p><p class="stat-value">{counts.pruned}</p>' in content
    assert f'Failed</p><p class="stat-value">{counts.failed}</p>' in content
    assert 'Running</p><p class="stat-value">1</p>' in content
    best = min((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert f"{best.value:.6g}" in content
    assert f"?tab=trials&amp;trial={best.number}#trial-{best.number}" in content


SHAPES = {
    "no metric": {"method": "random", "parameters": {"a": {"min": 0.0, "max": 1.0}}},
    "one parameter": {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"only": {"values": [1, 2]}, "fixed": {"value": 3}},
    },
    "bayes, quantile and quantized": {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "maximize"},
        "parameters": {
            "x": {"distribution": "normal", "mu": 0, "sigma": 1},
            "k": {"distribution": "q_log_uniform_values", "min": 1, "max": 1000, "q": 1},
        },
    },
}


@pytest.mark.parametrize("shape", SHAPES)
def test_it_renders_sweeps_of_every_shape(client: Client, project: Project, shape: str) -> None:
    sweep = make_sweep(project, SHAPES[shape])
    for _ in range(4):
        run_trial(sweep.pk)
    client.force_login(project.owner)

    for tab in TABS:
        assert client.get(detail_url(sweep, tab=tab)).status_code == 200, tab


# Trials tab -----------------------------------------------------------------------------


def test_it_lists_trials_with_a_column_per_parameter(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    content = client.get(detail_url(done, tab="trials")).content

    assert trial_numbers(content) == list(reversed(range(12)))  # newest first
    for name in ["lr", "batch_size", "dropout", "optimizer%2Fname"]:
        assert f"sort=p.{name}".encode() in content
    assert b"epochs = 10" in content
    best = done.best_trial
    assert f'<tr id="trial-{best.number}" class="is-best'.encode() in content
    assert reverse("runs:detail", args=["demo", best.run_id]).encode() in content
    assert reverse("sweeps:trials_csv", args=[done.pk]).encode() in content


@pytest.mark.parametrize("sort", ["number", "-number", "value", "-value", "state", "-state"])
def test_it_sorts_trials(client: Client, done: Sweep, sort: str) -> None:
    Trial.objects.filter(sweep=done, number=3).update(state=TrialState.FAILED, value=None)
    client.force_login(done.project.owner)

    numbers = trial_numbers(client.get(detail_url(done, tab="trials", sort=sort)).content)

    trials = list(Trial.objects.filter(sweep=done))
    column, descending = sort.removeprefix("-"), sort.startswith("-")

    def key(t: Trial) -> Any:
        value = getattr(t, column)
        # Trials without a value go last either way.
        return (value is None, -value if descending and value is not None else value, t.number)

    if column == "value":
        expected = [t.number for t in sorted(trials, key=key)]
    else:
        expected = [
            t.number
            for t in sorted(
                trials, key=lambda t: (getattr(t, column), t.number), reverse=descending
            )
        ]
    assert numbers == expected


@pytest.mark.parametrize("name", ["lr", "batch_size", "optimizer/name"])
def test_it_sorts_trials_by_a_parameter(client: Client, done: Sweep, name: str) -> None:
    client.force_login(done.project.owner)

    up = trial_numbers(client.get(detail_url(done, tab="trials", sort=f"p.{name}")).content)
    down = trial_numbers(client.get(detail_url(done, tab="trials", sort=f"-p.{name}")).content)

    trials = list(Trial.objects.filter(sweep=done))
    assert up == [t.number for t in sorted(trials, key=lambda t: (t.params[name], t.number))]
    assert down == [
        t.number for t in sorted(trials, key=lambda t: (t.params[name], t.number), reverse=True)
    ]


def test_it_filters_and_pages_trials(client: Client, project: Project) -> None:
    sweep = make_sweep(project)
    trials = bulk_trials(sweep, 60)
    client.force_login(project.owner)

    pruned = client.get(detail_url(sweep, tab="trials", state="pruned"), headers=TAB_BODY)
    second = client.get(detail_url(sweep, tab="trials", sort="number", page=2), headers=TAB_BODY)

    assert trial_numbers(pruned.content) == [
        t.number for t in reversed(trials) if t.state == TrialState.PRUNED
    ]
    assert trial_numbers(second.content) == list(range(25, 50))
    assert b"Page 2 of 3" in second.content
    assert b'href="/sweeps/' in second.content and b"page=3" in second.content


def test_it_opens_the_page_of_a_trial(client: Client, project: Project) -> None:
    sweep = make_sweep(project)
    bulk_trials(sweep, 60)
    client.force_login(project.owner)

    content = client.get(detail_url(sweep, tab="trials", trial=5)).content

    # Newest first: trials 59..35 on page 1, 34..10 on page 2, 9..0 on page 3.
    assert trial_numbers(content) == list(reversed(range(10)))
    assert b'<tr id="trial-5" class=" is-target">' in content


def test_it_says_when_there_are_no_trials(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    content = client.get(detail_url(sweep, tab="trials")).content.decode()
    filtered = client.get(detail_url(sweep, tab="trials", state="failed")).content.decode()

    assert (
        f"No trials yet</h3>\n      <p>Start an agent with <code>sweeptracker agent {sweep.pk}"
        in (content)
    )
    assert "No failed trials." in filtered


# Best parameters and importance ------------------------------------------------------------


def test_it_shows_the_best_parameters_nested(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    content = client.get(detail_url(done, tab="best")).content.decode()

    best = done.best_trial
    assert f"{best.value:.6g}" in content
    assert "optimizer/name</th>" in content
    assert f"optimizer:\n  name: {best.params['optimizer/name']}" in content
    assert f"run {best.run_id}" in content


def test_it_shows_the_pareto_set_of_a_multi_objective_sweep(
    client: Client, project: Project
) -> None:
    sweep = make_sweep(project, MULTI)
    for _ in range(6):
        trial = suggest_trial(sweep.pk)
        loss = objective(trial.params)
        report_result(trial, [loss, 1 / (loss + 0.1)])
    client.force_login(project.owner)

    best = client.get(detail_url(sweep, tab="best")).content.decode()
    pareto = client.get(detail_url(sweep, tab="pareto"))

    front = Trial.objects.filter(sweep=sweep, is_best=True).count()
    assert f"The Pareto set: {front} trial" in best
    assert "Pareto front</a>" in pareto.content.decode()
    figure = figures(pareto.content)["chart-pareto"]
    assert len(figure["data"][1]["x"]) == front
    assert len(figure["data"][0]["x"]) == 6 - front


def test_it_shows_fanova_and_correlation_side_by_side(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    response = client.get(detail_url(done, tab="importance"))

    content = response.content.decode()
    assert "<strong>fANOVA</strong> importance beside each parameter's" in content
    found = figures(response.content)
    bars = found["chart-importance"]["data"][0]
    assert bars["orientation"] == "h"
    assert sorted(bars["y"]) == ["batch_size", "dropout", "lr", "optimizer/name"]
    assert bars["x"] == sorted(bars["x"])  # the biggest drawn on top
    assert "fANOVA: the share of the metric's variance" in found["chart-importance"]["note"]
    assert "over 12 complete trials" in found["chart-importance"]["note"]
    correlation = found["chart-correlation"]["data"][0]
    # batch_size has numbers for values: one bar; optimizer/name one per value.
    assert sorted(correlation["y"]) == [
        "batch_size",
        "dropout",
        "lr",
        "optimizer/name = adam",
        "optimizer/name = sgd",
    ]
    assert all(-1 <= r <= 1 for r in correlation["x"])
    result = Sweep.objects.get(pk=done.pk).importance
    rows = re.findall(
        r'<tr>\s*<td class="mono">([^<]+)</td>\s*<td class="num">([^<]+)</td>', content
    )
    fanova = result["fanova"]["importances"]
    assert [name for name, _ in rows] == sorted(fanova, key=fanova.get, reverse=True)
    assert dict(rows)["lr"] == f"{fanova['lr']:.1%}"
    assert "fANOVA on 12 complete trials" in content and "correlation on 12" in content


def test_it_switches_to_ped_anova(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    response = client.get(detail_url(done, tab="importance", importance="ped_anova"))

    content = response.content.decode()
    assert "<strong>PED-ANOVA</strong> importance" in content
    figure = figures(response.content)["chart-importance"]
    assert figure["note"].startswith("PED-ANOVA: which parameters decide whether a trial lands")
    ped = Sweep.objects.get(pk=done.pk).importance["ped_anova"]["importances"]
    assert sorted(figure["data"][0]["y"]) == sorted(ped)
    assert '<input type="hidden" name="importance" value="ped_anova">' in content


def test_it_says_how_many_more_trials_importance_needs(client: Client, project: Project) -> None:
    sweep = make_sweep(project)
    for _ in range(3):
        run_trial(sweep.pk)
    client.force_login(project.owner)

    response = client.get(detail_url(sweep, tab="importance"))

    content = response.content.decode()
    assert "needs at least 10 complete trials with a value; 3 so far, 7 more to go." in content
    found = figures(response.content)
    assert found["chart-importance"]["empty"] and found["chart-correlation"]["empty"]
    assert "7 more to go" in found["chart-correlation"]["message"]


# Charts -----------------------------------------------------------------------------------


def test_it_plots_parallel_coordinates(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    figure = figures(client.get(detail_url(done, tab="parallel")).content)["chart-parallel"]

    trace = figure["data"][0]
    labels = [d["label"] for d in trace["dimensions"]]
    assert labels == ["lr", "batch_size", "dropout", "optimizer/name", "<b>loss ↓</b>"]
    trials = list(Trial.objects.filter(sweep=done).order_by("number"))
    lr, batch, _, optimizer, loss = trace["dimensions"]
    # Log-scale parameters are drawn as log10, with ticks that read as values.
    assert lr["values"] == pytest.approx([math.log10(t.params["lr"]) for t in trials])
    assert all(label.startswith(("1", "2", "5", "0.")) for label in lr["ticktext"])
    assert batch["tickvals"] == [0, 1, 2, 3]
    assert batch["ticktext"] == ["16", "32", "64", "128"]
    assert optimizer["ticktext"] == ["adam", "sgd"]
    assert loss["values"] == [t.value for t in trials]
    # The best trial's line has its own colour at the top of the scale (tests/sweep_pages/
    # test_charts_parallel.py checks the scale).
    assert trace["line"]["color"][done.best_trial.number] == 0.975
    # The best trial is brushed on the metric axis.
    assert loss["constraintrange"][0] <= done.best_trial.value <= loss["constraintrange"][1]
    assert figure["layout"]["uirevision"] == "chart-parallel"


def test_it_plots_the_history_with_the_best_so_far(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    figure = figures(client.get(detail_url(done, tab="history")).content)["chart-history"]

    complete, _, best_line, star = figure["data"]
    values = [t.value for t in Trial.objects.filter(sweep=done).order_by("number")]
    assert complete["y"] == values
    assert best_line["y"] == [min(values[: i + 1]) for i in range(len(values))]
    assert star["y"] == [min(values)]


def test_it_plots_slices_and_the_contour(client: Client, done: Sweep) -> None:
    client.force_login(done.project.owner)

    found = figures(client.get(detail_url(done, tab="slice")).content)

    contour = found["chart-contour"]
    importance = done.__class__.objects.get(pk=done.pk).importance["importances"]
    top_two = sorted(importance, key=importance.get, reverse=True)[:2]
    assert contour["data"][0]["type"] == "contour"
    assert [
        contour["layout"]["xaxis"]["title"]["text"],
        contour["layout"]["yaxis"]["title"]["text"],
    ] == top_two
    slices = [f for div, f in found.items() if div.startswith("chart-slice-")]
    assert len(slices) == 4
    axes = {f["layout"]["xaxis"]["title"]["text"]: f["layout"]["xaxis"] for f in slices}
    assert axes["lr"]["type"] == "log"
    assert axes["optimizer/name"]["categoryarray"] == ["adam", "sgd"]


def test_it_plots_learning_curves_and_marks_pruned_runs(client: Client, project: Project) -> None:
    config = {**CONFIG, "early_terminate": {"type": "hyperband", "min_iter": 2}}
    sweep = make_sweep(project, config)
    trials = [run_trial(sweep.pk, steps=12) for _ in range(8)]
    client.force_login(project.owner)

    figure = figures(client.get(detail_url(sweep, tab="curves")).content)["chart-curves"]

    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "hyperband should stop some of these runs"
    *lines, stops = figure["data"]
    assert stops["marker"]["symbol"] == "x"
    assert sorted(stops["customdata"]) == [t.number for t in pruned]
    drawn = {n for line in lines for n in line["customdata"] if n is not None}
    assert drawn == {t.number for t in trials}


def test_it_downsamples_long_histories_keeping_the_extremes() -> None:
    steps = list(range(10_000))
    values: list[float | None] = [math.sin(s / 50) for s in steps]
    values[4321] = 99.0
    values[777] = None

    kept_steps, kept_values = plot_data.downsample(steps, values, 400)

    assert len(kept_steps) <= 420
    assert kept_steps[0] == 0 and kept_steps[-1] == 9_999
    assert 99.0 in kept_values
    assert min(v for v in kept_values if v is not None) == pytest.approx(-1, abs=1e-3)
    assert kept_steps == sorted(kept_steps)


def test_it_says_what_to_do_when_charts_have_no_data(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    found = figures(client.get(detail_url(sweep)).content)

    assert found["chart-parallel"]["empty"] is True
    assert found["chart-parallel"]["message"] == "No finished trials yet."
    message = "Importance needs at least 10 complete trials; 0 so far, 10 more to go."
    assert found["chart-importance"]["message"] == message


def test_it_escapes_user_strings_in_pages_and_charts(client: Client, project: Project) -> None:
    config = {
        **CONFIG,
        "metric": {"name": XSS, "goal": "maximize"},
        "parameters": {"act": {"values": [XSS, "relu"]}, "lr": {"min": 0.0, "max": 1.0}},
    }
    sweep = make_sweep(project, config, name=XSS)
    for number in range(4):
        trial = suggest_trial(sweep.pk)
        report_result(trial, [float(number)])
    client.force_login(project.owner)

    for tab in TABS:
        response = client.get(detail_url(sweep, tab=tab))
        content = response.content.decode()
        assert "<img src=x" not in content, tab
        for div, figure in figures(response.content).items():
            # Plotly reads strings as markup: every user string goes in as entities.
            # (The note and message are set as textContent, so they stay plain text.)
            drawn = json.dumps([figure["data"], figure["layout"]], ensure_ascii=False)
            assert "<img" not in drawn, (tab, div)
    parallel = figures(client.get(detail_url(sweep, tab="parallel")).content)["chart-parallel"]
    act = parallel["data"][0]["dimensions"][0]
    # Escaped after shortening, so no entity is ever cut in half.
    assert act["ticktext"] == ["&lt;img src=x onerror=aler…", "relu"]


# Scale ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 1000])
def test_it_uses_the_same_queries_for_any_number_of_trials(
    client: Client, project: Project, count: int, django_assert_max_num_queries: Any
) -> None:
    sweep = make_sweep(project)
    bulk_trials(sweep, count, steps=5)
    # Importance is cached per sweep version; its recompute is pinned on its own below.
    importance.cached_or_compute(sweep)
    client.force_login(project.owner)

    for tab in TABS:
        # session, user, sweep, membership, counts, the tab's data (a count and a page
        # for the trials table)
        with django_assert_max_num_queries(7):
            response = client.get(detail_url(sweep, tab=tab))
        assert response.status_code == 200
        with django_assert_max_num_queries(7):
            client.get(detail_url(sweep, tab=tab), headers=TAB_BODY)
    parallel = figures(client.get(detail_url(sweep, tab="parallel")).content)["chart-parallel"]
    finished = Trial.objects.filter(sweep=sweep, state__in=["complete", "pruned"]).count()
    assert len(parallel["data"][0]["dimensions"][0]["values"]) == finished


def test_it_recomputes_importance_in_constant_queries(
    client: Client, project: Project, django_assert_max_num_queries: Any
) -> None:
    sweep = make_sweep(project)
    bulk_trials(sweep, 200)
    client.force_login(project.owner)

    # The first view after a trial ends computes importance again.
    with django_assert_max_num_queries(10):
        client.get(detail_url(sweep, tab="importance"))


# In the browser -----------------------------------------------------------------------------

DRAWN = (
    "[...document.querySelectorAll('.chart-card:not(.is-empty) .chart')]"
    ".every(div => div.querySelector('.main-svg'))"
)


@pytest.mark.browser
def test_it_looks_right_wide_and_narrow(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    config = {
        **CONFIG,
        "run_cap": 40,
        "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 2},
    }
    sweep = make_sweep(
        project,
        config,
        name="resnet18-cifar10",
        description="Learning rate, batch size and dropout of ResNet-18 on CIFAR-10.",
        # Hyperband prunes many; with this seed enough complete for importance to show.
        seed=2,
    )
    for number in range(30):
        run_trial(sweep.pk, steps=16, fail=number == 11)
    assert sweep.trials.filter(state="complete").count() >= importance.MIN_TRIALS
    transition(sweep, "pause")  # still live, so the page shows its buttons and polling
    log_in(page, live_server.url, detail_url(sweep))
    page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)
    expect(page.locator(".chart-card.is-empty")).to_have_count(0)

    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=DOCS_SCREENSHOTS / "sweep-detail.png")
    for width, height in [(1280, 800), (390, 844)]:
        page.set_viewport_size({"width": width, "height": height})
        for tab in ["overview", "trials", "best", "importance", "slice", "curves"]:
            page.goto(f"{live_server.url}{detail_url(sweep, tab=tab)}")
            page.wait_for_function(DRAWN, timeout=UI_TIMEOUT_MS)
            fits(page)
            shoot(page, f"sweep-{tab}-{width}x{height}.png")
        page.goto(f"{live_server.url}{reverse('sweeps:list')}")
        fits(page)
        shoot(page, f"sweep-list-{width}x{height}.png")
    assert page.dialogs == []
