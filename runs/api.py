from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import get_project
from projects.models import Role
from projects.permissions import check_role, with_role
from runs import history
from runs.ingest import BatchError, log_batch
from runs.lifecycle import RunConflict, crash_silent_runs_now_and_then, finish_run
from runs.models import Run, RunState
from runs.serializers import (
    FinishSerializer,
    HeartbeatSerializer,
    LogBatchSerializer,
    LogResultSerializer,
    NewRunSerializer,
    PointSerializer,
    RunSerializer,
)
from runs.signals import stop_requested
from sweeptracker.converters import ID_REGEX
from sweeptracker.errors import Conflict

READ_ACTIONS = {"list", "retrieve", "history"}


class HistoryPagination(LimitOffsetPagination):
    default_limit = 10_000
    max_limit = 50_000


@extend_schema(
    parameters=[
        OpenApiParameter("project", str, description="Project slug"),
        OpenApiParameter("state", str, enum=RunState.values),
        OpenApiParameter("tag", str),
        OpenApiParameter("search", str, description="Part of the run name"),
    ]
)
class RunViewSet(viewsets.ModelViewSet):
    """Runs of the projects you are a member of, newest first."""

    serializer_class = RunSerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self) -> QuerySet[Run]:
        runs = with_role(Run.objects.select_related("project"), self.request.user, "project")
        if self.action != "list":
            return runs
        params = self.request.query_params
        if params.get("project"):
            runs = runs.filter(project__slug=params["project"])
        if params.get("state"):
            runs = runs.filter(state=params["state"])
        if params.get("tag"):
            runs = runs.filter(tags__name=params["tag"])
        if params.get("search"):
            runs = runs.filter(name__icontains=params["search"])
        return runs.prefetch_related("tags").order_by("-created_at", "-id")

    def get_object(self) -> Run:
        run = super().get_object()
        check_role(run.my_role, Role.VIEWER if self.action in READ_ACTIONS else Role.EDITOR)
        return run

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return NewRunSerializer if self.action == "create" else RunSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        project = get_project(self.request.user, serializer.validated_data["project"], Role.EDITOR)
        serializer.context["project"] = project
        serializer.save()

    @extend_schema(request=LogBatchSerializer, responses=LogResultSerializer)
    @action(detail=True, methods=["post"])
    def log(self, request: Request, pk: str) -> Response:
        """Store metric rows and summary updates; resending a batch stores nothing twice."""
        run = self.get_object()
        try:
            result = log_batch(run, request.data)
        except BatchError as error:
            raise ValidationError(error.errors) from error
        body = {"stored": result.stored, "should_stop": result.should_stop, "state": run.state}
        return Response(body)

    @extend_schema(request=None, responses=HeartbeatSerializer)
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: Request, pk: str) -> Response:
        """Tell the server the run is alive; the answer says whether it should stop."""
        run = self.get_object()
        run.touch_heartbeat()
        crash_silent_runs_now_and_then()
        answers = stop_requested.send(sender=Run, run=run)
        should_stop = not run.is_running or any(answer is True for _, answer in answers)
        return Response({"state": run.state, "should_stop": should_stop})

    @extend_schema(request=FinishSerializer, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str) -> Response:
        """End the run: exit_code 0 is finished, others failed; or name the state."""
        run = self.get_object()
        serializer = FinishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = finish_run(run, **serializer.validated_data)
        except RunConflict as error:
            raise Conflict(str(error)) from error
        return Response(RunSerializer(run).data)

    @extend_schema(
        parameters=[OpenApiParameter("keys", OpenApiTypes.STR, description="Comma-separated")],
        responses=PointSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination)
    def history(self, request: Request, pk: str) -> Response:
        """Every logged point in step order, non-finite values as strings."""
        run = self.get_object()
        keys = [key for key in request.query_params.get("keys", "").split(",") if key]
        page = self.paginate_queryset(history.points_of(run, keys))
        return self.get_paginated_response(PointSerializer(page, many=True).data)
