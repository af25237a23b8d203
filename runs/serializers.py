from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.models import Project
from runs import history
from runs.ids import explicit_id_problem
from runs.metric_definitions import GOALS
from runs.models import FINAL_STATE_CHOICES, MetricPoint, Run
from runs.resume import RESUME_CHOICES
from runs.values import json_safe, to_wire
from sweeptracker.limits import BoundedJSONField


class MetricSpecSerializer(serializers.Serializer):
    """One define_metric spec; only for the schema (runs.metric_definitions checks them)."""

    step_metric = serializers.CharField(allow_null=True, required=False)
    summary = serializers.CharField(
        allow_null=True, required=False, help_text='W&B\'s summary ops, e.g. "min" or "min,max"'
    )
    goal = serializers.ChoiceField(choices=sorted(GOALS), allow_null=True, required=False)
    hidden = serializers.BooleanField(required=False)


class RunSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="wire_id",
        read_only=True,
        help_text="The run's W&B-style id: the one it was created with, else its pk as digits.",
    )
    pk = serializers.IntegerField(read_only=True, help_text="The run's primary key.")
    project: serializers.SlugRelatedField[Project] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    entity = serializers.CharField(
        source="project.owner.username", read_only=True, help_text="The project owner's username."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, source="tag_names"
    )
    config = BoundedJSONField(required=False)
    summary = BoundedJSONField(required=False)
    sweep = serializers.SerializerMethodField(help_text="The sweep this run is a trial of.")
    metric_definitions = serializers.DictField(
        child=MetricSpecSerializer(),
        read_only=True,
        help_text="define_metric specs by metric name or glob, set through log batches.",
    )
    url = serializers.SerializerMethodField(help_text="The run's page.")

    class Meta:
        model = Run
        fields = [
            "id",
            "pk",
            "project",
            "entity",
            "name",
            "state",
            "group",
            "job_type",
            "config",
            "summary",
            "tags",
            "notes",
            "exit_code",
            "heartbeat_at",
            "created_at",
            "updated_at",
            "finished_at",
            "sweep",
            "metric_definitions",
            "url",
        ]
        read_only_fields = ["state", "exit_code", "heartbeat_at", "finished_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_sweep(self, run: Run) -> str | None:
        # List and detail querysets annotate it (runs.api); a run made here asks once.
        if hasattr(run, "sweep_key"):
            annotated: str | None = run.sweep_key
            return annotated
        found: str | None = (
            Run.objects.filter(pk=run.pk).values_list("trial__sweep_id", flat=True).first()
        )
        return found

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, run: Run) -> str:
        path = reverse("runs:detail", args=[run.project.slug, run.wire_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def validate_config(self, config: Any) -> dict[str, Any]:
        if not isinstance(config, dict):
            raise serializers.ValidationError("must be an object of name to value")
        safe: dict[str, Any] = json_safe(config)
        return safe

    def validate_summary(self, summary: Any) -> dict[str, Any]:
        if not isinstance(summary, dict):
            raise serializers.ValidationError("must be an object of key to value")
        safe: dict[str, Any] = json_safe(summary)
        return safe

    def create(self, validated_data: dict[str, Any]) -> Run:
        tags = validated_data.pop("tag_names", [])
        run: Run = super().create(validated_data)
        run.set_tags(tags)
        return run

    def update(self, instance: Run, validated_data: dict[str, Any]) -> Run:
        tags = validated_data.pop("tag_names", None)
        run: Run = super().update(instance, validated_data)
        if tags is not None:
            run.set_tags(tags)
        return run


class RunDetailSerializer(RunSerializer):
    last_step = serializers.SerializerMethodField(help_text="The highest step logged.")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "last_step"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_last_step(self, run: Run) -> int | None:
        return history.last_step(run)


class StartedRunSerializer(RunDetailSerializer):
    """The answer to a create: 201 for a new run, 200 with resumed=true for a resumed one."""

    resumed = serializers.BooleanField(read_only=True)

    class Meta(RunDetailSerializer.Meta):
        fields = [*RunDetailSerializer.Meta.fields, "resumed"]


class NewRunSerializer(RunSerializer):
    # A new run names its project by slug; the answer shows the run's as RunSerializer does.
    project = serializers.SlugField(  # type: ignore[assignment]
        help_text="Slug of a project you may edit."
    )
    id = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text="W&B's run id: 1-64 of [A-Za-z0-9_-], unique in the project. Digits only "
        "may only name the existing run with that pk.",
    )
    resume = serializers.ChoiceField(
        choices=RESUME_CHOICES,
        required=False,
        allow_null=True,
        help_text="What to do when the id names an existing run: continue it (allow, must) "
        "or refuse (never, null: 409); must also refuses an id that names no run (400).",
    )

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "resume"]

    def validate_id(self, value: str | None) -> str | None:
        if value is not None and (problem := explicit_id_problem(value)):
            raise serializers.ValidationError(problem)
        return value


class PointSerializer(serializers.ModelSerializer):
    time = serializers.FloatField(source="wall_time")
    # Not get_value: that name is Field's own (it reads a nested field's input).
    value = serializers.SerializerMethodField(
        method_name="value_of",
        help_text="A number; logged ints come back as ints; NaN and ±Infinity as strings.",
    )

    class Meta:
        model = MetricPoint
        fields = ["key", "step", "value", "time"]

    @extend_schema_field({"oneOf": [{"type": "number"}, {"type": "integer"}, {"type": "string"}]})
    def value_of(self, point: MetricPoint) -> float | int | str:
        value = to_wire(point.value)
        # Keys logged as ints (the context's `int_keys`) give back their whole values as ints.
        if point.key in self.context.get("int_keys", ()) and isinstance(value, float):
            return int(value) if value.is_integer() else value
        return value


class LogBatchSerializer(serializers.Serializer):
    """Only for the schema: the batch is checked by `runs.ingest`, path by path."""

    rows = serializers.ListField(child=serializers.DictField(), required=False)
    summary = serializers.DictField(required=False)
    metrics = serializers.DictField(
        child=MetricSpecSerializer(),
        required=False,
        help_text="define_metric specs by name or glob, merged into the run's.",
    )


class HistoryQuerySerializer(serializers.Serializer):
    """The history's query parameters, checked before any lookup."""

    keys = serializers.CharField(required=False, allow_blank=True)
    min_step = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    max_step = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    samples = serializers.IntegerField(required=False, min_value=1, max_value=history.MAX_SAMPLES)


class LogResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    should_stop = serializers.BooleanField()
    state = serializers.CharField()


class HeartbeatSerializer(serializers.Serializer):
    should_stop = serializers.BooleanField()
    state = serializers.CharField()


class FinishSerializer(serializers.Serializer):
    exit_code = serializers.IntegerField(required=False, allow_null=True, default=None)
    state = serializers.ChoiceField(choices=FINAL_STATE_CHOICES, required=False, default=None)
