"""Who may see and change which project: the one place that answers it.

Pages, the API and the admin's project views all ask here. A row loaded for a user
carries that user's role as `my_role` (see `with_role` and `get_project`); `check_role`
then answers 403 when it is too low. Non-members never get that far: they get 404,
so they cannot learn that a project exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from projects.models import ROLE_RANK, Membership, Project, Role

M = TypeVar("M", bound=models.Model)


def has_role(role: str | None, needed: str) -> bool:
    """Whether `role` (None: not a member) is `needed` or above."""
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(needed)]


def can_edit(role: str | None) -> bool:
    return has_role(role, Role.EDITOR)


def check_role(role: str | None, needed: str) -> None:
    """403 unless `role` is at least `needed` (members only reach here: others got 404)."""
    if not has_role(role, needed):
        raise PermissionDenied(f"Your role in this project is {role}; this needs {needed}.")


def projects_for(user: Any) -> QuerySet[Project]:
    """The projects the user is a member of."""
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user)


def with_role(queryset: QuerySet[M], user: Any, project_field: str) -> QuerySet[M]:
    """Rows in projects the user belongs to, each annotated with `my_role`."""
    role = Membership.objects.filter(
        project=OuterRef(project_field), user_id=getattr(user, "pk", None) or 0
    ).values("role")[:1]
    rows: QuerySet[M] = queryset.annotate(my_role=Subquery(role)).filter(my_role__isnull=False)
    return rows


def get_project(user: Any, slug: str, role: str = Role.VIEWER) -> Project:
    """The project, with `my_role` set to the user's role.

    404 when the user is not a member (they may not know it exists), 403 when
    they are a member whose role is too low for what they asked.
    """
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user_id=getattr(user, "pk", None) or 0)
        .first()
    )
    if membership is None:
        raise Http404(f"No project {slug!r}.")
    if not has_role(membership.role, role):
        raise PermissionDenied(
            f"Your role in {slug!r} is {membership.role}; this needs {role} or above."
        )
    project = membership.project
    project.my_role = membership.role
    return project


@transaction.atomic
def create_project(owner: Any, slug: str, name: str = "", description: str = "") -> Project:
    """A new project whose owner is its first admin."""
    project = Project(slug=slug, name=name or slug, description=description, owner=owner)
    project.full_clean()
    project.save()
    Membership.objects.create(project=project, user=owner, role=Role.ADMIN)
    project.my_role = Role.ADMIN
    return project
