"""The one config warning that needs the database: a metric no run of the project logged.

A sweep ranks its runs by the metric's key exactly as runs log it, so `val_acc` for
`val/acc` leaves every trial without a value. Checked when a sweep is created, against the
project's latest runs only (two indexed EXISTS queries), and only in a project that has
runs: in a new project every name is unlogged and the hint would say nothing.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import QuerySet

from projects.models import Project
from runs.models import MetricPoint, Run
from sweeps.config import SweepConfig
from sweeps.config_warnings import ConfigWarning

# How many of the project's latest runs are looked at: enough to know what they log,
# few enough that creating a sweep stays quick in a project with 100,000 runs.
RECENT_RUNS = 1_000
# Runs whose keys are offered as "did you mean".
SPELLING_RUNS = 20


def unlogged_metrics(project: Project, config: SweepConfig) -> list[ConfigWarning]:
    """A hint for each metric of `config` that none of the project's latest runs logged."""
    recent = Run.objects.filter(project=project).order_by("-created_at").values("pk")
    if not config.metrics or not recent.exists():
        return []
    recent = recent[:RECENT_RUNS]
    hints = []
    for i, metric in enumerate(config.metrics):
        if _logged(recent, metric.name):
            continue
        path = "metric.name" if len(config.metrics) == 1 else f"metric[{i}].name"
        message = f"no run of this project has logged {metric.name!r} yet"
        close = difflib.get_close_matches(metric.name, _known_keys(recent), n=3, cutoff=0.6)
        if close:
            message += f"; did you mean {' or '.join(map(repr, close))}?"
        message += (
            " The sweep ranks runs by this exact key, so its runs must log it "
            "(wandb.log or wandb.summary)"
        )
        hints.append(ConfigWarning(path, message))
    return hints


def _logged(recent: QuerySet[Run, Any], name: str) -> bool:
    in_summary = Run.objects.filter(pk__in=recent, summary__has_key=name).exists()
    return in_summary or MetricPoint.objects.filter(run_id__in=recent, key=name).exists()


def _known_keys(recent: QuerySet[Run, Any]) -> list[str]:
    latest = Run.objects.filter(pk__in=recent[:SPELLING_RUNS])
    keys: set[str] = set()
    for summary in latest.values_list("summary", flat=True):
        if isinstance(summary, dict):
            keys.update(key for key in summary if not key.startswith("_"))
    points = MetricPoint.objects.filter(run_id__in=latest.values("pk"))
    keys.update(points.order_by().values_list("key", flat=True).distinct())
    return sorted(keys)
