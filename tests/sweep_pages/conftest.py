from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from projects.models import Project, Role
from sweeps.models import Sweep
from tests.conftest import PASSWORD
from tests.sweep_pages.helpers import make_sweep


@pytest.fixture
def sweep(project: Project) -> Sweep:
    return make_sweep(project, name="lr-search")


@pytest.fixture
def viewer(other_user: Any, member: Any) -> Any:
    """bob, who may look at the demo project but not change it."""
    member(other_user, Role.VIEWER)
    return other_user


@pytest.fixture
def editor(project: Project, member: Any) -> Any:
    carol = get_user_model().objects.create_user("carol", password=PASSWORD)
    member(carol, Role.EDITOR)
    return carol
