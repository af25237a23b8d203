from __future__ import annotations

import secrets
import string

from django.db import models

from projects.models import Project
from runs.models import Run

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_sweep_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def new_seed() -> int:
    return secrets.randbelow(2**31)


class SweepState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"


ENDED_SWEEP_STATES = {SweepState.FINISHED, SweepState.FAILED, SweepState.CANCELED}


class Method(models.TextChoices):
    GRID = "grid"
    RANDOM = "random"
    BAYES = "bayes"


class Sweep(models.Model):
    """A search over a parameter space; its trials are the Optuna study."""

    # The requesting user's role, set by projects.access.with_role when it loads the row.
    my_role: str | None

    id = models.CharField(primary_key=True, max_length=8, default=new_sweep_id, editable=False)
    project = models.ForeignKey(Project, models.CASCADE, related_name="sweeps")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    # [{"name", "goal", "target"}]: one entry, or several for a multi-objective sweep.
    metric = models.JSONField(default=list, blank=True)
    config_text = models.TextField(help_text="The config as submitted, YAML or JSON.")
    config = models.JSONField(help_text="The normalized config.")
    # [{"path", "message"}]: what sweeps.config_warnings said when the sweep was created.
    warnings = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=10, choices=SweepState.choices, default=SweepState.PENDING, db_index=True
    )
    run_cap = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(default=new_seed)
    best_trial = models.ForeignKey(
        "Trial", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Dense trial numbers are taken from here under the sweep's row lock.
    next_number = models.PositiveIntegerField(default=0)
    # Bumped whenever a trial's outcome changes, so caches can tell they are stale.
    version = models.PositiveBigIntegerField(default=0)
    importance = models.JSONField(null=True, blank=True)
    importance_version = models.PositiveBigIntegerField(null=True, blank=True)
    warm_start_from = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_SWEEP_STATES

    @property
    def metric_names(self) -> list[str]:
        return [m["name"] for m in self.metric]

    @property
    def directions(self) -> list[str]:
        return [m["goal"] for m in self.metric]


class TrialState(models.TextChoices):
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"


class Trial(models.Model):
    """One sweep run: the parameters it was given and what came of them."""

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    run = models.OneToOneField(Run, models.CASCADE, null=True, blank=True, related_name="trial")
    # Flat, keyed by the parameter's path joined with "/"; the run's config has them nested.
    params = models.JSONField(default=dict)
    # The sampler's own coordinates of the params (see sweeps.sampling).
    internal = models.JSONField(default=dict)
    # Canonical form of a grid point, to hand each one out once.
    point_key = models.TextField(blank=True, default="")
    state = models.CharField(
        max_length=10, choices=TrialState.choices, default=TrialState.RUNNING, db_index=True
    )
    value = models.FloatField(null=True, blank=True)
    values = models.JSONField(null=True, blank=True)
    is_best = models.BooleanField(default=False)
    # Early termination: the metric's value where the run crossed each band or rung.
    checkpoints = models.JSONField(default=dict, blank=True)
    # Early termination asked the run to stop when it had logged up to this step, on a
    # batch its client sent after the script had ended (`stop_after_end`), or before.
    stop_step = models.BigIntegerField(null=True, blank=True)
    stop_after_end = models.BooleanField(default=False)
    # The agent that was handed the trial (sweeps.agents), when it announced itself.
    agent = models.ForeignKey(
        "Agent", models.SET_NULL, null=True, blank=True, related_name="trials"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "number"], name="one_trial_per_number")
        ]
        indexes = [models.Index(fields=["sweep", "state"])]

    def __str__(self) -> str:
        return f"{self.sweep_id}#{self.number}"

    @property
    def objective(self) -> list[float] | None:
        """Every objective value, single-objective included, or None."""
        return objective_of_columns(self.value, self.values)

    def stop_came_too_late(self) -> bool:
        """Whether the run ran to its end before it could see early termination's stop:
        the stop was asked on a batch its client sent after the script had ended."""
        return self.stop_step is not None and self.stop_after_end


def objective_of_columns(value: float | None, values: list[float] | None) -> list[float] | None:
    if values is not None:
        return [float(v) for v in values]
    return None if value is None else [value]


class Agent(models.Model):
    """A process that runs trials of a sweep, as it announced itself on its requests
    (sweeps.agents reads the announcement; the client's agent sends it)."""

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="agents")
    # The agent's own random id, the same on all its requests.
    key = models.CharField(max_length=64)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    # When the agent process started, by its own clock.
    started_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    # Said by the agent as it exited; an agent that died says nothing and times out.
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "first_seen_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["sweep", "key"], name="one_agent_per_key")]

    def __str__(self) -> str:
        return f"{self.host or '?'}:{self.pid or '?'} ({self.sweep_id})"
