from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from runs.models import Run
from runs.serializers import RunDetailSerializer
from sweeps.agents import is_live, last_activity
from sweeps.models import Agent, Sweep, Trial
from sweeptracker.limits import BoundedJSONField

if TYPE_CHECKING:
    from projects.models import Project
    from sweeps.plot_data import ParallelData, TrialPoint


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
            "stop_step",
        ]
        extra_kwargs = {
            "stop_step": {
                "help_text": "The step the run had logged when early termination asked it to "
                "stop; a complete trial with one ran to its end before it saw the stop."
            }
        }


class ConfigWarningSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where in the config, e.g. parameters.lr.")
    message = serializers.CharField(help_text="What will be sampled, and how to get the other.")


class SweepSerializer(serializers.ModelSerializer):
    project: serializers.SlugRelatedField[Project] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    warnings = ConfigWarningSerializer(
        many=True,
        read_only=True,
        help_text="Said when the sweep was created: valid config, maybe not what was meant.",
    )
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
            "warnings",
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
    config = BoundedJSONField(help_text="The W&B sweep config: an object, or YAML/JSON text.")
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


class CreatedSweepSerializer(SweepSerializer):
    config_warnings = serializers.SerializerMethodField(
        help_text='The warnings as "path: message" lines, as the config error list has them.'
    )

    class Meta(SweepSerializer.Meta):
        fields = [*SweepSerializer.Meta.fields, "config_warnings"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_config_warnings(self, sweep: Sweep) -> list[str]:
        # The warnings twice, as errors come: {path, message} pairs and printable lines.
        return [f"{w['path']}: {w['message']}" for w in sweep.warnings]


class _NoTags(serializers.ListField):
    """A run made for a trial has no tags yet: nothing to read."""

    def get_attribute(self, instance: Any) -> list[str]:
        return []


class SuggestedRunSerializer(RunDetailSerializer):
    """A run just made for a trial (with the trial loaded): no tags, no points yet."""

    tags = _NoTags(child=serializers.CharField(), read_only=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_sweep(self, run: Run) -> str | None:
        return str(run.trial.sweep_id)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_last_step(self, run: Run) -> int | None:
        return None


class SuggestionSerializer(serializers.Serializer):
    """A trial handed out (a Trial with its run and its sweep's project loaded)."""

    sweep = serializers.CharField(source="sweep_id")
    project = serializers.CharField(source="sweep.project.slug")
    trial = serializers.IntegerField(source="number")
    run_id = serializers.IntegerField()
    run_name = serializers.CharField(source="run.name")
    params = serializers.DictField(source="run.config", help_text="The run's config.")
    run = SuggestedRunSerializer(
        read_only=True, help_text="The new run, as GET runs/{run_id}/ would show it now."
    )
    reported = serializers.SerializerMethodField(
        help_text="The trial the request's `report` was about, as it stands after it; "
        "null without a report."
    )

    @extend_schema_field(TrialSerializer(allow_null=True))
    def get_reported(self, trial: Trial) -> dict[str, Any] | None:
        reported = self.context.get("reported")
        return None if reported is None else dict(TrialSerializer(reported).data)


class ReportSerializer(serializers.Serializer):
    trial = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    value = serializers.FloatField(required=False, allow_null=True)
    values = serializers.ListField(child=serializers.FloatField(), required=False)
    state = serializers.ChoiceField(choices=["complete", "failed"], default="complete")


# What a report folded into a suggestion may say of the previous trial.
REPORT_STATES = {
    "complete": "it ends with `value` (or `values`), as POST report/ does",
    "failed": "it failed, as POST report/ with state failed",
    "finished": "its run ended well: the trial's value is the run summary's metric, as "
    "POST runs/{id}/finish/ with exit_code 0 (a run that ended already stays as it ended)",
    "ended": "nothing changes: its run ended on its own; the answer's `reported` says how",
}


class SuggestReportSerializer(serializers.Serializer):
    """The previous trial's result, told in the request that asks for the next one."""

    trial = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, help_text="The trial's number."
    )
    run_id = serializers.IntegerField(
        min_value=1, required=False, help_text="Or the trial's run, by its pk."
    )
    value = serializers.FloatField(required=False, allow_null=True)
    values = serializers.ListField(child=serializers.FloatField(), required=False)
    state = serializers.ChoiceField(
        choices=list(REPORT_STATES),
        default="complete",
        help_text="; ".join(f"{state}: {meaning}" for state, meaning in REPORT_STATES.items()),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "trial" not in attrs and "run_id" not in attrs:
            raise serializers.ValidationError({"trial": "Name the trial (or its run_id)."})
        return attrs


class SuggestSerializer(serializers.Serializer):
    """The body of a suggestion: empty, or the previous trial's result to apply first."""

    report = SuggestReportSerializer(required=False)


class ScoresSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="fANOVA or PED-ANOVA.")
    trials = serializers.IntegerField(
        required=False, help_text="How many complete trials the forest was fitted on."
    )
    importances = serializers.DictField(
        child=serializers.FloatField(), help_text="Score per parameter; they add up to 1."
    )


class CorrelationEntrySerializer(serializers.Serializer):
    parameter = serializers.CharField()
    value = serializers.CharField(
        allow_null=True,
        help_text="For a categorical parameter correlated one value at a time: that value.",
    )
    r = serializers.FloatField(allow_null=True, help_text="Pearson's r; null if a side is flat.")


class CorrelationSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="Pearson.")
    correlations = CorrelationEntrySerializer(many=True)


class ImportanceSerializer(serializers.Serializer):
    """Which parameters matter for the sweep's first metric (see sweeps/importance.py)."""

    metric = serializers.CharField(required=False, allow_blank=True)
    goal = serializers.CharField(required=False, allow_blank=True)
    trials = serializers.IntegerField(required=False, help_text="Complete trials with a value.")
    min_trials = serializers.IntegerField(required=False)
    needed = serializers.IntegerField(
        required=False, help_text="How many more complete trials importance needs (0: none)."
    )
    evaluator = serializers.CharField(required=False, help_text="The method of `importances`.")
    importances = serializers.DictField(child=serializers.FloatField(), required=False)
    fanova = ScoresSerializer(required=False)
    ped_anova = ScoresSerializer(required=False)
    correlation = CorrelationSerializer(required=False)
    version = serializers.IntegerField(help_text="The sweep version it was computed for.")
    stale = serializers.BooleanField(help_text="Trials ended since; a newer one is coming.")
    seconds = serializers.FloatField(required=False, help_text="How long it took to compute.")
    computed_at = serializers.DateTimeField(required=False)
    error = serializers.CharField(required=False)


class StatsSerializer(serializers.Serializer):
    """Serializes the mapping `sweeps.api.sweep_stats` computes."""

    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Trials per state.")
    total = serializers.IntegerField(help_text="Trials handed out.")
    best = TrialSerializer(allow_null=True)
    best_value = serializers.FloatField(allow_null=True)
    best_params = serializers.DictField(allow_null=True)
    importance = ImportanceSerializer(allow_null=True)


class SweepDetailSerializer(SweepSerializer):
    """One sweep with its statistics (importance only as last computed: a GET computes none)."""

    stats = serializers.SerializerMethodField()

    class Meta(SweepSerializer.Meta):
        fields = [*SweepSerializer.Meta.fields, "stats"]

    @extend_schema_field(StatsSerializer)
    def get_stats(self, sweep: Sweep) -> dict[str, Any]:
        # The view passes the statistics it read: the serializer does no queries of its own.
        stats: dict[str, Any] = StatsSerializer(self.context["stats"]).data
        return stats


class SweepUpdateSerializer(serializers.ModelSerializer):
    run_cap = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, allow_null=True, required=False
    )

    class Meta:
        model = Sweep
        fields = ["name", "description", "run_cap"]


class DimensionSerializer(serializers.Serializer):
    """A `plot_data.Dimension`."""

    name = serializers.CharField(help_text="The parameter's path joined with '/', or the metric.")
    kind = serializers.SerializerMethodField()
    scale = serializers.ChoiceField(
        choices=["linear", "log", "categorical"],
        help_text="log: positions are log10 of the value; categorical: indexes of tick_labels.",
    )
    range = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
    tick_values = serializers.ListField(child=serializers.FloatField())
    tick_labels = serializers.ListField(child=serializers.CharField(allow_blank=True))

    @extend_schema_field(serializers.ChoiceField(choices=["parameter", "metric"]))
    def get_kind(self, dimension: Any) -> str:
        return "metric" if dimension.is_metric else "parameter"


class ParallelRow(NamedTuple):
    """A finished trial with its position on each dimension."""

    point: TrialPoint
    positions: list[float]


class ParallelRowSerializer(serializers.Serializer):
    trial = serializers.IntegerField(source="point.number")
    run_id = serializers.IntegerField(source="point.run_id", allow_null=True)
    state = serializers.CharField(source="point.state")
    positions = serializers.ListField(
        child=serializers.FloatField(), help_text="One per dimension, in axis units."
    )
    params = serializers.DictField(source="point.params")
    value = serializers.FloatField(source="point.value")


class ParallelCoordinatesSerializer(serializers.Serializer):
    """A `plot_data.ParallelData`."""

    metric = serializers.CharField(allow_blank=True)
    goal = serializers.CharField()
    dimensions = DimensionSerializer(many=True)
    rows = serializers.SerializerMethodField(help_text="One per finished trial, by number.")
    best_index = serializers.IntegerField(allow_null=True, help_text="The best row's index.")

    @extend_schema_field(ParallelRowSerializer(many=True))
    def get_rows(self, data: ParallelData) -> Any:
        rows = [
            ParallelRow(point, [d.positions[i] for d in data.dimensions])
            for i, point in enumerate(data.rows)
        ]
        return ParallelRowSerializer(rows, many=True).data


class SweepRunSerializer(serializers.ModelSerializer):
    """A run of the sweep with its trial."""

    run_id = serializers.IntegerField()
    name = serializers.CharField(source="run.name")
    state = serializers.CharField(source="run.state", help_text="The run's state.")
    trial = serializers.IntegerField(source="number", help_text="The trial's number.")
    trial_state = serializers.CharField(source="state")
    value = serializers.FloatField(allow_null=True, help_text="The sweep metric's value.")
    summary = serializers.DictField(source="run.summary")
    created_at = serializers.DateTimeField(source="run.created_at")
    finished_at = serializers.DateTimeField(source="run.finished_at", allow_null=True)

    class Meta:
        model = Trial
        fields = [
            "run_id",
            "name",
            "state",
            "trial",
            "trial_state",
            "params",
            "value",
            "values",
            "is_best",
            "summary",
            "created_at",
            "finished_at",
        ]


class AgentSerializer(serializers.ModelSerializer):
    """An agent of a sweep, with what it runs (a row of sweeps.agents.with_activity)."""

    id = serializers.CharField(source="key", help_text="The agent's own id.")
    trials = serializers.IntegerField(
        source="trial_count", help_text="Trials handed to this agent."
    )
    current_trial = serializers.IntegerField(
        source="current_number", allow_null=True, help_text="The trial it runs now, if any."
    )
    current_run_id = serializers.IntegerField(source="current_run", allow_null=True)
    last_seen_at = serializers.SerializerMethodField(
        help_text="Its last request, or its current run's later heartbeat."
    )
    live = serializers.SerializerMethodField(
        help_text="Seen within AGENT_TIMEOUT seconds and not stopped."
    )

    class Meta:
        model = Agent
        fields = [
            "id",
            "host",
            "pid",
            "started_at",
            "first_seen_at",
            "last_seen_at",
            "stopped_at",
            "live",
            "trials",
            "current_trial",
            "current_run_id",
        ]

    @extend_schema_field(serializers.DateTimeField())
    def get_last_seen_at(self, agent: Agent) -> str:
        return serializers.DateTimeField().to_representation(last_activity(agent))

    def get_live(self, agent: Agent) -> bool:
        return is_live(agent)


class AgentStopSerializer(serializers.Serializer):
    """What an agent says as it exits (it names itself in the X-SweepTracker-Agent header)."""

    stopped = serializers.BooleanField(help_text="True: the agent exited.")
