"""Creating sweeps: the config parsed and checked, its warnings, a warm start's source.

A sweep's state moves only in `sweeps.state_machine`."""

from __future__ import annotations

from typing import Any, cast

import yaml

from projects.models import Project
from sweeps import config as sweep_config
from sweeps.config_warnings import ConfigWarning, config_warnings
from sweeps.metric_hints import unlogged_metrics
from sweeps.models import Sweep


def create_sweep(
    project: Project,
    config: str | dict[str, Any],
    *,
    name: str = "",
    description: str = "",
    seed: int | None = None,
    warm_start_from: Sweep | None = None,
    normalized: sweep_config.SweepConfig | None = None,
) -> Sweep:
    """A new pending sweep; ConfigError lists every problem of a bad config.

    `normalized` is `config` already normalized (the new-sweep form checks it as the
    user types): given, it is not normalized a second time.

    A bayes sweep warm-started from another sweep over the same parameters and
    metrics gives that sweep's complete trials to its sampler before its own.
    `sweep.warnings` holds what `warnings_of` said about the config.
    """
    if isinstance(config, str):
        text, raw = config, sweep_config.parse_text(config)
    else:
        text, raw = yaml.safe_dump(config, sort_keys=False), config
    if normalized is None:
        normalized = sweep_config.normalize(raw)
    if warm_start_from is not None:
        check_warm_start(normalized, warm_start_from)
    sweep = Sweep(
        project=project,
        name=name or normalized.name or "sweep",
        description=description or normalized.description or "",
        method=normalized.method,
        metric=[{"name": m.name, "goal": m.goal, "target": m.target} for m in normalized.metrics],
        config_text=text,
        config=normalized.to_dict(),
        run_cap=normalized.run_cap,
        warm_start_from=warm_start_from,
        warnings=[w.as_dict() for w in warnings_of(project, cast(dict, raw), normalized)],
    )
    seed = normalized.optuna.get("seed") if seed is None else seed
    if seed is not None:
        sweep.seed = seed
    sweep.save()
    return sweep


def warnings_of(
    project: Project, raw: dict[str, Any], config: sweep_config.SweepConfig
) -> list[ConfigWarning]:
    """What to tell whoever creates this sweep: the config's warnings, then the metric's."""
    return config_warnings(raw, config) + unlogged_metrics(project, config)


def check_warm_start(config: sweep_config.SweepConfig, source: Sweep) -> None:
    source_config = sweep_config.SweepConfig.from_dict(source.config)
    problems = []
    if config.method != "bayes":
        problems.append(("warm_start_from", "only a bayes sweep can be warm-started"))
    if source_config.parameters != config.parameters:
        problems.append(("warm_start_from", f"sweep {source.pk} has other parameters"))
    if source_config.metrics != config.metrics:
        problems.append(("warm_start_from", f"sweep {source.pk} has another metric or goal"))
    if problems:
        raise sweep_config.ConfigError(problems)
