"""HTML pages about sweeps: the list, the new-sweep form, and one sweep with its tabs.

A sweep's page is a set of tabs, each a URL (?tab=...) that works without JavaScript;
htmx swaps only the tab body. While the sweep may still get trials, the page polls
`sweep_live`, which answers with the figure data of the open tab plus out-of-band
regions (stat cards, header, the trials table); static/js/charts.js redraws the charts
in place with Plotly.react so that a zoomed chart keeps its zoom. Regions are chosen by
HX-Target (sweeptracker/htmx.py), as on every page.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseLocation

from projects.access import can_edit, get_project, projects_for
from projects.models import Project, Role
from sweeps import agents, charts, importance, lifecycle, plot_data, state_machine, trial_filters
from sweeps.config import ConfigError, SweepConfig
from sweeps.distributions import nest
from sweeps.forms import SweepForm, template_text
from sweeps.metric_hints import unlogged_metrics
from sweeps.models import Method, Sweep, SweepState, Trial, TrialState
from sweeps.progress import Progress, progress_of
from sweeps.sweep_lists import (
    DEFAULT_SWEEP_SORT,
    SWEEP_LIST,
    SWEEP_SORT_COLUMNS,
    SWEEP_SORTS,
    sweep_ordering,
)
from sweeptracker.htmx import HtmxHttpRequest, render_poll, render_region, targets
from sweeptracker.list_filters import ListFilters
from sweeptracker.pages import Menu, PageFilters, SortLink, choice, duration_text, sort_link

# The list's region that filters and pages refresh.
TABLE = "sweep-table"
# Seconds between a live sweep page's polls; the page says so, so it lives here once.
POLL_SECONDS = 3
PAGE_SIZES = (10, 20, 50)
DEFAULT_PAGE_SIZE = 20
# The overview's parallel coordinates draw at most this many trials, so that the page a
# sweep opens on stays quick at 10,000 trials; its own tab draws every one.
OVERVIEW_LINES = 2_000


def get_sweep(user: Any, sweep_id: str, role: str = Role.VIEWER) -> Sweep:
    """The sweep, its project carrying the user's `my_role`.

    404 for non-members, 403 below `role`."""
    sweep = get_object_or_404(Sweep.objects.select_related("project", "best_trial"), pk=sweep_id)
    sweep.project = get_project(user, sweep.project.slug, role)
    return sweep


def editable_projects(user: Any) -> QuerySet[Project]:
    # One filter() call, so that user and role are tested on the same membership row.
    roles = [Role.EDITOR, Role.ADMIN]
    return Project.objects.filter(memberships__user=user, memberships__role__in=roles).order_by(
        "name", "slug"
    )


# Lifecycle buttons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    style: str
    help: str
    confirm: str = ""


ACTIONS = {
    "start": Action("start", "Start", "primary", "Hand out trials to agents."),
    "pause": Action("pause", "Pause", "", "Agents wait until you resume."),
    "resume": Action("resume", "Resume", "primary", "Hand out trials again."),
    "finish": Action("finish", "Finish", "", "No new trials; running ones may still finish."),
    "cancel": Action(
        "cancel",
        "Cancel",
        "danger-outline",
        "No new trials; running ones are killed.",
        confirm="Cancel this sweep? Its running trials are killed.",
    ),
}


def legal_actions(state: str) -> list[Action]:
    """The buttons a sweep in `state` shows: the actions the state machine allows from it."""
    return [ACTIONS[name] for name in state_machine.legal_actions(state)]


# The sweeps list --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepFilters(PageFilters):
    """What the sweeps table shows, read from the query string; bad values mean "all"."""

    # The API's sweeps list's filters, ?q= for its search.
    FILTERS: ClassVar[ListFilters] = SWEEP_LIST.renamed(search="q")
    per_page: int = DEFAULT_PAGE_SIZE
    sort: str = DEFAULT_SWEEP_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> SweepFilters:
        sizes = [str(size) for size in PAGE_SIZES]
        per_page = int(choice(query, "per_page", sizes, str(DEFAULT_PAGE_SIZE)))
        sort = choice(query, "sort", SWEEP_SORTS, DEFAULT_SWEEP_SORT)
        return cls(cls.read(query), per_page=per_page, sort=sort)


def sweep_sort_links(current: str) -> dict[str, SortLink]:
    """Each column's header link: newest first from dates, the most trials and A to Z
    otherwise; the best value ascending (a minimized loss's best first)."""
    firsts = {"created": "-created", "trials": "-trials"}
    return {
        column: sort_link(current, column, label, firsts.get(column, ""))
        for column, (label, _) in SWEEP_SORT_COLUMNS.items()
    }


def sweep_rows(user: Any) -> QuerySet[Sweep]:
    """The user's sweeps with their role and trial counts, all counted in the one query."""
    # The membership join has one row per sweep (one role per project and user), so
    # the counts over trials are not multiplied, and the role comes from that join.
    return (
        Sweep.objects.filter(project__memberships__user=user)
        .select_related("project", "best_trial")
        .annotate(
            # Declared on Sweep for the rows projects.access loads; filled from this join here.
            my_role=F("project__memberships__role"),  # type: ignore[no-redef]
            trial_count=Count("trials"),
            running_count=Count("trials", filter=Q(trials__state=TrialState.RUNNING)),
            complete_count=Count("trials", filter=Q(trials__state=TrialState.COMPLETE)),
            pruned_count=Count("trials", filter=Q(trials__state=TrialState.PRUNED)),
            failed_count=Count("trials", filter=Q(trials__state=TrialState.FAILED)),
            front_count=Count("trials", filter=Q(trials__is_best=True)),
        )
        .order_by("-created_at", "id")
    )


@dataclass(frozen=True)
class SweepRow:
    sweep: Sweep
    can_edit: bool
    actions: list[Action]
    progress: Progress  # the bar under "12 / 50"
    best_label: str
    best: str


def row_of(sweep: Sweep) -> SweepRow:
    # Why the type: ignore below: the *_count: annotations of sweep_rows().
    done = sweep.complete_count + sweep.pruned_count  # type: ignore[attr-defined]
    progress = progress_of(sweep, sweep.trial_count, done)  # type: ignore[attr-defined]
    if len(sweep.metric) > 1:
        front = sweep.front_count  # type: ignore[attr-defined]
        best_label, best = (
            "Pareto front",
            f"{front} trial{'s' if front != 1 else ''}" if front else "",
        )
    else:
        goal = sweep.metric[0]["goal"] if sweep.metric else "minimize"
        best_label = charts.metric_label(sweep.metric_names[0], goal) if sweep.metric else ""
        best = number_text(sweep.best_trial.value) if sweep.best_trial else ""
    return SweepRow(
        sweep,
        can_edit(sweep.my_role),
        legal_actions(sweep.state),
        progress,
        best_label,
        best,
    )


@require_GET
@login_required
def sweep_list(request: HtmxHttpRequest, slug: str | None = None) -> HttpResponse:
    """Sweeps of all my projects, or of one; filters and pages refresh only the table."""
    project = get_project(request.user, slug) if slug else None
    filters = SweepFilters.from_query(request.GET)
    sweeps = sweep_rows(request.user)
    if project is not None:
        sweeps = sweeps.filter(project=project)
        filters = filters.without("project")
    sweeps = filters.filter(sweeps).order_by(*sweep_ordering(filters.sort))
    page = Paginator(sweeps, filters.per_page).get_page(request.GET.get("page"))
    partial = targets(request, TABLE)
    if project is not None:
        base_url, new_url = (
            reverse("sweeps:project_list", args=[project.slug]),
            reverse("sweeps:project_new", args=[project.slug]),
        )
        may_create = can_edit(project.my_role)
    else:
        base_url, new_url = reverse("sweeps:list"), reverse("sweeps:new")
        may_create = not partial and editable_projects(request.user).exists()
    context: dict[str, Any] = {
        "project": project,
        "base_url": base_url,
        "new_url": new_url,
        "may_create": may_create,
        "filters": filters,
        "page": page,
        "rows": [row_of(sweep) for sweep in page.object_list],
        "sort_links": sweep_sort_links(filters.sort),
        # Rows say which project they belong to only where several projects are listed.
        "scope": "project" if project else "all",
        "show_project": project is None,
    }
    # The filter menus sit outside the table region: only the whole page needs them.
    if not partial:
        context["menus"] = filter_menus(request.user, project, filters)
    return render_region(request, "sweeps/sweep_list.html", TABLE, context)


def filter_menus(user: Any, project: Project | None, filters: SweepFilters) -> list[Menu]:
    """The filter form's menus; the project menu only where several projects are listed."""
    chosen = filters.values
    sizes = [(size, str(size)) for size in PAGE_SIZES]
    menus = [
        Menu("sweep-state", "State", "state", SweepState.choices, chosen.get("state", "")),
        Menu("sweep-method", "Method", "method", Method.choices, chosen.get("method", "")),
        Menu("sweep-per-page", "Per page", "per_page", sizes, filters.per_page, all=False),
    ]
    if project is None:
        projects = [(p.slug, p.name) for p in projects_for(user).order_by("name")]
        project_menu = Menu("sweep-project", "Project", "project", projects, chosen.get("project"))
        menus.insert(0, project_menu)
    return menus


# Creating a sweep -------------------------------------------------------------------------


def copy_source(request: HttpRequest) -> Sweep | None:
    """The sweep named by ?copy=, if the user may see it: "new sweep from this one"."""
    sweep_id = request.GET.get("copy", "")
    return get_sweep(request.user, sweep_id) if sweep_id else None


def initial_values(request: HttpRequest, source: Sweep | None) -> dict[str, Any]:
    if source is None:
        # ?template= starts from one of the page's templates (its links work without JS).
        text = template_text(request.GET.get("template", ""))
        return {"config_text": text, "project": request.GET.get("project", "")}
    return {
        "name": f"{source.name} (copy)",
        "description": source.description,
        "config_text": source.config_text,
        "project": source.project.slug,
    }


def refuse_forged_project(request: HttpRequest, projects: QuerySet[Project]) -> None:
    """A POST naming a project where the user only views is refused like any other change."""
    chosen = request.POST.get("project", "")
    if not chosen.isdigit() or projects.filter(pk=chosen).exists():
        return
    if projects_for(request.user).filter(pk=chosen).exists():
        raise PermissionDenied("Creating a sweep needs the editor role in its project.")


# The form's region that htmx refreshes as the user types: problems and warnings only.
CHECK_REGION = "config-check"


def create_from_form(
    request: HtmxHttpRequest, form: SweepForm, target: Project
) -> HttpResponse | None:
    """Create the sweep and send the browser to it; None (problems on the form) if refused."""
    try:
        sweep = lifecycle.create_sweep(
            target,
            form.cleaned_data["config"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            # The form normalized the config when it checked it (SweepForm.clean).
            normalized=form.config,
        )
    except ConfigError as error:
        form.problems = error.problems
        form.add_error("config_text", f"The config has {len(error.problems)} problem(s).")
        return None
    message = f"Sweep “{sweep.name}” created."
    if sweep.warnings:
        count = len(sweep.warnings)
        message += f" Its config has {count} warning{'s' if count > 1 else ''}: see below."
    messages.success(request, message)
    url = reverse("sweeps:detail", args=[sweep.pk])
    # After an htmx post the client follows HX-Location without a full reload.
    return HttpResponseLocation(url) if request.htmx else redirect(url)


@require_http_methods(["GET", "POST"])
@login_required
def sweep_new(request: HtmxHttpRequest, slug: str | None = None) -> HttpResponse:
    """The new-sweep form; a bad config comes back with every problem next to the editor.

    A post aimed at the config-check region (htmx, as the user types) creates nothing:
    it answers with the config's problems, or its warnings.
    """
    project = get_project(request.user, slug, Role.EDITOR) if slug else None
    projects = None if project else editable_projects(request.user)
    source = copy_source(request)
    initial = initial_values(request, source)
    if projects is not None:
        by_slug = {p.slug: p.pk for p in projects}
        initial["project"] = by_slug.get(initial.pop("project", ""))
        if request.method == "POST":
            refuse_forged_project(request, projects)
    data = request.POST if request.method == "POST" else None
    form = SweepForm(data, initial=initial, projects=projects, label_suffix="")
    checking = targets(request, CHECK_REGION)
    if form.is_bound and form.is_valid():
        target = project or form.cleaned_data["project"]
        if checking and form.config is not None:
            form.warnings += unlogged_metrics(target, form.config)
        elif response := create_from_form(request, form, target):
            return response
    context = {
        "project": project,
        "form": form,
        "source": source,
        "action_url": request.get_full_path(),
        "no_projects": projects is not None and not projects.exists(),
    }
    region = CHECK_REGION if checking else "sweep-form"
    return render_region(request, "sweeps/sweep_new.html", region, context)


# Lifecycle and delete ---------------------------------------------------------------------


def row_region(sweep: Sweep) -> str:
    """The id of a sweep's row in the list (sweeps/includes/sweep_row.html): the region
    its buttons swap. The header's buttons swap "sweep-header"."""
    return f"sweep-{sweep.pk}"


def back_to(request: HttpRequest, sweep: Sweep) -> HttpResponse:
    """Without JavaScript a button posts a plain form: go back where it was pressed."""
    url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return redirect(url)
    return redirect("sweeps:detail", sweep_id=sweep.pk)


@require_POST
@login_required
def sweep_action(request: HtmxHttpRequest, sweep_id: str, action: str) -> HttpResponse:
    """Start, pause, resume, finish or cancel; htmx gets the re-rendered row or header."""
    sweep = get_sweep(request.user, sweep_id, Role.EDITOR)
    error = ""
    try:
        state_machine.transition(sweep, action)
    except state_machine.SweepConflict as conflict:
        # Someone (or an agent) moved the sweep first: show where it is now.
        error = str(conflict)
    sweep.refresh_from_db(fields=["state", "started_at", "ended_at"])
    if not request.htmx:
        if error:
            messages.error(request, error)
        return back_to(request, sweep)
    if targets(request, row_region(sweep)):
        row = row_of(get_object_or_404(sweep_rows(request.user), pk=sweep.pk))
        scope = request.POST.get("scope", "all")
        context = {"row": row, "error": error, "scope": scope, "show_project": scope == "all"}
        response = render(request, "sweeps/includes/sweep_row.html", context)
    else:
        context = header_context(sweep) | {"error": error}
        response = render(request, "sweeps/includes/sweep_header.html", context)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def sweep_delete(request: HtmxHttpRequest, sweep_id: str) -> HttpResponse:
    """GET asks (the fallback for hx-confirm), POST deletes; trials go, their runs stay."""
    sweep = get_sweep(request.user, sweep_id, Role.EDITOR)
    if request.method == "GET":
        return render(request, "sweeps/sweep_delete.html", {"sweep": sweep})
    name, slug, row = sweep.name, sweep.project.slug, row_region(sweep)
    sweep.delete()
    if targets(request, row):
        # An empty answer swapped over the row removes it.
        return HttpResponse("")
    messages.success(request, f"Sweep “{name}” deleted. Its runs stay in the project.")
    url = reverse("sweeps:project_list", args=[slug])
    return HttpResponseLocation(url) if request.htmx else redirect(url)


# One sweep --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    name: str
    label: str


TABS = [
    Tab("overview", "Overview"),
    Tab("trials", "Trials"),
    Tab("best", "Best parameters"),
    Tab("importance", "Importance"),
    Tab("parallel", "Parallel coordinates"),
    Tab("history", "History"),
    Tab("slice", "Slice & contour"),
    Tab("curves", "Learning curves"),
    Tab("pareto", "Pareto front"),
]


def tabs_of(sweep: Sweep) -> list[Tab]:
    many = len(sweep.metric) > 1
    return [tab for tab in TABS if tab.name != "pareto" or many]


def pick_tab(name: str | None, sweep: Sweep) -> str:
    names = [tab.name for tab in tabs_of(sweep)]
    return name if name in names else "overview"


@dataclass(frozen=True)
class SweepView:
    """What every tab builder gets: the sweep, its parsed config and request."""

    sweep: Sweep
    config: SweepConfig
    axes: list[plot_data.Axis]
    counts: plot_data.TrialCounts
    query: QueryDict

    @property
    def metric(self) -> tuple[str, str]:
        first = self.sweep.metric[0] if self.sweep.metric else {"name": "", "goal": "minimize"}
        return first["name"], first["goal"]


def overview_tab(view: SweepView) -> dict[str, Any]:
    points = plot_data.trial_points(view.sweep)
    scores = importance.cached_or_compute(view.sweep)
    name, goal = view.metric
    config = view.config
    return {
        # History and importance first: together they fit one screen with the stat cards.
        "charts": [
            charts.history_chart(points, name, goal, view.axes),
            charts.importance_chart(scores, view.counts.complete),
            charts.parallel_chart(view.axes, points, name, goal, limit=OVERVIEW_LINES),
        ],
        "constants": plot_data.constants_of(config),
        "best_params": best_params(view.sweep),
        "early_terminate": config.early_terminate,
        "sampler": (config.optuna or {}).get("sampler", "auto") if config.method == "bayes" else "",
        # Its card goes once the sweep has ended (templates/sweeps/includes/agents_card.html).
        "agents": [] if view.sweep.is_ended else agents.page_rows(view.sweep),
        "agent_timeout": int(agents.timeout().total_seconds()),
    }


def best_params(sweep: Sweep) -> list[tuple[str, str]]:
    """The best trial's parameters, for the overview; a Pareto front has its own tab."""
    best = sweep.best_trial
    if best is None or len(sweep.metric) > 1:
        return []
    return [(name, plot_data.value_label(value)) for name, value in best.params.items()]


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str
    run_id: int | None
    is_best: bool
    params: list[str]
    objective: list[str]
    duration: str
    last_step: str
    # Where early termination asked the run to stop (a complete one ran to its end first).
    stop_step: int | None = None


def number_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def trials_tab(view: SweepView) -> dict[str, Any]:
    table = plot_data.TrialView.from_query(view.query, view.axes)
    metrics = view.sweep.metric_names
    filters = trial_filters.TrialFilters.from_query(view.query, view.axes, metrics)
    page = trial_filters.trials_page(view.sweep, table, filters, view.axes)
    width = max(len(view.sweep.metric), 1)
    now = timezone.now()
    rows = []
    for trial in page.object_list:
        objective = trial.objective or []
        rows.append(
            TrialRow(
                number=trial.number,
                state=trial.state,
                run_id=trial.run_id,
                is_best=trial.is_best,
                params=[
                    plot_data.value_label(trial.params[a.name]) if a.name in trial.params else "—"
                    for a in view.axes
                ],
                objective=[number_text(v) for v in objective] + ["—"] * (width - len(objective)),
                duration=duration_text(trial.created_at, trial.ended_at, now),
                last_step="—" if trial.last_step is None else str(trial.last_step),
                stop_step=trial.stop_step,
            )
        )
    names = view.sweep.metric_names or ["value"]
    return {
        "table": table,
        "trial_filters": filters,
        "trial_filter_fields": filters.fields(view.axes, metrics),
        "page": page,
        "rows": rows,
        # The newest trials first is what a click on "#" asks for.
        "sort_number": sort_link(table.sort, "number", "#", "-number"),
        "sort_state": sort_link(table.sort, "state", "State"),
        "sort_value": sort_link(table.sort, "value", names[0]),
        "sort_params": [sort_link(table.sort, f"p.{a.name}", a.name) for a in view.axes],
        "extra_metrics": names[1:],
        "constants": plot_data.constants_of(view.config),
        "trial_states": TrialState.choices,
    }


def best_tab(view: SweepView) -> dict[str, Any]:
    if len(view.sweep.metric) > 1:
        front = plot_data.pareto_set(view.sweep)
        rows = [
            {
                "number": p.number,
                "run_id": p.run_id,
                "objective": [number_text(v) for v in p.objective or []],
                "params": [plot_data.value_label(p.params.get(a.name)) for a in view.axes],
            }
            for p in front
        ]
        return {"front": rows, "param_names": [a.name for a in view.axes]}
    best = view.sweep.best_trial
    if best is None:
        return {"best": None}
    return {
        "best": best,
        "best_value": number_text(best.value),
        "best_rows": [(name, plot_data.value_label(v)) for name, v in best.params.items()],
        "best_yaml": yaml.safe_dump(nest(best.params), sort_keys=False, allow_unicode=True),
    }


def importance_tab(view: SweepView) -> dict[str, Any]:
    """fANOVA (or PED-ANOVA, with ?importance=ped_anova) beside each parameter's correlation."""
    method = view.query.get("importance", "fanova")
    method = method if method in importance.METHODS else "fanova"
    result = importance.cached_or_compute(view.sweep)
    points = plot_data.trial_points(view.sweep)
    return {
        "charts": [
            charts.importance_chart(result, view.counts.complete, method),
            charts.correlation_chart(result),
            charts.correlation_heatmap(plot_data.correlations(view.axes, points, view.metric[0])),
        ],
        "importance": result,
        "importance_method": method,
        "importance_label": importance.METHODS[method],
        "importance_methods": list(importance.METHODS.items()),
        "importance_rows": importance_rows(result, method),
    }


def importance_rows(result: dict[str, Any] | None, method: str) -> list[dict[str, Any]]:
    """A row per parameter, most important first: its score and its correlation (per
    value for a categorical parameter correlated one value at a time)."""
    scores = ((result or {}).get(method) or {}).get("importances") or {}
    by_parameter: dict[str, list[dict[str, Any]]] = {}
    for entry in ((result or {}).get("correlation") or {}).get("correlations") or []:
        by_parameter.setdefault(entry["parameter"], []).append(entry)
    rows = []
    for name in sorted(by_parameter, key=lambda name: -scores.get(name, 0.0)):
        entries = by_parameter[name]
        whole = [entry["r"] for entry in entries if entry["value"] is None]
        rows.append(
            {
                "name": name,
                "score": f"{scores[name]:.1%}" if name in scores else "—",
                "width": round(scores.get(name, 0.0) * 100),
                "r": correlation_text(whole[0]) if whole else "",
                "values": [
                    (entry["value"], correlation_text(entry["r"]))
                    for entry in entries
                    if entry["value"] is not None
                ],
            }
        )
    return rows


def correlation_text(r: float | None) -> str:
    return "—" if r is None else f"{r:+.2f}"


def parallel_tab(view: SweepView) -> dict[str, Any]:
    points = plot_data.trial_points(view.sweep)
    return {"charts": [charts.parallel_chart(view.axes, points, *view.metric)]}


def history_tab(view: SweepView) -> dict[str, Any]:
    """The history, the metric's distribution (EDF) and the trials' timeline by agent."""
    points = plot_data.trial_points(view.sweep)
    return {
        "charts": [
            charts.history_chart(points, *view.metric, view.axes),
            charts.edf_chart(points, *view.metric, view.axes),
            charts.timeline_chart(points, timezone.now()),
        ]
    }


def slice_tab(view: SweepView) -> dict[str, Any]:
    points = plot_data.trial_points(view.sweep)
    name, goal = view.metric
    scores = importance.cached_or_compute(view.sweep)
    chosen = (view.query.get("cx", ""), view.query.get("cy", ""))
    contour = charts.contour_chart(view.axes, points, name, goal, scores, chosen)
    return {"charts": [contour, *charts.slice_charts(view.axes, points, name, goal)]}


def curves_tab(view: SweepView) -> dict[str, Any]:
    name, goal = view.metric
    curves = plot_data.learning_curves(view.sweep, name) if name else []
    return {"charts": [charts.curves_chart(curves, name, goal)]}


def pareto_tab(view: SweepView) -> dict[str, Any]:
    points = plot_data.trial_points(view.sweep)
    return {"charts": [charts.pareto_chart(points, view.sweep.metric)]}


TAB_BUILDERS: dict[str, Callable[[SweepView], dict[str, Any]]] = {
    "overview": overview_tab,
    "trials": trials_tab,
    "best": best_tab,
    "importance": importance_tab,
    "parallel": parallel_tab,
    "history": history_tab,
    "slice": slice_tab,
    "curves": curves_tab,
    "pareto": pareto_tab,
}


TAB_TEMPLATES = {
    name: f"sweeps/includes/tab_{name}.html"
    for name in ("overview", "trials", "best", "importance", "slice")
}


def header_context(sweep: Sweep) -> dict[str, Any]:
    editor = can_edit(sweep.project.my_role)
    return {
        "sweep": sweep,
        "project": sweep.project,
        "can_edit": editor,
        "actions": legal_actions(sweep.state) if editor else [],
        # Pending, running and paused sweeps may still get trials: their pages poll.
        "is_live": not sweep.is_ended,
        "poll_seconds": POLL_SECONDS,
    }


def detail_context(request: HttpRequest, sweep: Sweep, tab: str) -> dict[str, Any]:
    config = SweepConfig.from_dict(sweep.config)
    counts = plot_data.trial_counts(sweep)
    view = SweepView(sweep, config, plot_data.axes_of(config), counts, request.GET)
    context = header_context(sweep) | {
        "tab": tab,
        "tabs": tabs_of(sweep),
        "counts": counts,
        "progress": progress_of(sweep, counts.total, counts.complete + counts.pruned, config),
        "config": config,
        "agent_command": f"sweeptracker agent {sweep.pk}",
        "metric_name": view.metric[0],
        "best_value": number_text(sweep.best_trial.value) if sweep.best_trial else "",
        "front_size": counts.best if len(sweep.metric) > 1 else 0,
        "detail_url": reverse("sweeps:detail", args=[sweep.pk]),
        "tab_template": TAB_TEMPLATES.get(tab, "sweeps/includes/tab_charts.html"),
        "charts": [],
    }
    context |= TAB_BUILDERS[tab](view)
    # A click on a trial in any chart opens the trial's page.
    charts.link_trials(context["charts"], trial_base_url(sweep))
    return context


@require_GET
@login_required
def sweep_detail(request: HtmxHttpRequest, sweep_id: str) -> HttpResponse:
    """A sweep's page; htmx tab links get only the tab body (and the tab bar, out of band)."""
    sweep = get_sweep(request.user, sweep_id)
    tab = pick_tab(request.GET.get("tab"), sweep)
    context = detail_context(request, sweep, tab)
    return render_region(request, "sweeps/sweep_detail.html", "tab-body", context)


@require_GET
@login_required
def sweep_live(request: HtmxHttpRequest, sweep_id: str) -> HttpResponse:
    """The poll: figure data of the open tab plus the regions that change, out of band."""
    sweep = get_sweep(request.user, sweep_id)
    tab = pick_tab(request.GET.get("tab"), sweep)
    context = detail_context(request, sweep, tab)
    return render_poll(
        request, "sweeps/sweep_detail.html", "sweep-live", context, live=not sweep.is_ended
    )


# One trial --------------------------------------------------------------------------------


def trial_base_url(sweep: Sweep) -> str:
    """The trial pages' URL without the number: charts.js appends number + "/"."""
    return reverse("sweeps:trial", args=[sweep.pk, 0]).removesuffix("0/")


def trial_history(trial: Trial) -> list[tuple[str, Any, str]]:
    """What the database knows of a trial's states: (what, when, detail), oldest first."""
    started = ""
    if trial.agent is not None:
        started = f"by {trial.agent.host or 'an agent'}"
        started += f" (process {trial.agent.pid})" if trial.agent.pid else ""
    events: list[tuple[str, Any, str]] = [("suggested: running", trial.created_at, started)]
    if trial.stop_step is not None:
        events.append(("early termination asked it to stop", None, f"at step {trial.stop_step}"))
    if trial.ended_at is not None:
        ended = ""
        if trial.run is not None:
            ended = f"its run {trial.run.state}"
            ended += f", exit code {trial.run.exit_code}" if trial.run.exit_code else ""
        events.append((trial.state, trial.ended_at, ended))
    return events


@require_GET
@login_required
def trial_detail(request: HttpRequest, sweep_id: str, number: int) -> HttpResponse:
    """One trial: its parameters, values, intermediate values and states."""
    sweep = get_sweep(request.user, sweep_id)
    trial = plot_data.trial_of(sweep, number)
    if trial is None:
        raise Http404("No such trial in this sweep.")
    metric, goal = (sweep.metric[0]["name"], sweep.metric[0]["goal"]) if sweep.metric else ("", "")
    curve = plot_data.trial_curve(trial, metric)
    chart = charts.trial_chart(curve, metric, goal, trial.stop_step)
    names = sweep.metric_names or ["value"]
    objective: list[float | None] = [*(trial.objective or [])]
    objective += [None] * (len(names) - len(objective))
    context = {
        "sweep": sweep,
        "project": sweep.project,
        "trial": trial,
        "here": f"Trial #{trial.number}",
        "objective": [(n, number_text(v)) for n, v in zip(names, objective, strict=False)],
        "params": [(name, plot_data.value_label(v)) for name, v in sorted(trial.params.items())],
        "history": trial_history(trial),
        "duration": duration_text(trial.created_at, trial.ended_at, timezone.now()),
        "charts": [chart],
        "previous": trial.number - 1 if trial.number > 0 else None,
        "next": trial.number + 1 if trial.number + 1 < sweep.next_number else None,
    }
    return render(request, "sweeps/trial_detail.html", context)


# CSV export -------------------------------------------------------------------------------


class Echo:
    """A file-like object whose write returns the line, for streaming csv.writer's output."""

    def write(self, value: str) -> str:
        return value


# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return plot_data.value_label(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(sweep: Sweep) -> Iterator[str]:
    config = SweepConfig.from_dict(sweep.config)
    writer = csv.writer(Echo())
    yield writer.writerow(plot_data.csv_header(sweep, config))
    for row in plot_data.csv_rows(sweep, config):
        yield writer.writerow([csv_cell(cell) for cell in row])


@require_GET
@login_required
def trials_csv(request: HttpRequest, sweep_id: str) -> StreamingHttpResponse:
    """Every trial, streamed: a sweep of any size downloads without being held in memory."""
    sweep = get_sweep(request.user, sweep_id)
    response = StreamingHttpResponse(csv_lines(sweep), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sweep-{sweep.pk}-trials.csv"'
    return response
