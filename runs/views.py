"""HTML pages about runs: a project's runs table and one run with its live charts."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet, Value
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from projects.access import get_project
from runs import history
from runs.charts import metric_charts
from runs.ids import run_id_q
from runs.metric_definitions import step_metrics
from runs.models import Run, RunState, RunTag

PAGE_SIZE = 25
SUMMARY_COLUMNS = 3
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


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_partial(request: HtmxHttpRequest) -> bool:
    # A history restore asks for the whole page again even though it comes from htmx.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_region(
    request: HtmxHttpRequest, template: str, region: str, context: dict[str, Any]
) -> HttpResponse:
    """The page, or only its `region` partial when htmx asks for it."""
    name = f"{template}#{region}" if wants_partial(request) else template
    response = render(request, name, context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


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


def format_duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def run_duration(run: Run, now: datetime) -> str:
    return format_duration((run.finished_at or now) - run.created_at)


# The runs table ------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilters:
    """What the runs table shows, read from the query string; bad values mean "all"."""

    q: str = ""
    state: str = ""
    tag: str = ""
    group: str = ""
    job_type: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> RunFilters:
        state = query.get("state", "")
        sort = query.get("sort", "")
        return cls(
            q=query.get("q", "").strip(),
            state=state if state in RunState.values else "",
            tag=query.get("tag", "").strip(),
            group=query.get("group", "").strip(),
            job_type=query.get("job_type", "").strip(),
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.state or self.tag or self.group or self.job_type)

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        if self.q:
            runs = runs.filter(name__icontains=self.q)
        if self.state:
            runs = runs.filter(state=self.state)
        if self.tag:
            # (run, name) is unique, so this join never repeats a run.
            runs = runs.filter(tags__name=self.tag)
        if self.group:
            runs = runs.filter(group=self.group)
        if self.job_type:
            runs = runs.filter(job_type=self.job_type)
        return runs.order_by(*SORTS[self.sort])


@dataclass(frozen=True)
class SortLink:
    label: str
    sort: str  # the sort this header's link asks for
    direction: str  # "ascending", "descending" or "" when the table is sorted by another column


def sort_links(current: str) -> dict[str, SortLink]:
    """Each sortable column's header link: a click on the sorted column flips it."""
    links = {}
    for column, label in SORT_COLUMNS:
        if current == column:
            links[column] = SortLink(label, f"-{column}", "ascending")
        elif current == f"-{column}":
            links[column] = SortLink(label, column, "descending")
        else:
            # Newest first is what one wants from dates; A to Z from the rest.
            first = f"-{column}" if column == "created" else column
            links[column] = SortLink(label, first, "")
    return links


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
        "states": RunState.choices,
    }
    if not wants_partial(request):
        context.update(filter_choices(project.pk))
    return render_region(request, "runs/project_runs.html", "run-table", context)


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
    for menu, value in rows:
        choices[menu].append(value)
    return {menu: sorted(values) for menu, values in choices.items()}


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
    if wants_partial(request):
        html = render_to_string("runs/run_detail.html#run-live", {**context, "oob": True}, request)
        # The last answer still carries the final data; 286 tells htmx to stop asking.
        response = HttpResponse(html) if run.is_running else HttpResponseStopPolling(html)
        patch_vary_headers(response, ["HX-Request"])
        return response
    context["config_rows"] = flatten(run.config or {})
    context["summary_rows"] = sorted(flatten(run.summary or {}))
    response = render(request, "runs/run_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
