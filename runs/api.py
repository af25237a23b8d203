from __future__ import annotations

import contextlib
from typing import Any

from django.db import DataError, transaction
from django.db.models import F, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import check_role, get_project, with_role
from projects.models import Role
from runs import history
from runs.ids import RUN_ID_PATTERN, run_id_q
from runs.ingest import BatchError, log_batch
from runs.lifecycle import RunConflict, crash_silent_runs_now_and_then, finish_run
from runs.models import Run
from runs.resume import ResumeRefused, RunExists, RunStart, start_run
from runs.run_filters import RUN_LIST, FilterError, filter_runs
from runs.serializers import (
    FinishSerializer,
    HeartbeatSerializer,
    HistoryQuerySerializer,
    LogBatchSerializer,
    LogResultSerializer,
    NewRunSerializer,
    PointSerializer,
    RunDetailSerializer,
    RunSerializer,
    StartedRunSerializer,
)
from runs.signals import stop_requested
from sweeptracker import read_only
from sweeptracker.errors import Conflict, Invalid
from sweeptracker.schema import CONFLICT

READ_ACTIONS = {"list", "retrieve", "history"}
# An explicit id may be in several of the user's projects; more than this are not listed.
MAX_NAMED_PROJECTS = 20
RUN_ID_PARAMETERS = [
    OpenApiParameter(
        "id",
        str,
        OpenApiParameter.PATH,
        pattern=f"^{RUN_ID_PATTERN}$",
        description="The run's id: the explicit W&B id it was created with, or its pk.",
    ),
    OpenApiParameter(
        "project", str, description="Project slug; needed when the id is in several projects"
    ),
]
LIST_PARAMETERS = [
    *RUN_LIST.parameters(),
    OpenApiParameter(
        "filters",
        str,
        description="W&B's MongoDB-style filters as a JSON object, e.g. "
        '{"config.lr": {"$gt": 0.01}, "state": "finished"}. Fields: state, name '
        "(display_name), tags, group, job_type (jobType), sweep, created_at (createdAt), "
        "config.<key> (config.<key>.value), summary_metrics.<key>. Operators: $eq $ne $gt "
        "$gte $lt $lte $in $nin $regex $exists $not $and $or.",
    ),
    OpenApiParameter(
        "order",
        str,
        description="W&B's order: [+|-]field with field one of created_at, name, state, "
        "group, job_type, config.<key>, summary_metrics.<key>. Default -created_at.",
    ),
]


class HistoryPagination(LimitOffsetPagination):
    default_limit = 10_000
    max_limit = 50_000


# What PUT/PATCH may change; the other fields change through actions, or never.
WRITABLE = ("name", "group", "job_type", "config", "summary", "tags", "notes")
_ENDS = "ends through POST /api/v1/runs/{id}/finish/ (with exit_code, or state)"
HINTS = {
    "state": f"Read-only: a run {_ENDS}.",
    "exit_code": f"Read-only: the exit code is set when a run {_ENDS}.",
    "finished_at": f"Read-only: set when a run {_ENDS}.",
    "heartbeat_at": "Read-only: set by POST /api/v1/runs/{id}/heartbeat/.",
}


class RunViewSet(viewsets.ModelViewSet):
    """Runs of the projects you are a member of, newest first."""

    serializer_class = RunSerializer
    lookup_value_regex = RUN_ID_PATTERN

    def get_queryset(self) -> QuerySet[Run]:
        # The sweep comes through the `trial` relation the sweeps app defines on Run.
        runs: QuerySet[Run] = Run.objects.select_related("project__owner").annotate(
            sweep_key=F("trial__sweep_id")
        )
        runs = with_role(runs, self.request.user, "project")
        if self.action != "list":
            return runs
        try:
            runs = filter_runs(runs, self.request.query_params)
        except FilterError as error:
            raise Invalid(error.errors) from error
        return runs.prefetch_related("tags")

    def get_object(self) -> Run:
        """The run the URL names by pk or explicit id, within ?project= when given."""
        run_id = self.kwargs["pk"]
        runs = self.get_queryset().filter(run_id_q(run_id))
        if slug := self.request.query_params.get("project"):
            runs = runs.filter(project__slug=slug)
        found = list(runs[:MAX_NAMED_PROJECTS])
        if not found:
            raise NotFound(f"No run {run_id!r} in your projects.")
        if len(found) > 1:
            slugs = ", ".join(sorted(run.project.slug for run in found))
            raise Invalid.sentence(
                f"Run {run_id!r} is in several of your projects ({slugs}); "
                "name one with ?project=SLUG.",
                "project",
            )
        run = found[0]
        check_role(run.my_role, Role.VIEWER if self.action in READ_ACTIONS else Role.EDITOR)
        return run

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return NewRunSerializer
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Runs matching the query, a page at a time."""
        # Inside a transaction, a savepoint keeps it usable after a query the database
        # refuses; outside one none is opened: on SQLite it would take the write lock.
        inside = transaction.get_connection().in_atomic_block
        try:
            with transaction.atomic() if inside else contextlib.nullcontext():
                return super().list(request, *args, **kwargs)
        except DataError as error:
            # PostgreSQL's regular expressions are not Python's: it may refuse one we took.
            raise Invalid.at("filters", f"the database refused it: {error}") from error

    @extend_schema(
        request=NewRunSerializer,
        responses={
            201: StartedRunSerializer,
            200: OpenApiResponse(StartedRunSerializer, description="The existing run, resumed"),
            409: CONFLICT,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new run; with `id` and `resume`, W&B's rules for continuing the run of that id."""
        serializer = NewRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        project = get_project(request.user, fields.pop("project"), Role.EDITOR)
        start = RunStart(
            tags=fields.pop("tag_names", None),
            run_id=fields.pop("id", None),
            resume=fields.pop("resume", None),
            fields=fields,
        )
        try:
            started = start_run(project, start)
        except ResumeRefused as error:
            raise Invalid.sentence(str(error), "resume") from error
        except RunExists as error:
            raise Conflict(str(error)) from error
        # Why the type: ignore below: For StartedRunSerializer's `resumed`; not a model field.
        started.run.resumed = started.resumed  # type: ignore[attr-defined]
        data = StartedRunSerializer(started.run, context=self.get_serializer_context()).data
        code = status.HTTP_200_OK if started.resumed else status.HTTP_201_CREATED
        return Response(data, status=code)

    @extend_schema(parameters=RUN_ID_PARAMETERS)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The run, with the last step it logged."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(parameters=RUN_ID_PARAMETERS)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change name, group, job_type, config, summary, tags or notes; a read-only field
        (state, exit_code, ...) is a 400 naming the way it changes."""
        context = self.get_serializer_context()
        current = RunDetailSerializer(self.get_object(), context=context).data
        if problems := read_only.read_only_writes(request.data, current, WRITABLE, HINTS):
            raise Invalid(problems)
        return super().update(request, *args, **kwargs)

    @extend_schema(parameters=RUN_ID_PARAMETERS)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(parameters=RUN_ID_PARAMETERS)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            *RUN_ID_PARAMETERS,
            OpenApiParameter(
                "final",
                bool,
                description="true: sent after the run's script ended (it cannot see should_stop)",
            ),
        ],
        request=LogBatchSerializer,
        responses=LogResultSerializer,
    )
    @action(detail=True, methods=["post"])
    def log(self, request: Request, pk: str) -> Response:
        """Store rows, summary updates and metric specs; a resent batch stores nothing twice."""
        run = self.get_object()
        final = request.query_params.get("final") == "true"
        try:
            result = log_batch(run, request.data, final=final)
        except BatchError as error:
            raise Invalid(error.errors) from error
        answer = {"stored": result.stored, "should_stop": result.stop_run, "state": run.state}
        return Response(LogResultSerializer(answer).data)

    @extend_schema(parameters=RUN_ID_PARAMETERS, request=None, responses=HeartbeatSerializer)
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: Request, pk: str) -> Response:
        """Tell the server the run is alive; the answer says whether it should stop."""
        run = self.get_object()
        run.touch_heartbeat()
        crash_silent_runs_now_and_then()
        # Receivers answer anything; Django's stubs say str | None.
        answers: list[tuple[Any, Any]] = stop_requested.send(sender=Run, run=run)
        should_stop = not run.is_running or any(answer is True for _, answer in answers)
        return Response(HeartbeatSerializer({"state": run.state, "should_stop": should_stop}).data)

    @extend_schema(
        parameters=RUN_ID_PARAMETERS,
        request=FinishSerializer,
        responses={200: RunSerializer, 409: CONFLICT},
    )
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
        return Response(RunSerializer(run, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            *RUN_ID_PARAMETERS,
            OpenApiParameter("keys", OpenApiTypes.STR, description="Comma-separated"),
            OpenApiParameter("min_step", OpenApiTypes.INT, description="First step (inclusive)"),
            OpenApiParameter("max_step", OpenApiTypes.INT, description="Step to stop before"),
            OpenApiParameter(
                "samples",
                OpenApiTypes.INT,
                description=f"At most this many steps (1 to {history.MAX_SAMPLES}), evenly "
                "spread, with the first and the last",
            ),
        ],
        responses=PointSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination)
    def history(self, request: Request, pk: str) -> Response:
        """Logged points in step order: ints as logged, non-finite values as strings."""
        run = self.get_object()
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        keys = [key for key in params.get("keys", "").split(",") if key]
        steps = history.StepRange(params.get("min_step"), params.get("max_step"))
        page = self.paginate_queryset(history.points_of(run, keys, steps, params.get("samples")))
        context = {"int_keys": set(run.int_keys)}
        return self.get_paginated_response(PointSerializer(page, many=True, context=context).data)
