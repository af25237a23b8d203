"""HTML pages about runs: a project's runs table and one run with its live charts."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet, Value
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from projects.access import get_project
from runs import history
from runs.charts import metric_charts
from runs.ids import run_id_q
from runs.metric_definitions import step_metrics
from runs.models import Run, RunState, RunTag
from runs.run_filters import RUN_LIST
from sweeptracker.htmx import HtmxHttpRequest, render_poll, render_region, targets
from sweeptracker.list_filters import ListFilters
from sweeptracker.pages import (
    Menu,
    PageFilters,
    SortLink,
    choice,
    duration_text,
    menu,
    sort_link,
)

PAGE_SIZE = 25
SUMMARY_COLUMNS = 3
# The regions htmx swaps: the table of the runs page, the poll of a run's page.
TABLE = "run-table"
LIVE = "run-live"
# Seconds between a live run page's polls; the page tells the user, so it lives here once.
POLL_SECONDS = 5
DEFAULT_SORT = "-created"
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "state": ("state", "-created_at", "-id"),
    "-state": ("-state", "-created_at", "-id"),
}
SORT_COLUMNS = [("name", "Name"), ("state", "State"), ("created", "Created")]
# Summary values sent as strings because JSON cannot carry them (runs.values.to_wire).
WIRE_NUMBERS = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


# Display helpers -----------------------------------------------------------------


def display_value(value: Any) -> str:
    """A config or summary value as a person reads it; inf and NaN never raise."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    if isinstance(value, str):
        return WIRE_NUMBERS.get(value, value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts as ("a.b.c", value) rows, so a deep config reads as one table."""
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flatten(value, f"{path}."))
        else:
            rows.append((path, display_value(value)))
    return rows


def run_duration(run: Run, now: datetime) -> str:
    return duration_text(run.created_at, run.finished_at, now)


# The runs table ------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilters(PageFilters):
    """What the runs table shows, read from the query string; bad values mean "all"."""

    # The API's runs list's filters, ?q= for its search; the project is the page's own.
    FILTERS: ClassVar[ListFilters] = RUN_LIST.only(
        "search", "state", "tag", "group", "job_type"
    ).renamed(search="q")
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> RunFilters:
        return cls(cls.read(query), sort=choice(query, "sort", SORTS, DEFAULT_SORT))

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        return self.filter(runs).order_by(*SORTS[self.sort])


def sort_links(current: str) -> dict[str, SortLink]:
    """Each sortable column's header link; newest first is what one wants from dates,
    A to Z from the rest."""
    return {
        column: sort_link(current, column, label, f"-{column}" if column == "created" else "")
        for column, label in SORT_COLUMNS
    }


@dataclass(frozen=True)
class RunRow:
    run: Run
    duration: str
    summary: list[str]


def summary_keys(runs: list[Run]) -> list[str]:
    """The summary keys most runs on the page share; "_"-keys are the client's own."""
    counts = Counter(
        key for run in runs for key in (run.summary or {}) if not str(key).startswith("_")
    )
    ranked = sorted(counts, key=lambda key: (-counts[key], key))
    return ranked[:SUMMARY_COLUMNS]


@require_GET
@login_required
def project_runs(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A project's runs; filters, sort and pages refresh only the run-table region."""
    project = get_project(request.user, slug)
    filters = RunFilters.from_query(request.GET)
    runs = filters.apply(Run.objects.filter(project=project).prefetch_related("tags"))
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    page_runs = list(page.object_list)
    keys = summary_keys(page_runs)
    now = timezone.now()
    rows = [
        RunRow(
            run=run,
            duration=run_duration(run, now),
            summary=[display_value((run.summary or {}).get(key)) for key in keys],
        )
        for run in page_runs
    ]
    context = {
        "project": project,
        "base_url": reverse("runs:project", args=[project.slug]),
        "filters": filters,
        "page": page,
        "rows": rows,
        "summary_keys": keys,
        "sort_links": sort_links(filters.sort),
    }
    # The filter menus sit outside the table region: only the whole page needs them.
    if not targets(request, TABLE):
        context["menus"] = filter_menus(project.pk, filters)
    return render_region(request, "runs/project_runs.html", TABLE, context)


def filter_menus(project_id: int, filters: RunFilters) -> list[Menu]:
    """The state menu, and the project's tags, groups and job types (in one query)."""
    found = filter_choices(project_id)
    tag, group, job_type = (filters.values.get(name, "") for name in ("tag", "group", "job_type"))
    return [
        Menu("run-state", "State", "state", RunState.choices, filters.values.get("state", "")),
        Menu("run-tag", "Tag", "tag", menu(found["tags"], tag), tag),
        Menu("run-group", "Group", "group", menu(found["groups"], group), group),
        Menu("run-job-type", "Job type", "job_type", menu(found["job_types"], job_type), job_type),
    ]


def filter_choices(project_id: int) -> dict[str, list[str]]:
    """The project's tags, groups and job types for the filter menus, in one query."""
    runs = Run.objects.filter(project_id=project_id).order_by()
    tags = RunTag.objects.filter(run__project_id=project_id).order_by()
    # UNION drops the repeats; the first column says which menu a value belongs to.
    rows = tags.values_list(Value("tags"), "name").union(
        runs.exclude(group="").values_list(Value("groups"), "group"),
        runs.exclude(job_type="").values_list(Value("job_types"), "job_type"),
    )
    choices: dict[str, list[str]] = {"tags": [], "groups": [], "job_types": []}
    for name, value in rows:
        choices[name].append(value)
    return {name: sorted(values) for name, values in choices.items()}


# One run -------------------------------------------------------------------------


@require_GET
@login_required
def run_detail(request: HtmxHttpRequest, slug: str, run_id: str) -> HttpResponse:
    """A run (by pk or explicit id) with its charts; while it runs, htmx polls here for
    fresh figure data."""
    project = get_project(request.user, slug)
    # A sweep's run links back to its sweep and trial; the string relation keeps runs
    # from importing sweeps.
    run = get_object_or_404(
        Run.objects.select_related("trial__sweep"), run_id_q(run_id), project=project
    )
    series = history.series_by_key(run)
    context: dict[str, Any] = {
        "project": project,
        "run": run,
        "charts": metric_charts(series, step_metrics(run.metric_definitions, list(series))),
        "duration": run_duration(run, timezone.now()),
        "poll_seconds": POLL_SECONDS,
    }
    if targets(request, LIVE):
        return render_poll(request, "runs/run_detail.html", LIVE, context, live=run.is_running)
    context["config_rows"] = flatten(run.config or {})
    context["summary_rows"] = sorted(flatten(run.summary or {}))
    return render_region(request, "runs/run_detail.html", LIVE, context)
