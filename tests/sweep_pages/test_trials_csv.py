from __future__ import annotations

import csv
import io
from typing import Any

from django.test import Client
from django.urls import reverse

from projects.models import Project
from sweeps.models import Sweep, Trial
from sweeps.state_machine import report_result, suggest_trial
from tests.sweep_pages.helpers import CONFIG, bulk_trials, make_sweep


def url(sweep: Sweep) -> str:
    return reverse("sweeps:trials_csv", args=[sweep.pk])


def rows_of(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_it_redirects_anonymous_to_login(client: Client, sweep: Sweep) -> None:
    assert client.get(url(sweep))["Location"].startswith(reverse("login"))


def test_it_hides_sweeps_from_non_members(client: Client, sweep: Sweep, other_user: Any) -> None:
    client.force_login(other_user)

    assert client.get(url(sweep)).status_code == 404


def test_it_streams_every_trial(client: Client, sweep: Sweep, viewer: Any) -> None:
    trials = bulk_trials(sweep, 60)
    client.force_login(viewer)

    response = client.get(url(sweep))

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sweep-{sweep.pk}-trials.csv"'
    header, *rows = rows_of(response)
    assert header == [
        *("number", "state", "loss", "is_best", "run_id", "created_at", "ended_at"),
        *("lr", "batch_size", "dropout", "optimizer/name", "epochs"),
    ]
    assert len(rows) == 60
    first = dict(zip(header, rows[0], strict=True))
    assert first["number"] == "0"
    assert first["state"] == trials[0].state
    assert float(first["loss"]) == trials[0].value
    assert float(first["lr"]) == trials[0].params["lr"]
    assert first["optimizer/name"] == trials[0].params["optimizer/name"]
    failed = next(r for r in rows if r[1] == "failed")
    assert failed[2] == ""


def test_it_writes_a_column_per_objective(client: Client, project: Project) -> None:
    config = {
        **CONFIG,
        "metric": [{"name": "loss", "goal": "minimize"}, {"name": "ms", "goal": "minimize"}],
    }
    sweep = make_sweep(project, config)
    report_result(suggest_trial(sweep.pk), [0.5, 12.0])
    client.force_login(project.owner)

    header, row = rows_of(client.get(url(sweep)))

    assert header[2:4] == ["loss", "ms"]
    assert row[2:4] == ["0.5", "12.0"]


def test_it_keeps_spreadsheets_from_running_values_as_formulas(
    client: Client, project: Project
) -> None:
    config = {**CONFIG, "parameters": {"act": {"values": ["=HYPERLINK(1)", "relu"]}}}
    sweep = make_sweep(project, config)
    trial = suggest_trial(sweep.pk)
    Trial.objects.filter(pk=trial.pk).update(params={"act": "=HYPERLINK(1)"})
    client.force_login(project.owner)

    header, row = rows_of(client.get(url(sweep)))

    assert row[header.index("act")] == "'=HYPERLINK(1)"
