"""The query parameters of the projects app's lists (the API's projects and keys)."""

from __future__ import annotations

from projects.models import Role
from sweeptracker.list_filters import ListFilter, ListFilters

PROJECT_LIST = ListFilters(
    ListFilter.of("role", "my_role", Role.values, "Projects where your role is this one")
)
KEY_LIST = ListFilters(
    ListFilter(
        "revoked",
        "revoked_at__isnull",
        {"true": False, "false": True},
        "true: only revoked keys; false: only keys in use",
    )
)
