"""The run page of a sweep's trial leads back to its sweep and trial."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.models import Run
from sweeps.models import Sweep
from tests.sweep_pages.helpers import XSS, make_sweep, run_trial


def test_it_links_a_trials_run_back_to_its_sweep_and_trial(client: Client, project: Any) -> None:
    sweep = make_sweep(project, name=XSS)
    run_trial(sweep.pk)
    trial = run_trial(sweep.pk)
    client.force_login(project.owner)

    content = client.get(reverse("runs:detail", args=["demo", trial.run_id])).content.decode()

    back = f"{reverse('sweeps:detail', args=[sweep.pk])}?tab=trials&amp;trial=1#trial-1"
    assert (
        f'<li><a href="{back}">Sweep &lt;img src=x onerror=alert(1)&gt; · trial #1</a></li>'
        in content
    )
    assert f'href="{back}">back to its trial</a>' in content
    assert "<img src=x" not in content


def test_it_shows_no_sweep_on_a_plain_run(client: Client, run: Run) -> None:
    client.force_login(run.project.owner)

    content = client.get(reverse("runs:detail", args=["demo", run.pk])).content.decode()

    assert "Sweep " not in content
    assert "back to its trial" not in content


def test_it_reads_the_sweep_in_the_same_query_as_the_run(client: Client, sweep: Sweep) -> None:
    trial = run_trial(sweep.pk)
    plain = Run.objects.create(project=sweep.project, name="plain")
    client.force_login(sweep.project.owner)
    client.get(reverse("runs:detail", args=["demo", plain.pk]))  # warm the session

    with CaptureQueriesContext(connection) as plain_queries:
        client.get(reverse("runs:detail", args=["demo", plain.pk]))
    with CaptureQueriesContext(connection) as trial_queries:
        client.get(reverse("runs:detail", args=["demo", trial.run_id]))

    assert len(trial_queries) == len(plain_queries)
