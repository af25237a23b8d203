from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import check_role, get_project, with_role
from projects.models import Role
from sweeps import agents, importance, lifecycle, plot_data, state_machine
from sweeps.config import ConfigError, SweepConfig
from sweeps.models import Sweep, Trial, TrialState
from sweeps.serializers import (
    AgentSerializer,
    AgentStopSerializer,
    CreatedSweepSerializer,
    NewSweepSerializer,
    ParallelCoordinatesSerializer,
    ReportSerializer,
    StatsSerializer,
    SuggestionSerializer,
    SuggestSerializer,
    SweepDetailSerializer,
    SweepRunSerializer,
    SweepSerializer,
    SweepUpdateSerializer,
    TrialSerializer,
)
from sweeps.sweep_lists import SWEEP_LIST, TRIAL_LIST
from sweeptracker import read_only
from sweeptracker.errors import ConfigErrorSerializer, Conflict, ConflictErrorSerializer, Invalid
from sweeptracker.schema import CONFLICT

READ_ACTIONS = {"list", "retrieve", "trials", "stats", "runs", "parallel_coordinates", "agents"}
LIFECYCLE_ACTIONS = ", ".join(state_machine.ACTIONS)


def read_only_writes(data: Any, current: dict[str, Any]) -> dict[str, str]:
    """What a PUT/PATCH body tries to change that it may not: state, other read-only
    fields, unknown fields. Sending a read-only field's current value is no change."""
    state = (
        "The state changes only through the lifecycle actions "
        f"({LIFECYCLE_ACTIONS}): POST /api/v1/sweeps/{current.get('id')}/<action>/."
    )
    writable = SweepUpdateSerializer.Meta.fields
    return read_only.read_only_writes(data, current, writable, {"state": state})


def sweep_stats(sweep: Sweep, compute: bool) -> dict[str, Any]:
    """Trials per state, the best trial, and importance: computed for the sweep's version
    when `compute`, else as last computed (None before)."""
    counts = dict.fromkeys(TrialState.values, 0)
    for row in sweep.trials.order_by().values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    best = sweep.best_trial
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "best": best,
        "best_value": best.value if best else None,
        "best_params": best.params if best else None,
        "importance": importance.cached_or_compute(sweep) if compute else importance.stored(sweep),
    }


def _apply_report(sweep: Sweep, data: dict[str, Any]) -> Trial:
    """Apply a trial's reported result (see `REPORT_STATES`); the trial as it stands after."""
    trials = Trial.objects.filter(sweep=sweep).select_related("run")
    if "trial" in data:
        trial, named = trials.filter(number=data["trial"]).first(), f"trial {data['trial']}"
    else:
        trial, named = trials.filter(run_id=data["run_id"]).first(), f"run {data['run_id']}"
    if trial is None:
        raise NotFound(f"The sweep has no {named}.")
    trial.sweep = sweep
    state = data["state"]
    objective = data.get("values") or ([data["value"]] if data.get("value") is not None else None)
    if state == "complete" and objective is None:
        raise Invalid.at("value", "A complete trial needs a value (or values).")
    try:
        if state in ("finished", "ended"):
            return state_machine.report_end(trial, finish=state == "finished")
        return state_machine.report_result(trial, objective if state == "complete" else None)
    except state_machine.TrialConflict as error:
        raise Conflict(str(error)) from error
    except ValueError as error:
        raise Invalid.at("values", str(error)) from error


def config_invalid(error: ConfigError) -> Invalid:
    """A 400 naming every problem of the config; `problems` and `config` say it again the
    ways older clients read it."""
    return Invalid(
        error.problems,
        f"The sweep config has {len(error.problems)} problem(s).",
        "invalid_config",
        legacy={
            "config": [f"{path}: {message}" for path, message in error.problems],
            "problems": [{"path": path, "message": message} for path, message in error.problems],
        },
    )


@extend_schema_view(
    list=extend_schema(
        parameters=SWEEP_LIST.parameters(),
        responses=SweepSerializer(many=True),
    ),
    destroy=extend_schema(description="Delete the sweep and its trials; their runs stay."),
)
class SweepViewSet(viewsets.ModelViewSet):
    """Sweeps of the projects you are a member of, newest first."""

    serializer_class = SweepSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Sweep]:
        # A suggestion or a report (many a second from agents) does not show the best
        # trial; the state machine locks the sweep and reads it when a trial ends.
        hot = self.action in ("suggest", "report")
        related = ("project__owner",) if hot else ("project__owner", "best_trial")
        sweeps = with_role(Sweep.objects.select_related(*related), self.request.user, "project")
        if self.action == "list":
            sweeps = SWEEP_LIST.filter(sweeps, self.request.query_params)
        return sweeps.order_by("-created_at")

    def get_object(self) -> Sweep:
        sweep: Sweep = super().get_object()
        check_role(sweep.my_role, Role.VIEWER if self.action in READ_ACTIONS else Role.EDITOR)
        return sweep

    @extend_schema(responses=SweepDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The sweep with its statistics; importance as last computed (stats/ computes it)."""
        sweep = self.get_object()
        stats = sweep_stats(sweep, compute=False)
        return Response(SweepDetailSerializer(sweep, context={"stats": stats}).data)

    @extend_schema(request=SweepUpdateSerializer, responses=SweepSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change name, description or run_cap; the state changes through the actions."""
        sweep = self.get_object()
        problems = read_only_writes(request.data, SweepSerializer(sweep).data)
        if problems:
            raise Invalid(problems)
        serializer = SweepUpdateSerializer(
            sweep, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        sweep = state_machine.edit_sweep(sweep, dict(serializer.validated_data))
        return Response(SweepSerializer(sweep).data)

    @extend_schema(request=SweepUpdateSerializer, responses=SweepSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change some of name, description and run_cap."""
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        request=NewSweepSerializer,
        responses={
            201: CreatedSweepSerializer,
            400: OpenApiResponse(ConfigErrorSerializer, description="What was wrong, by path."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = NewSweepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = get_project(request.user, data.pop("project"), Role.EDITOR)
        if "warm_start_from" in data:
            data["warm_start_from"] = self._visible_sweep(data["warm_start_from"])
        try:
            sweep = lifecycle.create_sweep(project, data.pop("config"), **data)
        except ConfigError as error:
            raise config_invalid(error) from error
        sweep.my_role = project.my_role
        return Response(CreatedSweepSerializer(sweep).data, status=status.HTTP_201_CREATED)

    def _visible_sweep(self, sweep_id: str) -> Sweep:
        sweep = with_role(Sweep.objects.all(), self.request.user, "project").filter(pk=sweep_id)
        if not sweep.exists():
            raise Invalid.at("warm_start_from", f"No sweep {sweep_id!r}.")
        return sweep.get()

    def _transition(self, action_name: str) -> Response:
        try:
            sweep = state_machine.transition(self.get_object(), action_name)
        except state_machine.SweepConflict as error:
            raise Conflict(str(error), state=error.state) from error
        return Response(SweepSerializer(sweep).data)

    @extend_schema(request=None, responses={200: SweepSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        """pending → running."""
        return self._transition("start")

    @extend_schema(request=None, responses={200: SweepSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Agents wait while a sweep is paused."""
        return self._transition("pause")

    @extend_schema(request=None, responses={200: SweepSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """paused → running."""
        return self._transition("resume")

    @extend_schema(request=None, responses={200: SweepSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str) -> Response:
        """No new trials; running ones may still finish."""
        return self._transition("finish")

    @extend_schema(request=None, responses={200: SweepSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """No new trials, and running ones are killed."""
        return self._transition("cancel")

    @extend_schema(
        request=SuggestSerializer,
        responses={
            201: SuggestionSerializer,
            409: OpenApiResponse(
                ConflictErrorSerializer, description="No trial now: see reason, state and retry."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def suggest(self, request: Request, pk: str) -> Response:
        """Hand out the next trial: a new run with the parameters to try.

        With `report`, the previous trial's result is applied first, in the same
        request (one round trip per trial); the answer's `reported` is that trial."""
        sweep = self.get_object()
        body = SuggestSerializer(data=request.data if request.data else {})
        body.is_valid(raise_exception=True)
        report = body.validated_data.get("report")
        reported = None if report is None else _apply_report(sweep, report)
        # Seen even when no trial comes of it: still there, waiting (paused, busy) or done.
        agent = agents.announced(request)
        agent_id = None if agent is None else agents.seen(sweep, agent)
        try:
            # The sweep as read above is the sampler's snapshot: the lock checks it after.
            trial = state_machine.suggest_trial(sweep.pk, sweep, agent_id)
        except state_machine.SweepUnavailable as error:
            raise Conflict(
                str(error), state=error.state, reason=error.reason, retry=error.retry
            ) from error
        trial.sweep = sweep  # with its project and owner, loaded by get_object
        if trial.run is not None:
            trial.run.project = sweep.project
            trial.run.trial = trial
        context = {"reported": reported, "request": request}
        answer = SuggestionSerializer(trial, context=context).data
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReportSerializer, responses={200: TrialSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str) -> Response:
        """Tell the result of a trial (ask/tell without a run history)."""
        sweep = self.get_object()
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(TrialSerializer(_apply_report(sweep, serializer.validated_data)).data)

    @extend_schema(parameters=TRIAL_LIST.parameters(), responses=TrialSerializer(many=True))
    @action(detail=True, methods=["get"])
    def trials(self, request: Request, pk: str) -> Response:
        """The sweep's trials by number."""
        filters = TRIAL_LIST.values(request.query_params)
        sweep = self.get_object()
        trials = TRIAL_LIST.apply(sweep.trials.order_by("number"), filters)
        page = self.paginate_queryset(trials)
        return self.get_paginated_response(TrialSerializer(page, many=True).data)

    @extend_schema(parameters=TRIAL_LIST.parameters(), responses=SweepRunSerializer(many=True))
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str) -> Response:
        """The sweep's runs by trial number, each with its trial's params and value."""
        filters = TRIAL_LIST.values(request.query_params)
        sweep = self.get_object()
        trials = sweep.trials.filter(run__isnull=False).select_related("run").order_by("number")
        page = self.paginate_queryset(TRIAL_LIST.apply(trials, filters))
        return self.get_paginated_response(SweepRunSerializer(page, many=True).data)

    @extend_schema(responses=StatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str) -> Response:
        """Trials per state, the best trial and parameter importance (fANOVA, PED-ANOVA and
        correlation), computed once per sweep version whoever asks."""
        return Response(StatsSerializer(sweep_stats(self.get_object(), compute=True)).data)

    @extend_schema(responses=ParallelCoordinatesSerializer)
    @action(detail=True, methods=["get"], url_path="parallel-coordinates")
    def parallel_coordinates(self, request: Request, pk: str) -> Response:
        """The parallel coordinates the sweep page draws: a dimension per parameter that
        varies and one for the metric, a row per finished trial, the best row's index."""
        sweep = self.get_object()
        config = SweepConfig.from_dict(sweep.config)
        metric = sweep.metric[0] if sweep.metric else {"name": "", "goal": "minimize"}
        data = plot_data.parallel_data(
            plot_data.axes_of(config), plot_data.trial_points(sweep), metric["name"], metric["goal"]
        )
        return Response(ParallelCoordinatesSerializer(data).data)

    @extend_schema(
        methods=["GET"],
        request=None,
        parameters=[
            OpenApiParameter(
                "live", bool, description="true: only the live ones (seen within AGENT_TIMEOUT)"
            )
        ],
        responses=AgentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        request=AgentStopSerializer,
        parameters=[
            OpenApiParameter(
                agents.HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="id=...&host=...&pid=...&started=... (the agent's own id first)",
            )
        ],
        responses=AgentSerializer,
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def agents(self, request: Request, pk: str) -> Response:
        """GET: the agents that ran or run the sweep's trials, first seen first (an agent
        names itself in the X-SweepTracker-Agent header of its suggest requests). POST:
        an agent says it stopped."""
        sweep = self.get_object()
        if request.method == "GET":
            if request.query_params.get("live") in ("true", "1"):
                rows = agents.live_agents(sweep)
            else:
                rows = list(agents.with_activity(sweep.agents.all()))
            return Response(AgentSerializer(rows, many=True).data)
        check_role(sweep.my_role, Role.EDITOR)
        who = agents.announced(request)
        if who is None:
            raise Invalid.at(agents.HEADER, "Name the agent: id=<its own id>&host=...&pid=...")
        body = AgentStopSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agents.record(sweep, who, stopped=body.validated_data["stopped"])
        row = agents.with_activity(sweep.agents.all()).get(key=who.key)
        return Response(AgentSerializer(row).data)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return NewSweepSerializer if self.action == "create" else SweepSerializer
