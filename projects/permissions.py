from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from rest_framework.exceptions import PermissionDenied

from projects.models import ROLE_RANK, Membership, Role


def with_role(queryset: QuerySet[Any], user: Any, project_field: str) -> QuerySet[Any]:
    """Rows in projects the user belongs to, each annotated with `my_role`."""
    role = Membership.objects.filter(
        project=OuterRef(project_field), user_id=getattr(user, "pk", None)
    ).values("role")[:1]
    return queryset.annotate(my_role=Subquery(role)).filter(my_role__isnull=False)


def check_role(role: str | None, needed: str) -> None:
    """403 unless `role` is at least `needed` (members only reach here: others got 404)."""
    if role is None or ROLE_RANK[Role(role)] < ROLE_RANK[Role(needed)]:
        raise PermissionDenied(f"Your role in this project is {role}; this needs {needed}.")
