from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import QueryDict
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import check_role, get_project, with_role
from projects.models import Role
from sweeps import importance, lifecycle, plot_data, results, sampling
from sweeps.config import ConfigError, SweepConfig
from sweeps.models import Method, Sweep, SweepState, Trial, TrialState
from sweeps.serializers import (
    CreatedSweepSerializer,
    NewSweepSerializer,
    ParallelCoordinatesSerializer,
    ReportSerializer,
    StatsSerializer,
    SuggestionSerializer,
    SweepDetailSerializer,
    SweepRunSerializer,
    SweepSerializer,
    SweepUpdateSerializer,
    TrialSerializer,
)
from sweeptracker.errors import Conflict

READ_ACTIONS = {"list", "retrieve", "trials", "stats", "runs", "parallel_coordinates"}
LIFECYCLE_ACTIONS = ", ".join(lifecycle.TRANSITIONS)
BAD_REQUEST = OpenApiResponse(description="What was wrong, by field.")


def choice(query: QueryDict, name: str, choices: list[str]) -> str:
    """The query's `name`, "" when absent; an unknown value is a 400 that lists the valid ones."""
    value = query.get(name, "")
    if value and value not in choices:
        raise ValidationError(
            {name: f"Unknown {name} {value!r}; use one of: {', '.join(choices)}."}
        )
    return value


def read_only_writes(data: Any, current: dict[str, Any]) -> dict[str, str]:
    """What a PUT/PATCH body tries to change that it may not: state, other read-only
    fields, unknown fields. Sending a read-only field's current value is no change."""
    if not isinstance(data, dict):
        return {}
    problems = {}
    for key, value in data.items():
        if key in SweepUpdateSerializer.Meta.fields or current.get(key, object()) == value:
            continue
        if key == "state":
            problems[key] = (
                "The state changes only through the lifecycle actions "
                f"({LIFECYCLE_ACTIONS}): POST /api/v1/sweeps/{current.get('id')}/<action>/."
            )
        elif key in current:
            problems[key] = "Read-only; name, description and run_cap may change."
        else:
            problems[key] = "Unknown field; name, description and run_cap may change."
    return problems


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
        "best": TrialSerializer(best).data if best else None,
        "best_value": best.value if best else None,
        "best_params": best.params if best else None,
        "importance": importance.importance(sweep) if compute else importance.stored(sweep),
    }


def config_error_body(error: ConfigError) -> dict[str, Any]:
    return {
        "detail": f"The sweep config has {len(error.problems)} problem(s).",
        "config": [f"{path}: {message}" for path, message in error.problems],
        "problems": [{"path": path, "message": message} for path, message in error.problems],
    }


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("project", str, description="Project slug"),
            OpenApiParameter("state", str, enum=SweepState.values),
            OpenApiParameter("method", str, enum=Method.values),
            OpenApiParameter("search", str, description="Part of the sweep name"),
        ],
        responses={200: SweepSerializer(many=True), 400: BAD_REQUEST},
    ),
    destroy=extend_schema(description="Delete the sweep and its trials; their runs stay."),
)
class SweepViewSet(viewsets.ModelViewSet):
    """Sweeps of the projects you are a member of, newest first."""

    serializer_class = SweepSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Sweep]:
        sweeps = with_role(
            Sweep.objects.select_related("project", "best_trial"), self.request.user, "project"
        )
        params = self.request.query_params
        if self.action == "list":
            choice(params, "state", SweepState.values)
            choice(params, "method", Method.values)
            for field, lookup in [
                ("project", "project__slug"),
                ("state", "state"),
                ("method", "method"),
                ("search", "name__icontains"),
            ]:
                if params.get(field):
                    sweeps = sweeps.filter(**{lookup: params[field]})
        return sweeps.order_by("-created_at")

    def get_object(self) -> Sweep:
        sweep = super().get_object()
        check_role(sweep.my_role, Role.VIEWER if self.action in READ_ACTIONS else Role.EDITOR)
        return sweep

    @extend_schema(responses=SweepDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The sweep with its statistics; importance as last computed (stats/ computes it)."""
        sweep = self.get_object()
        sweep.api_stats = sweep_stats(sweep, compute=False)
        return Response(SweepDetailSerializer(sweep).data)

    @extend_schema(
        request=SweepUpdateSerializer, responses={200: SweepSerializer, 400: BAD_REQUEST}
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change name, description or run_cap; the state changes through the actions."""
        sweep = self.get_object()
        problems = read_only_writes(request.data, SweepSerializer(sweep).data)
        if problems:
            raise ValidationError(problems)
        serializer = SweepUpdateSerializer(
            sweep, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        sweep = lifecycle.edit_sweep(sweep, dict(serializer.validated_data))
        return Response(SweepSerializer(sweep).data)

    @extend_schema(
        request=SweepUpdateSerializer, responses={200: SweepSerializer, 400: BAD_REQUEST}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change some of name, description and run_cap."""
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=NewSweepSerializer, responses={201: CreatedSweepSerializer})
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
            return Response(config_error_body(error), status=status.HTTP_400_BAD_REQUEST)
        sweep.my_role = project.my_role
        # The warnings twice, as errors come: {path, message} pairs and printable lines.
        body = SweepSerializer(sweep).data | {
            "config_warnings": [f"{w['path']}: {w['message']}" for w in sweep.warnings]
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def _visible_sweep(self, sweep_id: str) -> Sweep:
        sweep = with_role(Sweep.objects.all(), self.request.user, "project").filter(pk=sweep_id)
        if not sweep.exists():
            raise ValidationError({"warm_start_from": f"No sweep {sweep_id!r}."})
        return sweep.get()

    def _transition(self, action_name: str) -> Response:
        try:
            sweep = lifecycle.transition(self.get_object(), action_name)
        except lifecycle.SweepConflict as error:
            raise Conflict({"detail": str(error), "state": error.state}) from error
        return Response(SweepSerializer(sweep).data)

    @extend_schema(request=None, responses=SweepSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        """pending → running."""
        return self._transition("start")

    @extend_schema(request=None, responses=SweepSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Agents wait while a sweep is paused."""
        return self._transition("pause")

    @extend_schema(request=None, responses=SweepSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """paused → running."""
        return self._transition("resume")

    @extend_schema(request=None, responses=SweepSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str) -> Response:
        """No new trials; running ones may still finish."""
        return self._transition("finish")

    @extend_schema(request=None, responses=SweepSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """No new trials, and running ones are killed."""
        return self._transition("cancel")

    @extend_schema(
        request=None,
        responses={
            201: SuggestionSerializer,
            409: OpenApiResponse(description="No trial now: see reason, state and retry."),
        },
    )
    @action(detail=True, methods=["post"])
    def suggest(self, request: Request, pk: str) -> Response:
        """Hand out the next trial: a new run with the parameters to try."""
        sweep = self.get_object()
        try:
            trial = sampling.suggest_trial(sweep.pk)
        except sampling.SweepUnavailable as error:
            body = {
                "detail": str(error),
                "state": error.state,
                "reason": error.reason,
                "retry": error.retry,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        body = {
            "sweep": sweep.pk,
            "project": sweep.project.slug,
            "trial": trial.number,
            "run_id": trial.run_id,
            "run_name": trial.run.name,
            "params": trial.run.config,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReportSerializer, responses=TrialSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str) -> Response:
        """Tell the result of a trial (ask/tell without a run history)."""
        sweep = self.get_object()
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        trial = (
            Trial.objects.filter(sweep=sweep, number=data["trial"]).select_related("run").first()
        )
        if trial is None:
            raise NotFound(f"The sweep has no trial {data['trial']}.")
        objective = data.get("values") or (
            [data["value"]] if data.get("value") is not None else None
        )
        if data["state"] == "complete" and objective is None:
            raise ValidationError({"value": "A complete trial needs a value (or values)."})
        trial.sweep = sweep
        try:
            trial = results.report_result(trial, objective if data["state"] == "complete" else None)
        except results.TrialConflict as error:
            raise Conflict(str(error)) from error
        except ValueError as error:
            raise ValidationError({"values": str(error)}) from error
        return Response(TrialSerializer(trial).data)

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=TrialState.values)],
        responses={200: TrialSerializer(many=True), 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["get"])
    def trials(self, request: Request, pk: str) -> Response:
        """The sweep's trials by number."""
        state = choice(request.query_params, "state", TrialState.values)
        sweep = self.get_object()
        trials = sweep.trials.order_by("number")
        if state:
            trials = trials.filter(state=state)
        page = self.paginate_queryset(trials)
        return self.get_paginated_response(TrialSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=TrialState.values)],
        responses={200: SweepRunSerializer(many=True), 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str) -> Response:
        """The sweep's runs by trial number, each with its trial's params and value."""
        state = choice(request.query_params, "state", TrialState.values)
        sweep = self.get_object()
        trials = sweep.trials.filter(run__isnull=False).select_related("run").order_by("number")
        if state:
            trials = trials.filter(state=state)
        page = self.paginate_queryset(trials)
        return self.get_paginated_response(SweepRunSerializer(page, many=True).data)

    @extend_schema(responses=StatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str) -> Response:
        """Trials per state, the best trial and parameter importance (fANOVA, PED-ANOVA and
        correlation), computed once per sweep version whoever asks."""
        return Response(sweep_stats(self.get_object(), compute=True))

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
        dimensions = [
            {
                "name": d.name,
                "kind": "metric" if d.is_metric else "parameter",
                "scale": d.scale,
                "range": list(d.range),
                "tick_values": d.tick_values,
                "tick_labels": d.tick_labels,
            }
            for d in data.dimensions
        ]
        rows = [
            {
                "trial": p.number,
                "run_id": p.run_id,
                "state": p.state,
                "positions": [d.positions[i] for d in data.dimensions],
                "params": p.params,
                "value": p.value,
            }
            for i, p in enumerate(data.rows)
        ]
        body = {
            "metric": data.metric,
            "goal": data.goal,
            "dimensions": dimensions,
            "rows": rows,
            "best_index": data.best_index,
        }
        return Response(body)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return NewSweepSerializer if self.action == "create" else SweepSerializer
