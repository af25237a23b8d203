from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import get_project
from projects.models import Role
from projects.permissions import check_role, with_role
from sweeps import lifecycle, results, sampling
from sweeps.config import ConfigError
from sweeps.models import Method, Sweep, SweepState, Trial, TrialState
from sweeps.serializers import (
    NewSweepSerializer,
    ReportSerializer,
    StatsSerializer,
    SuggestionSerializer,
    SweepSerializer,
    TrialSerializer,
)
from sweeptracker.errors import Conflict

READ_ACTIONS = {"list", "retrieve", "trials", "stats"}


def config_error_body(error: ConfigError) -> dict[str, Any]:
    return {
        "detail": f"The sweep config has {len(error.problems)} problem(s).",
        "config": [f"{path}: {message}" for path, message in error.problems],
        "problems": [{"path": path, "message": message} for path, message in error.problems],
    }


@extend_schema(
    parameters=[
        OpenApiParameter("project", str, description="Project slug"),
        OpenApiParameter("state", str, enum=SweepState.values),
        OpenApiParameter("method", str, enum=Method.values),
        OpenApiParameter("search", str, description="Part of the sweep name"),
    ]
)
class SweepViewSet(viewsets.ModelViewSet):
    """Sweeps of the projects you are a member of, newest first."""

    serializer_class = SweepSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Sweep]:
        sweeps = with_role(
            Sweep.objects.select_related("project", "best_trial"), self.request.user, "project"
        )
        params = self.request.query_params
        if self.action == "list":
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

    @extend_schema(request=NewSweepSerializer, responses={201: SweepSerializer})
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
        sweep.my_role = project.role
        return Response(SweepSerializer(sweep).data, status=status.HTTP_201_CREATED)

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
        responses=TrialSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def trials(self, request: Request, pk: str) -> Response:
        """The sweep's trials by number."""
        sweep = self.get_object()
        trials = sweep.trials.order_by("number")
        if request.query_params.get("state"):
            trials = trials.filter(state=request.query_params["state"])
        page = self.paginate_queryset(trials)
        return self.get_paginated_response(TrialSerializer(page, many=True).data)

    @extend_schema(responses=StatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str) -> Response:
        """Trials per state, the best trial and parameter importance."""
        sweep = self.get_object()
        counts = dict.fromkeys(TrialState.values, 0)
        for row in sweep.trials.values("state").annotate(n=Count("pk")):
            counts[row["state"]] = row["n"]
        best = TrialSerializer(sweep.best_trial).data if sweep.best_trial else None
        body = {"counts": counts, "best": best, "importance": sampling.importance(sweep)}
        return Response(body)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return NewSweepSerializer if self.action == "create" else SweepSerializer
