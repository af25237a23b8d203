from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import Run
from sweeps.models import Sweep, Trial
from tests.sweep_pages.helpers import (
    HTMX,
    UI_TIMEOUT_MS,
    XSS,
    accept_dialogs,
    log_in,
    make_sweep,
    row_target,
    run_trial,
)


def url(sweep: Sweep) -> str:
    return reverse("sweeps:delete", args=[sweep.pk])


def test_it_redirects_anonymous_to_login(client: Client, sweep: Sweep) -> None:
    assert client.post(url(sweep))["Location"].startswith(reverse("login"))


def test_it_hides_sweeps_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(url(sweep)).status_code == 404
    assert client.post(url(sweep)).status_code == 404
    assert Sweep.objects.filter(pk=sweep.pk).exists()


def test_it_refuses_viewers(client: Client, sweep: Sweep, viewer: Any) -> None:
    client.force_login(viewer)

    assert client.get(url(sweep)).status_code == 403
    assert client.post(url(sweep)).status_code == 403
    assert Sweep.objects.filter(pk=sweep.pk).exists()


def test_it_asks_first_without_javascript(client: Client, project: Any) -> None:
    sweep = make_sweep(project, name=XSS)
    client.force_login(project.owner)

    response = client.get(url(sweep))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Delete the sweep “&lt;img src=x onerror=alert(1)&gt;”?" in content
    assert f'<form method="post" action="{url(sweep)}"' in content
    assert Sweep.objects.filter(pk=sweep.pk).exists()


def test_it_offers_a_confirmed_htmx_delete_in_each_row(client: Client, sweep: Sweep) -> None:
    client.force_login(sweep.project.owner)

    content = client.get(reverse("sweeps:list")).content.decode()

    assert f'href="{url(sweep)}"' in content
    assert f'hx-post="{url(sweep)}"' in content
    assert 'hx-confirm="Delete the sweep “lr-search”?' in content
    assert 'hx-target="closest tr"' in content


def test_it_deletes_and_keeps_the_runs(client: Client, sweep: Sweep) -> None:
    trial = run_trial(sweep.pk)
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep), follow=True)

    assert response.redirect_chain[-1][0] == reverse("sweeps:project_list", args=["demo"])
    assert "Sweep “lr-search” deleted. Its runs stay in the project." in response.content.decode()
    assert not Sweep.objects.filter(pk=sweep.pk).exists()
    assert not Trial.objects.exists()
    assert Run.objects.filter(pk=trial.run_id).exists()


def test_it_answers_a_row_delete_with_nothing(client: Client, sweep: Sweep, editor: Any) -> None:
    client.force_login(editor)

    response = client.post(url(sweep), headers=row_target(sweep))

    assert response.status_code == 200
    assert response.content == b""
    assert not Sweep.objects.filter(pk=sweep.pk).exists()


def test_it_sends_an_htmx_delete_from_the_sweep_page_to_the_list(
    client: Client, sweep: Sweep
) -> None:
    client.force_login(sweep.project.owner)

    response = client.post(url(sweep), headers=HTMX)

    assert response.status_code == 200
    assert '"path": "/p/demo/sweeps/"' in response["HX-Location"]


@pytest.mark.browser
def test_it_asks_then_removes_the_row(
    page: Any, live_server: Any, transactional_db: None, project: Any
) -> None:
    doomed = make_sweep(project, name="doomed")
    make_sweep(project, name="kept")
    list_url = reverse("sweeps:project_list", args=["demo"])
    log_in(page, live_server.url, list_url)
    accept_dialogs(page)
    rows = page.locator("#sweep-table tbody tr")
    expect(rows).to_have_count(2)

    page.locator(f"#sweep-{doomed.pk} .js-delete").click()

    expect(rows).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(rows.first).to_contain_text("kept")
    expect(page).to_have_url(f"{live_server.url}{list_url}")
    assert page.dialogs == [
        "Delete the sweep “doomed”? Its trials are deleted; their runs stay in the project."
    ]
    assert not Sweep.objects.filter(pk=doomed.pk).exists()
