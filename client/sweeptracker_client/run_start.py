"""Making a run on the server: its project, the entity check, and create-or-resume.

Used by init() and by `sweeptracker sync` for runs made offline.
"""

from __future__ import annotations

import re
from typing import Any

from sweeptracker_client.api import Api, Project, RunInfo
from sweeptracker_client.errors import SweepTrackerError

SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
# W&B's run ids; here they are also what a URL takes, so the server allows only these.
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RESUME_MODES = ("allow", "must", "never")


def check_slug(project: str) -> str:
    """`project` if it can name a project; SweepTrackerError otherwise."""
    if not SLUG.match(project):
        raise SweepTrackerError(
            f"Project names may hold only letters, digits, - and _, not {project!r}."
        )
    return project


def check_run_id(run_id: str) -> str:
    """`run_id` if the server accepts it as an explicit run id."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise SweepTrackerError(f"Run ids have 1 to 64 letters, digits, - or _, not {run_id!r}.")
    return run_id


def ensure_project(api: Api, slug: str) -> Project:
    """Make sure the project exists and is yours to log to, creating it if need be."""
    try:
        return api.project(slug)
    except SweepTrackerError as error:
        if error.status != 404:
            raise
    try:
        return api.create_project(slug)
    except SweepTrackerError as error:
        taken = isinstance(error.detail, dict) and "exist" in str(error.detail.get("slug", ""))
        if error.status != 400 or not taken:
            raise
        raise SweepTrackerError(
            f"Project {slug!r} exists but you are not a member of it: ask one of its admins "
            "to add you, or log to another project.",
            error.status,
            error.detail,
        ) from error


def check_entity(project: Project, entity: str | None) -> None:
    """W&B's entity is the project's owner here: refuse any other, never ignore it."""
    if entity and entity != project.owner:
        raise SweepTrackerError(
            f"entity={entity!r} does not match project {project.slug!r}, whose owner "
            f"(SweepTracker's entity) is {project.owner!r}. Pass entity={project.owner!r}, "
            "or leave entity out."
        )


def create(api: Api, project: str, spec: dict[str, Any]) -> RunInfo:
    """Create the run `spec` describes (init()'s arguments), or resume the one with its id.

    `spec` holds name, config (wire form), tags, notes, group, job_type, id,
    resume and entity; absent ones are left to the server.
    """
    found = ensure_project(api, project)
    check_entity(found, spec.get("entity"))
    try:
        info = api.create_run(
            project,
            spec.get("name"),
            spec.get("config") or {},
            list(spec.get("tags") or []),
            spec.get("notes"),
            id=spec.get("id"),
            group=spec.get("group"),
            job_type=spec.get("job_type"),
            resume=spec.get("resume"),
        )
    except SweepTrackerError as error:
        if error.status == 409 and spec.get("id"):
            raise SweepTrackerError(
                f"A run with id {spec['id']!r} exists in project {project!r} already; "
                "pass resume='allow' (or 'must') to continue it, or another id.",
                error.status,
                error.detail,
            ) from error
        raise
    info.entity = info.entity or found.owner
    return info
