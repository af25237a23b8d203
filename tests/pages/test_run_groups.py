"""Group and job type in the runs table and on the run page; charts on a step_metric axis."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from runs.charts import figure_id
from runs.ingest import log_batch
from runs.models import Run
from tests.pages.test_run_live import UI_TIMEOUT_MS, log_in

URL = reverse("runs:project", args=["demo"])
# What htmx sends from the filters, sort links and pages (hx-target="#run-table").
HTMX = {"HX-Request": "true", "HX-Target": "run-table"}


def names_in(content: bytes) -> list[str]:
    return re.findall(r'<td class="run-name"><a href="[^"]*">([^<]*)</a>', content.decode())


def make_runs(project: Project) -> None:
    for name, group, job_type in [
        ("a-train", "exp-1", "train"),
        ("a-eval", "exp-1", "eval"),
        ("b-train", "exp-2", "train"),
        ("loose", "", ""),
    ]:
        Run.objects.create(project=project, name=name, group=group, job_type=job_type)


def test_it_shows_group_and_job_type_columns(client: Client, project: Project) -> None:
    make_runs(project)
    client.force_login(project.owner)

    content = client.get(URL, {"sort": "name"}).content

    assert b'<th scope="col">Group</th>' in content
    assert b'<th scope="col">Job type</th>' in content
    assert b'href="/p/demo/?sort=name&amp;group=exp-1" hx-get=' in content
    assert b'href="/p/demo/?sort=name&amp;job_type=eval" hx-get=' in content
    assert b'<td class="nowrap run-group"></td>' in content  # "loose" has neither
    # The filter menus list each value once, blank ones left out.
    assert content.count(b'<option value="exp-1"') == 1
    assert content.count(b'<option value="train"') == 1
    assert b'<option value="">All groups</option>' in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"group": "exp-1"}, ["a-eval", "a-train"]),
        ({"job_type": "train"}, ["a-train", "b-train"]),
        ({"group": "exp-1", "job_type": "train"}, ["a-train"]),
        ({"group": "nope"}, []),
    ],
)
def test_it_filters_by_group_and_job_type(
    client: Client, project: Project, query: dict[str, str], expected: list[str]
) -> None:
    make_runs(project)
    client.force_login(project.owner)

    response = client.get(URL, {**query, "sort": "name"}, headers=HTMX)

    assert names_in(response.content) == expected
    assert b"clear filters" in response.content or not expected


def test_it_keeps_a_filtered_page_within_its_queries(
    client: Client, project: Project, django_assert_max_num_queries: Any
) -> None:
    make_runs(project)
    Run.objects.get(name="a-train").set_tags(["t"])
    client.force_login(project.owner)

    # The filter menus (tags, groups, job types) come in one query.
    with django_assert_max_num_queries(7):
        response = client.get(URL, {"group": "exp-1"})

    assert b'<option value="t"' in response.content
    assert b'<option value="exp-1" selected>' in response.content


def test_it_shows_group_and_job_type_on_the_run_page(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="r", group="exp <1>", job_type="train")
    client.force_login(project.owner)

    content = client.get(reverse("runs:detail", args=["demo", run.pk])).content.decode()

    assert "<dt>Group</dt>" in content and "<dt>Job type</dt>" in content
    assert 'href="/p/demo/?group=exp%20%3C1%3E">exp &lt;1&gt;</a>' in content
    assert 'href="/p/demo/?job_type=train">train</a>' in content


def figures(content: bytes) -> dict[str, Any]:
    found = re.findall(
        rb'<script id="(fig-[0-9a-f]+)" type="application/json">(.*?)</script>', content, re.S
    )
    return {name.decode(): json.loads(body) for name, body in found}


def test_it_plots_a_metric_against_its_step_metric(client: Client, project: Project) -> None:
    run = Run.objects.create(project=project, name="r")
    rows = [{"step": s, "values": {"epoch": s // 2, "val/loss": 1.0 / (s + 1)}} for s in range(6)]
    rows.append({"step": 6, "values": {"val/loss": 0.1}})  # no epoch here: no x for it
    rows.append({"step": 7, "values": {"epoch": "Infinity", "val/loss": 0.05}})
    metrics = {"val/*": {"step_metric": "epoch"}, "*": {"step_metric": "val/loss"}}
    log_batch(run, {"rows": rows, "metrics": metrics})
    client.force_login(project.owner)

    found = figures(client.get(reverse("runs:detail", args=["demo", run.pk])).content)

    loss = found[figure_id("val/loss")]
    assert loss["data"][0]["x"] == [0, 0, 1, 1, 2, 2]
    assert loss["data"][0]["y"] == [1.0, 0.5, 1 / 3, 0.25, 0.2, 1 / 6]
    assert loss["layout"]["xaxis"]["title"]["text"] == "epoch"
    epoch = found[figure_id("epoch")]  # "*" would make it its own axis' partner: plain steps
    assert epoch["layout"]["xaxis"]["title"]["text"] == "val/loss"
    assert len(epoch["data"][0]["x"]) == 7


@pytest.mark.browser
def test_it_filters_the_runs_table_by_group_in_the_browser(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    make_runs(project)
    log_in(page, live_server.url, URL)
    page.evaluate("window.sameDocument = 'yes'")
    expect(page.locator("#run-table tbody tr")).to_have_count(4, timeout=UI_TIMEOUT_MS)

    page.select_option("#run-group", "exp-1")

    expect(page.locator("#run-table tbody tr")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#run-table .run-group").first).to_have_text("exp-1")
    expect(page).to_have_url(re.compile(r"[?&]group=exp-1(&|$)"), timeout=UI_TIMEOUT_MS)
    page.select_option("#run-job-type", "eval")
    expect(page.locator("#run-table .run-name")).to_have_text(["a-eval"], timeout=UI_TIMEOUT_MS)
    page.click("#run-table .run-job-type a")
    expect(page.locator("#run-table tbody tr")).to_have_count(1, timeout=UI_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument") == "yes"
    page.click("#run-table .run-name a")
    expect(page.locator("#run-facts")).to_contain_text("exp-1", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#run-facts")).to_contain_text("eval")
