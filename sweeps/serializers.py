from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sweeps.models import Sweep, Trial


class TrialSerializer(serializers.ModelSerializer):
    run_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Trial
        fields = [
            "number",
            "run_id",
            "params",
            "state",
            "value",
            "values",
            "is_best",
            "created_at",
            "ended_at",
        ]


class SweepSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    best_trial = TrialSerializer(read_only=True, allow_null=True)
    trial_count = serializers.IntegerField(source="next_number", read_only=True)

    class Meta:
        model = Sweep
        fields = [
            "id",
            "project",
            "name",
            "description",
            "method",
            "metric",
            "state",
            "run_cap",
            "seed",
            "trial_count",
            "best_trial",
            "config",
            "config_text",
            "created_at",
            "updated_at",
            "started_at",
            "ended_at",
        ]
        read_only_fields = [
            "method",
            "metric",
            "state",
            "seed",
            "config",
            "config_text",
            "started_at",
            "ended_at",
        ]


class NewSweepSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="Slug of a project you may edit.")
    config = serializers.JSONField(help_text="The W&B sweep config: an object, or YAML/JSON text.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
    warm_start_from = serializers.CharField(
        required=False, max_length=8, help_text="Id of a sweep whose complete trials to reuse."
    )

    def validate_config(self, config: Any) -> Any:
        if not isinstance(config, dict | str):
            raise serializers.ValidationError("must be an object or YAML/JSON text")
        return config


class SuggestionSerializer(serializers.Serializer):
    sweep = serializers.CharField()
    project = serializers.CharField()
    trial = serializers.IntegerField()
    run_id = serializers.IntegerField()
    run_name = serializers.CharField()
    params = serializers.DictField()


class ReportSerializer(serializers.Serializer):
    trial = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    value = serializers.FloatField(required=False, allow_null=True)
    values = serializers.ListField(child=serializers.FloatField(), required=False)
    state = serializers.ChoiceField(choices=["complete", "failed"], default="complete")


class StatsSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    best = TrialSerializer(allow_null=True)
    importance = serializers.DictField(allow_null=True)
