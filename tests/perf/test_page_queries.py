"""The sweep page reads the same number of queries whatever the sweep's size.

Populating 10,000 trials here would take minutes; 300 against 10 already shows
whether any query runs per trial (bench/pages.py measures 10,000).
"""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Project
from sweeps import importance
from sweeps.models import Sweep
from tests.sweep_pages.helpers import HTMX, bulk_trials, detail_url, make_sweep

TABS = ["overview", "trials", "best", "importance", "parallel", "history", "slice", "curves"]
TABLE_QUERIES = [
    {"tab": "trials"},
    {"tab": "trials", "sort": "value"},
    {"tab": "trials", "sort": "-p.lr"},
    {"tab": "trials", "state": "complete", "page": "2"},
    {"tab": "trials", "trial": "3"},
]


def sized_sweep(project: Project, count: int) -> Sweep:
    sweep = make_sweep(project, name=f"size-{count}")
    bulk_trials(sweep, count, steps=5)
    # Importance is cached per sweep version: warm it so both sizes read the cache.
    importance.cached_or_compute(sweep)
    return sweep


def queries(client: Client, url: str, headers: dict[str, str] | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, url
    return [q["sql"] for q in captured.captured_queries]


def test_it_reads_as_many_queries_for_300_trials_as_for_10(
    client: Client, project: Project
) -> None:
    small, large = sized_sweep(project, 10), sized_sweep(project, 300)
    client.force_login(project.owner)
    client.get(detail_url(small))  # the session's first read is not the page's

    pages = [{"tab": tab} for tab in TABS] + TABLE_QUERIES
    for query in pages:
        for headers in (None, {**HTMX, "HX-Target": "tab-body"}):
            few = queries(client, detail_url(small, **query), headers)
            many = queries(client, detail_url(large, **query), headers)
            assert len(many) == len(few), (query, headers, many)
    live = [
        len(queries(client, reverse("sweeps:live", args=[sweep.pk]) + "?tab=overview", HTMX))
        for sweep in (small, large)
    ]
    assert live[0] == live[1]
