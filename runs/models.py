from __future__ import annotations

import random

from django.db import models
from django.utils import timezone

from projects.models import Project

_ADJECTIVES = [
    "amber",
    "brisk",
    "calm",
    "dashing",
    "eager",
    "fancy",
    "gentle",
    "hardy",
    "icy",
    "jolly",
    "keen",
    "lively",
]
_NOUNS = [
    "sun",
    "river",
    "forest",
    "meadow",
    "comet",
    "harbor",
    "canyon",
    "glacier",
    "breeze",
    "summit",
    "delta",
    "ember",
]


def random_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1, 999)}"


class RunState(models.TextChoices):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CRASHED = "crashed"
    KILLED = "killed"


FINAL_STATES = {RunState.FINISHED, RunState.FAILED, RunState.CRASHED, RunState.KILLED}
FINAL_STATE_CHOICES = [(state.value, state.label) for state in RunState if state in FINAL_STATES]


class Run(models.Model):
    """One execution of a training script: its config, summary and metric history."""

    # The requesting user's role, set by projects.access.with_role when it loads the row.
    my_role: str | None

    project = models.ForeignKey(Project, models.CASCADE, related_name="runs")
    # W&B's init(id=...). A run made without one ("") is known by str(pk) instead
    # (wire_id), which costs no second write after the insert; runs.ids keeps the two
    # from colliding.
    explicit_id = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=200, default=random_run_name)
    group = models.CharField(max_length=128, blank=True, default="")
    job_type = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(
        max_length=10, choices=RunState.choices, default=RunState.RUNNING, db_index=True
    )
    config = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # define_metric specs by metric name or glob: {step_metric, summary, goal, hidden}.
    metric_definitions = models.JSONField(default=dict, blank=True)
    # Metric keys logged with integer values, so history gives them back as ints: the
    # points table keeps one float column, and a per-point type would slow every insert.
    int_keys = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "explicit_id"],
                condition=~models.Q(explicit_id=""),
                name="one_explicit_id_per_project",
            )
        ]
        indexes = [
            models.Index(fields=["project", "group"], name="runs_run_group"),
            models.Index(fields=["project", "job_type"], name="runs_run_job_type"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.wire_id})"

    @property
    def wire_id(self) -> str:
        """The run's W&B-style id: the explicit one, else the primary key's digits."""
        return self.explicit_id or str(self.pk)

    @property
    def is_running(self) -> bool:
        return self.state == RunState.RUNNING

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags.all()]

    def set_tags(self, names: list[str]) -> None:
        self.tags.all().delete()
        RunTag.objects.bulk_create([RunTag(run=self, name=name) for name in dict.fromkeys(names)])

    def touch_heartbeat(self) -> None:
        self.heartbeat_at = timezone.now()
        Run.objects.filter(pk=self.pk).update(heartbeat_at=self.heartbeat_at)

    def mark_final(
        self, state: str, exit_code: int | None = None, with_summary: bool = False
    ) -> None:
        self.state = state
        self.exit_code = exit_code
        self.finished_at = timezone.now()
        fields = ["state", "exit_code", "finished_at", "updated_at"]
        self.save(update_fields=[*fields, "summary"] if with_summary else fields)


class RunTag(models.Model):
    """A tag on a run; a table of its own so both databases can filter by it."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="tags")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="one_tag_per_run")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class MetricPoint(models.Model):
    """One logged value. NaN is stored as NULL: SQLite cannot hold a NaN."""

    # No foreign key in the database: checking it was half of the insert time on
    # PostgreSQL. Django still deletes a run's points with it (its cascade runs in
    # Python), and the unique (run, key, step) index serves every lookup by run.
    run = models.ForeignKey(
        Run, models.CASCADE, related_name="points", db_constraint=False, db_index=False
    )
    key = models.CharField(max_length=255)
    step = models.BigIntegerField()
    value = models.FloatField(null=True)
    wall_time = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "key", "step"], name="one_point_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.step}={self.value}"
