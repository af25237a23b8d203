"""Who may see and change which project: the one place that answers it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from projects.models import Membership, Project, Role


def projects_for(user: Any) -> QuerySet[Project]:
    """The projects the user is a member of."""
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user)


def get_project(user: Any, slug: str, role: str = Role.VIEWER) -> Project:
    """The project, with `.role` set to the user's role.

    404 when the user is not a member (they may not know it exists), 403 when
    they are a member whose role is too low for what they asked.
    """
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user_id=getattr(user, "pk", None))
        .first()
    )
    if membership is None:
        raise Http404(f"No project {slug!r}.")
    require_role(membership, role)
    project = membership.project
    project.role = membership.role  # type: ignore[attr-defined]
    return project


def require_role(membership: Membership, role: str) -> None:
    if not membership.allows(role):
        raise PermissionDenied(
            f"Your role in {membership.project.slug!r} is {membership.role}; "
            f"this needs {role} or above."
        )


@transaction.atomic
def create_project(owner: Any, slug: str, name: str = "", description: str = "") -> Project:
    """A new project whose owner is its first admin."""
    project = Project(slug=slug, name=name or slug, description=description, owner=owner)
    project.full_clean()
    project.save()
    Membership.objects.create(project=project, user=owner, role=Role.ADMIN)
    return project
