from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from projects.access import create_project
from projects.models import Project, Role
from runs.charts import figure_id
from runs.ingest import log_batch
from runs.lifecycle import finish_run
from runs.models import Run

# What the live page's poll sends (its hx-get is on #run-live itself).
HTMX = {"HX-Request": "true", "HX-Target": "run-live"}
XSS = "<img src=x onerror=alert(1)>"


def url(run: Run) -> str:
    return reverse("runs:detail", args=[run.project.slug, run.pk])


def log_steps(run: Run, steps: range, **values: float | str) -> None:
    rows = [
        {"step": step, "time": 1.0 + step, "values": values or {"loss": 1 / (step + 1)}}
        for step in steps
    ]
    log_batch(run, {"rows": rows})


def figures(content: bytes) -> dict[str, Any]:
    """The json_script figures of a response, by element id."""
    found = re.findall(
        rb'<script id="(fig-[0-9a-f]+)" type="application/json">(.*?)</script>', content, re.S
    )
    return {name.decode(): json.loads(body) for name, body in found}


def test_it_redirects_anonymous_to_login(client: Client, run: Run) -> None:
    response = client.get(url(run))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_runs_from_non_members(client: Client, run: Run, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(url(run)).status_code == 404
    assert client.get(url(run), headers=HTMX).status_code == 404


def test_it_needs_the_run_to_belong_to_the_project_in_the_url(
    client: Client, run: Run, user: Any
) -> None:
    create_project(user, "elsewhere", "Elsewhere")
    client.force_login(user)

    response = client.get(reverse("runs:detail", args=["elsewhere", run.pk]))

    assert response.status_code == 404


def test_it_shows_the_run(client: Client, run: Run, other_user: Any, member: Any) -> None:
    run.config = {"lr": 0.1, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}}
    run.notes = "Trying a smaller\nlearning rate."
    run.save()
    run.set_tags(["baseline"])
    log_batch(run, {"summary": {"best": float("inf"), "worst": float("-inf"), "acc": 0.5}})
    log_steps(run, range(3))
    log_steps(run, range(2), acc=0.5)
    member(other_user, Role.VIEWER)
    client.force_login(other_user)

    response = client.get(url(run))

    assert response.status_code == 200
    content = response.content
    assert b'href="/"' in content and b'href="/p/demo/"' in content  # breadcrumbs
    assert b"first-run" in content
    assert b"badge-running" in content
    assert b"baseline" in content
    assert b"Trying a smaller<br>learning rate." in content
    assert b"optimizer.name" in content and b"adam" in content
    assert b"optimizer.betas" in content and b"[0.9, 0.999]" in content
    assert b">inf<" in content and b">-inf<" in content
    assert b"plotly/plotly.min.js" in content
    assert b"js/charts.js" in content
    assert b'hx-trigger="every 5s"' in content
    found = figures(content)
    assert set(found) == {figure_id("loss"), figure_id("acc")}
    loss = found[figure_id("loss")]
    assert loss["data"][0]["x"] == [0, 1, 2]
    assert loss["layout"]["uirevision"] == "loss"
    assert loss["config"] == {"responsive": True, "displaylogo": False}
    assert b'js-charts-empty" hidden>' in content


def test_it_draws_nan_and_inf_as_gaps(client: Client, run: Run) -> None:
    log_batch(
        run,
        {
            "rows": [
                {"step": 0, "values": {"loss": 1.0}},
                {"step": 1, "values": {"loss": "NaN"}},
                {"step": 2, "values": {"loss": "Infinity"}},
                {"step": 3, "values": {"loss": 0.5}},
            ]
        },
    )
    client.force_login(run.project.owner)

    response = client.get(url(run))

    assert response.status_code == 200
    assert figures(response.content)[figure_id("loss")]["data"][0]["y"] == [1.0, None, None, 0.5]


def test_it_says_when_nothing_was_logged(client: Client, run: Run) -> None:
    client.force_login(run.project.owner)

    response = client.get(url(run))

    assert "No metrics logged yet — call <code>run.log({...})</code> in your script." in (
        response.content.decode()
    )
    assert figures(response.content) == {}


def test_it_polls_with_the_figure_data_only(client: Client, run: Run) -> None:
    log_steps(run, range(5))
    client.force_login(run.project.owner)

    response = client.get(url(run), headers=HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"<table" not in response.content
    assert b"chart-grid" not in response.content
    assert figures(response.content)[figure_id("loss")]["data"][0]["x"] == [0, 1, 2, 3, 4]
    # State and times travel along out of band.
    assert b'id="run-facts"' in response.content
    assert b'hx-swap-oob="true"' in response.content
    assert "HX-Request" in response["Vary"]


def test_it_stops_polling_once_the_run_ended(client: Client, run: Run) -> None:
    log_steps(run, range(3))
    finish_run(run, exit_code=0)
    client.force_login(run.project.owner)

    poll = client.get(url(run), headers=HTMX)
    page = client.get(url(run))

    assert poll.status_code == 286
    assert figures(poll.content)[figure_id("loss")]["data"][0]["x"] == [0, 1, 2]
    assert b"badge-finished" in poll.content
    assert b"hx-trigger" not in page.content
    assert b"badge-finished" in page.content


def test_it_escapes_metric_keys_everywhere(client: Client, run: Run) -> None:
    log_batch(run, {"rows": [{"step": 0, "values": {XSS: 1.0}}], "summary": {XSS: 2}})
    run.config = {XSS: XSS}
    run.name = XSS
    run.save()
    run.set_tags([XSS])
    client.force_login(run.project.owner)

    for response in (client.get(url(run)), client.get(url(run), headers=HTMX)):
        assert XSS.encode() not in response.content
        figure = figures(response.content)[figure_id(XSS)]
        assert figure["key"] == XSS
        # Plotly reads titles and trace names as markup: they travel escaped.
        assert figure["layout"]["title"]["text"] == "&lt;img src=x onerror=alert(1)&gt;"
        assert figure["data"][0]["name"] == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize("points", [10, 5000])
def test_it_uses_the_same_queries_for_any_number_of_points(
    client: Client, project: Project, points: int, django_assert_max_num_queries: Any
) -> None:
    run = Run.objects.create(project=project, name="long-one")
    log_steps(run, range(points // 2), loss=0.5, acc=0.9)
    for i in range(5):
        Run.objects.create(project=project, name=f"neighbour-{i}")
    client.force_login(project.owner)

    with django_assert_max_num_queries(6):
        page = client.get(url(run))
    with django_assert_max_num_queries(5):
        poll = client.get(url(run), headers=HTMX)

    assert len(figures(page.content)[figure_id("loss")]["data"][0]["x"]) == points // 2
    assert len(figures(poll.content)[figure_id("acc")]["data"][0]["y"]) == points // 2
