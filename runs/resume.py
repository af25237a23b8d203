"""Starting a run, W&B's way: a new one, or with `id` + `resume` the one a crash left behind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.models import Project
from runs.ids import is_pk_digits, run_id_q
from runs.models import Run, RunState

RESUME_CHOICES = ("allow", "must", "never")


class ResumeRefused(ValueError):
    """The request cannot be met as asked (400): `must` found nothing, or a digits-only id."""


class RunExists(Exception):
    """The id names a run and the request did not ask to resume it (409)."""


@dataclass
class RunStart:
    """What a script asked for when it started: the run's fields and how to treat its id."""

    fields: dict[str, Any]  # name, config, summary, notes, group, job_type (as given)
    tags: list[str] | None = None
    run_id: str | None = None
    resume: str | None = None


@dataclass
class Started:
    run: Run
    resumed: bool


def start_run(project: Project, start: RunStart) -> Started:
    """A new run, or the existing run `start.run_id` names when `start.resume` allows it.

    W&B's rules: "must" needs the run to exist, "never" (or no resume) needs it not to;
    "allow" takes either. A digits-only id may only name the run with that pk.
    """
    if start.run_id is None:
        if start.resume == "must":
            raise ResumeRefused("resume='must' needs the id of the run to resume.")
        return Started(_create(project, start), resumed=False)
    existing = _find(project, start.run_id)
    if existing is None:
        if start.resume == "must":
            raise ResumeRefused(
                f"resume='must' but run {start.run_id!r} does not exist in project "
                f"{project.slug!r}."
            )
        if is_pk_digits(start.run_id):
            raise ResumeRefused(
                f"A run id of digits only ({start.run_id!r}) would collide with the numeric "
                f"ids of other runs; it may only name an existing run of {project.slug!r}. "
                "Use an id with a letter, '-' or '_' in it."
            )
        try:
            # A savepoint: another request may create the same id between the look and here.
            with transaction.atomic():
                return Started(_create(project, start), resumed=False)
        except IntegrityError:
            existing = _find(project, start.run_id)
            if existing is None:
                raise
    if start.resume not in ("allow", "must"):
        raise RunExists(
            f"Run {start.run_id!r} already exists in project {project.slug!r}; "
            "pass resume='allow' (or 'must') to continue it, or choose another id."
        )
    return Started(_resume(existing, start), resumed=True)


def _find(project: Project, run_id: str) -> Run | None:
    return Run.objects.filter(run_id_q(run_id), project=project).first()


def _create(project: Project, start: RunStart) -> Run:
    explicit_id = "" if start.run_id is None else start.run_id
    run = Run.objects.create(project=project, explicit_id=explicit_id, **start.fields)
    run.set_tags(start.tags or [])
    return run


@transaction.atomic
def _resume(run: Run, start: RunStart) -> Run:
    """The run running again from where it stopped; fields the script gave replace its own,
    and its config is updated with the script's (W&B merges the two the same way)."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    fields = dict(start.fields)
    locked.config = {**locked.config, **fields.pop("config", {})}
    locked.summary = {**locked.summary, **fields.pop("summary", {})}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.state = RunState.RUNNING
    locked.heartbeat_at = timezone.now()
    locked.finished_at = None
    locked.exit_code = None
    locked.save()
    if start.tags is not None:
        locked.set_tags(start.tags)
    return locked
