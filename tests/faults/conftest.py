from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from projects.models import Project
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep
from tests.sweeps.conftest import RANDOM


@pytest.fixture
def make_sweep(project: Project) -> Callable[..., Sweep]:
    def make(config: dict[str, Any] | None = None) -> Sweep:
        return create_sweep(project, config or RANDOM)

    return make
