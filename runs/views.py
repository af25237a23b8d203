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
from django.db.models import Case, CharField, F, OrderBy, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTransform
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
from sweeptracker.list_filters import ListFilter, ListFilters
from sweeptracker.pages import (
    Menu,
    PageFilters,
    SortLink,
    duration_text,
    menu,
    sort_link,
)

PAGE_SIZE = 25
# The most common summary keys the table shows besides the metrics of its runs' sweeps.
SUMMARY_COLUMNS = 3
# At most this many metric columns, picked or offered: a summary may hold hundreds of keys.
MAX_COLUMNS = 40
MAX_KEY = 255
# The regions htmx swaps: the table of the runs page, the poll of a run's page.
TABLE = "run-table"
LIVE = "run-live"
# The column picker's id: htmx names it (HX-Trigger) when a pick asks for the table.
PICKER = "column-picker"
# Seconds between a live run page's polls; the page tells the user, so it lives here once.
POLL_SECONDS = 5
# A run whose sweep trial was pruned ended on purpose, early: the pages say "pruned". It
# is the sweeps app's TrialState.PRUNED, named here because runs never imports sweeps.
PRUNED = "pruned"
STATE_CHOICES = [*RunState.choices, (PRUNED, "Pruned")]
DEFAULT_SORT = "-created"
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "state": ("shown_state", "-created_at", "-id"),
    "-state": ("-shown_state", "-created_at", "-id"),
    # Runs outside any sweep go last either way, on both databases.
    "sweep": (F("sweep_name").asc(nulls_last=True), "trial_number", "id"),
    "-sweep": (F("sweep_name").desc(nulls_last=True), "-trial_number", "-id"),
}
SORT_COLUMNS = [
    ("name", "Name"),
    ("state", "State"),
    ("sweep", "Sweep"),
    ("created", "Created"),
]
# A metric column's sort: "summary.<key>", "-summary.<key>" descending.
SUMMARY_SORT = "summary."
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


def shown_state() -> Case:
    """A run's state as the pages show it: "pruned" once a run whose sweep trial was pruned
    has ended (finished, killed or failed on being told to stop), else its own state."""
    pruned = Q(trial__state=PRUNED) & ~Q(state=RunState.RUNNING)
    return Case(When(pruned, then=Value(PRUNED)), default=F("state"), output_field=CharField())


def run_state(run: Run) -> str:
    """`shown_state` of one run loaded with its trial (select_related)."""
    trial = getattr(run, "trial", None)
    if trial is not None and trial.state == PRUNED and not run.is_running:
        return PRUNED
    return run.state


def table_runs(runs: QuerySet[Run]) -> QuerySet[Run]:
    """The runs with what the table shows of their sweep, joined in the same query."""
    return runs.annotate(
        shown_state=shown_state(),
        sweep_key=F("trial__sweep_id"),
        sweep_name=F("trial__sweep__name"),
        trial_number=F("trial__number"),
        sweep_metric=F("trial__sweep__metric"),
    )


def read_sort(query: QueryDict) -> str:
    """One of SORTS, or a metric column's ("summary.<key>"); the default otherwise."""
    sort = query.get("sort", "")
    key = sort.removeprefix("-").removeprefix(SUMMARY_SORT)
    if sort in SORTS or (
        sort.removeprefix("-").startswith(SUMMARY_SORT) and 0 < len(key) <= MAX_KEY
    ):
        return sort
    return DEFAULT_SORT


def ordering(sort: str) -> list[OrderBy | str]:
    if sort in SORTS:
        return list(SORTS[sort])
    descending = sort.startswith("-")
    key = sort.removeprefix("-").removeprefix(SUMMARY_SORT)
    # Runs without the key go last either way; JSON orders numbers numerically on both
    # databases.
    value = OrderBy(KeyTransform(key, "summary"), descending=descending, nulls_last=True)
    return [value, OrderBy(F("pk"), descending=descending)]


def read_columns(query: QueryDict) -> tuple[str, ...] | None:
    """The metric columns the user picked (?columns=, repeated), or None: the default ones.
    A pick always sends one empty `columns`, so that picking none is a choice too."""
    if "columns" not in query:
        return None
    picked = (key for key in query.getlist("columns") if key and len(key) <= MAX_KEY)
    return tuple(dict.fromkeys(picked))[:MAX_COLUMNS]


@dataclass(frozen=True)
class RunFilters(PageFilters):
    """What the runs table shows, read from the query string; bad values mean "all"."""

    # The API's runs list's filters, ?q= for its search; the project is the page's own. The
    # state is the shown one (pruned included), which the page reads from its annotation.
    FILTERS: ClassVar[ListFilters] = ListFilters(
        *RUN_LIST.only("search", "tag", "group", "job_type", "sweep").renamed(search="q"),
        ListFilter.of("state", "shown_state", [value for value, _ in STATE_CHOICES]),
    )
    sort: str = DEFAULT_SORT
    columns: tuple[str, ...] | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> RunFilters:
        return cls(cls.read(query), sort=read_sort(query), columns=read_columns(query))

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        return self.filter(table_runs(runs)).order_by(*ordering(self.sort))


def sort_links(current: str, keys: list[str]) -> dict[str, SortLink]:
    """Each sortable column's header link, the metric columns' by "summary.<key>"; newest
    first is what one wants from dates, A to Z (or low to high) from the rest."""
    links = {
        column: sort_link(current, column, label, f"-{column}" if column == "created" else "")
        for column, label in SORT_COLUMNS
    }
    for key in keys:
        links[f"{SUMMARY_SORT}{key}"] = sort_link(current, f"{SUMMARY_SORT}{key}", key)
    return links


@dataclass(frozen=True)
class RunRow:
    run: Run
    duration: str
    summary: list[str]


@dataclass(frozen=True)
class MetricColumn:
    key: str
    sort: SortLink

    @property
    def title(self) -> str:
        return f"summary: {self.key}"


def common_keys(runs: list[Run]) -> list[str]:
    """The summary keys of the page's runs, the most common first; "_"-keys are the
    client's own."""
    counts = Counter(
        key for run in runs for key in (run.summary or {}) if not str(key).startswith("_")
    )
    return sorted(counts, key=lambda key: (-counts[key], key))


def sweep_metrics(runs: list[Run]) -> list[str]:
    """The metric names of the sweeps the page's runs belong to (`table_runs` joins them),
    so a sweep's objective is a column wherever its runs are listed."""
    names: list[str] = []
    for run in runs:
        # Why the type: ignore below: sweep_metric: an annotation of table_runs().
        metric = run.sweep_metric  # type: ignore[attr-defined]
        entries = metric if isinstance(metric, list) else [metric]
        names += [str(m["name"]) for m in entries if isinstance(m, dict) and m.get("name")]
    return list(dict.fromkeys(names))


def metric_columns(
    runs: list[Run], metrics: list[str], picked: tuple[str, ...] | None
) -> tuple[list[str], list[tuple[str, bool]]]:
    """The metric columns shown (the picked ones, else the sweeps' metrics and the most
    common keys) and the picker's options: (key, shown), shown ones first."""
    common = common_keys(runs)
    if picked is None:
        shown = list(dict.fromkeys([*metrics, *common[:SUMMARY_COLUMNS]]))
    else:
        shown = list(picked)
    others = [key for key in dict.fromkeys([*metrics, *common]) if key not in shown]
    options = [(key, True) for key in shown] + [(key, False) for key in others]
    return shown, options[:MAX_COLUMNS]


@require_GET
@login_required
def project_runs(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A project's runs; filters, sort, columns and pages refresh only the run-table region."""
    project = get_project(request.user, slug)
    filters = RunFilters.from_query(request.GET)
    runs = filters.apply(Run.objects.filter(project=project).prefetch_related("tags"))
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    page_runs = list(page.object_list)
    metrics = sweep_metrics(page_runs)
    keys, options = metric_columns(page_runs, metrics, filters.columns)
    now = timezone.now()
    rows = [
        RunRow(
            run=run,
            duration=run_duration(run, now),
            summary=[display_value((run.summary or {}).get(key)) for key in keys],
        )
        for run in page_runs
    ]
    links = sort_links(filters.sort, keys)
    context = {
        "project": project,
        "base_url": reverse("runs:project", args=[project.slug]),
        "filters": filters,
        "page": page,
        "rows": rows,
        "metric_columns": [MetricColumn(key, links[f"{SUMMARY_SORT}{key}"]) for key in keys],
        "column_options": options,
        "sweep_metrics": metrics,
        "picking": request.htmx.trigger == PICKER if request.htmx else False,
        "sort_links": links,
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
        Menu("run-state", "State", "state", STATE_CHOICES, filters.values.get("state", "")),
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
        "state": run_state(run),
        "charts": metric_charts(series, step_metrics(run.metric_definitions, list(series))),
        "duration": run_duration(run, timezone.now()),
        "poll_seconds": POLL_SECONDS,
    }
    if targets(request, LIVE):
        return render_poll(request, "runs/run_detail.html", LIVE, context, live=run.is_running)
    context["config_rows"] = flatten(run.config or {})
    context["summary_rows"] = sorted(flatten(run.summary or {}))
    return render_region(request, "runs/run_detail.html", LIVE, context)
