"""Make a sweep with N complete trials straight in the database (run with DATABASE_URL set).

Usage: python bench/populate.py METHOD SAMPLER N  → prints the sweep id.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sweeptracker.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from projects.access import create_project  # noqa: E402
from projects.models import Project  # noqa: E402
from runs.models import Run  # noqa: E402
from sweeps.distributions import point_key  # noqa: E402
from sweeps.lifecycle import create_sweep  # noqa: E402
from sweeps.models import Trial  # noqa: E402

PARAMS = ["x1", "x2", "x3", "x4"]


def objective(point: dict[str, float]) -> float:
    return float(sum((point[name] - 0.3) ** 2 for name in PARAMS))


def config(method: str, sampler: str) -> dict[str, object]:
    parameters = {name: {"min": 0.0, "max": 1.0} for name in PARAMS}
    if method == "grid":
        parameters = {name: {"values": list(range(10))} for name in PARAMS}
    result = {
        "method": method,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": parameters,
    }
    if method == "bayes":
        result["optuna"] = {"sampler": sampler}
    return result


@transaction.atomic
def main(method: str, sampler: str, n: int) -> str:
    user, _ = get_user_model().objects.get_or_create(username="bench")
    project = Project.objects.filter(slug="bench").first() or create_project(user, "bench")
    sweep = create_sweep(project, config(method, sampler), seed=0)
    rng = np.random.default_rng(0)
    points = [{name: float(rng.uniform()) for name in PARAMS} for _ in range(n)]
    if method == "grid":
        points = [{name: (i // 10**k) % 10 for k, name in enumerate(PARAMS)} for i in range(n)]
    runs = Run.objects.bulk_create(
        [Run(project=project, name=f"bench-{i}", state="finished") for i in range(n)]
    )
    Trial.objects.bulk_create(
        [
            Trial(
                sweep=sweep,
                number=i,
                run=run,
                params=point,
                # Grid values 0..9 sit at index 0..9, so values and coordinates agree.
                internal=point,
                point_key=point_key(point) if method == "grid" else "",
                state="complete",
                value=objective(point),
            )
            for i, (run, point) in enumerate(zip(runs, points, strict=True))
        ]
    )
    sweep.next_number = n
    sweep.state = "running"
    sweep.save()
    return sweep.pk


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
