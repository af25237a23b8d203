from __future__ import annotations

import json
from html import escape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.access import create_project
from projects.models import Project, Role
from sweeps.forms import EXAMPLE_CONFIG
from sweeps.models import Sweep
from tests.sweep_pages.helpers import HTMX, UI_TIMEOUT_MS, fits, log_in, shoot

URL = reverse("sweeps:project_new", args=["demo"])
ANY_PROJECT_URL = reverse("sweeps:new")
FORM = {**HTMX, "HX-Target": "sweep-form"}
GOOD = """\
# tuned by hand first
method: random
metric:
  name: val_loss
  goal: minimize
parameters:
  lr:
    min: 0.0001
    max: 0.1
  layers:
    values: [2, 4]
"""
BAD = """\
method: random
metric: {name: loss, goal: minimise}
parameters:
  lr:
    min: 0.1
    max: 0.01
  depth:
    values: []
"""


def post(client: Client, url: str = URL, headers: Any = None, **fields: Any) -> Any:
    data = {"config_text": GOOD, "name": "", "description": "", **fields}
    return client.post(url, data, headers=headers or {})


def test_it_redirects_anonymous_to_login(client: Client, project: Project) -> None:
    for url in (URL, ANY_PROJECT_URL):
        assert client.get(url)["Location"].startswith(reverse("login"))
        assert client.post(url)["Location"].startswith(reverse("login"))


def test_it_hides_projects_from_non_members(
    client: Client, project: Project, other_user: Any
) -> None:
    client.force_login(other_user)

    assert client.get(URL).status_code == 404
    assert post(client).status_code == 404


def test_it_refuses_viewers(client: Client, project: Project, viewer: Any) -> None:
    client.force_login(viewer)

    assert client.get(URL).status_code == 403
    assert post(client).status_code == 403
    assert post(client, ANY_PROJECT_URL, project=project.pk).status_code == 403
    assert not Sweep.objects.exists()


def test_it_prefills_a_working_example(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    response = client.get(URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert escape(EXAMPLE_CONFIG, quote=False) in content
    assert 'class="code-editor"' in content
    assert f'hx-post="{URL}"' in content
    # The example works as it stands.
    assert post(client, config_text=EXAMPLE_CONFIG).status_code == 302


def test_it_creates_a_sweep_and_goes_to_it(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    response = post(client, name="first", description="Why not.")

    sweep = Sweep.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sweeps:detail", args=[sweep.pk])
    assert (sweep.project, sweep.name, sweep.description) == (project, "first", "Why not.")
    assert sweep.method == "random"
    assert sweep.metric == [{"name": "val_loss", "goal": "minimize", "target": None}]
    # Nothing was overridden: the text is kept as typed, comment and all.
    assert sweep.config_text == GOOD


def test_it_sends_htmx_to_the_sweep_with_hx_location(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    response = post(client, headers=FORM)

    sweep = Sweep.objects.get()
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == reverse("sweeps:detail", args=[sweep.pk])


def test_it_lets_the_fields_override_the_config(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    post(client, method="bayes", metric_name="acc", metric_goal="maximize", run_cap="12")

    sweep = Sweep.objects.get()
    assert sweep.method == "bayes"
    assert sweep.metric == [{"name": "acc", "goal": "maximize", "target": None}]
    assert sweep.run_cap == 12
    # What is shown is what runs: the stored text has the overrides in it.
    assert "method: bayes" in sweep.config_text
    assert "run_cap: 12" in sweep.config_text


def test_it_shows_every_problem_next_to_the_editor_and_keeps_the_text(
    client: Client, project: Project
) -> None:
    client.force_login(project.owner)

    response = post(client, headers=FORM, config_text=BAD, name="keep me")

    content = response.content.decode()
    assert response.status_code == 200
    assert not Sweep.objects.exists()
    assert "<html" not in content  # only the form region
    assert 'id="config-problems"' in content
    assert "The config has 3 problems" in content
    assert (
        '<code class="problem-path">parameters.lr.max</code>: must be greater than min (0.1)'
        in (content)
    )
    assert '<code class="problem-path">metric.goal</code>' in content
    assert '<code class="problem-path">parameters.depth.values</code>' in content
    assert escape(BAD, quote=False) in content
    assert 'value="keep me"' in content
    assert 'aria-describedby="config-problems"' in content


def test_it_shows_a_syntax_error_with_its_line(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    response = post(client, config_text="method: random\nparameters: [oops\n")

    assert response.status_code == 200
    assert "line 3" in response.content.decode() or "line 2" in response.content.decode()
    assert not Sweep.objects.exists()


def test_it_checks_the_form_fields_too(client: Client, project: Project) -> None:
    client.force_login(project.owner)

    response = post(client, run_cap="0", config_text="")

    content = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in content
    assert "This field is required." in content
    assert not Sweep.objects.exists()


def test_it_asks_for_the_project_on_the_all_projects_form(
    client: Client, project: Project, user: Any, other_user: Any, member: Any
) -> None:
    viewed = create_project(other_user, "viewed", "Only viewed")
    viewed.memberships.create(user=user, role=Role.VIEWER)
    second = create_project(user, "second", "Second")
    client.force_login(user)

    page = client.get(ANY_PROJECT_URL, {"project": "second"}).content.decode()
    response = post(client, ANY_PROJECT_URL, project=second.pk)

    assert f'<option value="{second.pk}" selected>Second</option>' in page
    assert "Only viewed" not in page
    assert Sweep.objects.get().project == second
    assert response.status_code == 302


def test_it_says_when_no_project_may_get_a_sweep(client: Client, other_user: Any) -> None:
    client.force_login(other_user)

    assert "No project to create it in" in client.get(ANY_PROJECT_URL).content.decode()


def test_it_copies_a_sweep(client: Client, project: Project) -> None:
    client.force_login(project.owner)
    post(client, name="original", description="The first try.")
    source = Sweep.objects.get()

    response = client.get(URL, {"copy": source.pk})

    content = response.content.decode()
    assert 'value="original (copy)"' in content
    assert "The first try." in content
    assert escape(GOOD, quote=False) in content
    assert "# tuned by hand first" in content
    assert f'href="{reverse("sweeps:detail", args=[source.pk])}"' in content
    assert f'hx-post="{URL}?copy={source.pk}"' in content


def test_it_copies_only_sweeps_one_may_see(
    client: Client, project: Project, other_user: Any
) -> None:
    theirs = create_project(other_user, "theirs", "Theirs")
    client.force_login(other_user)
    post(client, reverse("sweeps:project_new", args=["theirs"]), name="secret")
    secret = Sweep.objects.get(project=theirs)
    client.force_login(project.owner)

    assert client.get(URL, {"copy": secret.pk}).status_code == 404


# In the browser -----------------------------------------------------------------------------


@pytest.mark.browser
def test_it_creates_a_sweep_through_the_form(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    log_in(page, live_server.url, URL)
    page.evaluate("window.sameDocument = 'yes'")

    page.fill("#id_name", "form-made")
    page.fill("#id_config_text", GOOD)
    page.fill("#id_run_cap", "20")
    page.click("text=Create sweep")

    expect(page.locator("h1")).to_have_text("form-made", timeout=UI_TIMEOUT_MS)
    sweep = Sweep.objects.get()
    expect(page).to_have_url(f"{live_server.url}{reverse('sweeps:detail', args=[sweep.pk])}")
    expect(page.locator(".messages")).to_contain_text("Sweep “form-made” created.")
    expect(page.locator("#sweep-stats .next-step")).to_contain_text(
        f"sweeptracker agent {sweep.pk}"
    )
    # HX-Location brought the page in without a reload, and its charts still work.
    assert page.evaluate("window.sameDocument") == "yes"
    page.wait_for_function("window.Plotly !== undefined", timeout=UI_TIMEOUT_MS)
    expect(page.locator(".chart-card.is-empty")).to_have_count(3)
    assert sweep.run_cap == 20
    assert page.dialogs == []


@pytest.mark.browser
def test_it_shows_config_problems_inline_and_keeps_the_text(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    log_in(page, live_server.url, URL)

    page.fill("#id_name", "typo")
    page.fill("#id_config_text", BAD)
    page.click("text=Create sweep")

    problems = page.locator("#config-problems")
    expect(problems).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(problems).to_contain_text("parameters.lr.max: must be greater than min (0.1)")
    expect(problems.locator("li")).to_have_count(3)
    expect(page.locator("#id_config_text")).to_have_value(BAD)
    expect(page.locator("#id_name")).to_have_value("typo")
    expect(page).to_have_url(f"{live_server.url}{URL}")
    assert not Sweep.objects.exists()
    fits(page)
    shoot(page, "sweep-new-errors-1280x800.png")
    page.set_viewport_size({"width": 390, "height": 844})
    fits(page)
    shoot(page, "sweep-new-errors-390x844.png")
