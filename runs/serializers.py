from __future__ import annotations

from typing import Any

from rest_framework import serializers

from runs.models import FINAL_STATE_CHOICES, MetricPoint, Run
from runs.values import json_safe, to_wire


class RunSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, source="tag_names"
    )
    config = serializers.JSONField(required=False)
    summary = serializers.JSONField(required=False)

    class Meta:
        model = Run
        fields = [
            "id",
            "project",
            "name",
            "state",
            "config",
            "summary",
            "tags",
            "notes",
            "exit_code",
            "heartbeat_at",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = ["state", "exit_code", "heartbeat_at", "finished_at"]

    def validate_config(self, config: Any) -> dict[str, Any]:
        if not isinstance(config, dict):
            raise serializers.ValidationError("must be an object of name to value")
        return json_safe(config)

    def validate_summary(self, summary: Any) -> dict[str, Any]:
        if not isinstance(summary, dict):
            raise serializers.ValidationError("must be an object of key to value")
        return json_safe(summary)

    def create(self, validated_data: dict[str, Any]) -> Run:
        tags = validated_data.pop("tag_names", [])
        run = super().create(validated_data)
        run.set_tags(tags)
        return run

    def update(self, instance: Run, validated_data: dict[str, Any]) -> Run:
        tags = validated_data.pop("tag_names", None)
        run = super().update(instance, validated_data)
        if tags is not None:
            run.set_tags(tags)
        return run


class NewRunSerializer(RunSerializer):
    project = serializers.SlugField(help_text="Slug of a project you may edit.")

    def create(self, validated_data: dict[str, Any]) -> Run:
        validated_data.pop("project")
        return super().create({**validated_data, "project": self.context["project"]})


class PointSerializer(serializers.ModelSerializer):
    time = serializers.FloatField(source="wall_time")
    value = serializers.SerializerMethodField()

    class Meta:
        model = MetricPoint
        fields = ["key", "step", "value", "time"]

    def get_value(self, point: MetricPoint) -> float | str:
        return to_wire(point.value)


class LogBatchSerializer(serializers.Serializer):
    """Only for the schema: the batch is checked by `runs.ingest`, path by path."""

    rows = serializers.ListField(child=serializers.DictField(), required=False)
    summary = serializers.DictField(required=False)


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
