"""W&B's define_metric specs as the server keeps them: checked, merged, and matched to keys."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

# W&B's summary ops; a spec may name several, comma-separated ("min,max").
SUMMARY_OPS = {"min", "max", "mean", "best", "last", "copy", "none", "first"}
GOALS = {"minimize", "maximize"}
DEFAULT_SPEC: dict[str, Any] = {"step_metric": None, "summary": None, "goal": None, "hidden": False}
# As long as a metric key may be (MetricPoint.key).
MAX_KEY_LENGTH = 255
# A script defines a handful; the cap keeps one batch from bloating the run's row.
MAX_DEFINITIONS = 1000


class DefinitionError(ValueError):
    """Specs that cannot be kept; `errors` maps a path (`metrics.loss.goal`) to the problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors.items()))
        self.errors = errors


def parse_metric_definitions(metrics: Any) -> dict[str, dict[str, Any]]:
    """The specs of a log batch's `metrics`, only the fields it gives; DefinitionError else."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise DefinitionError({"metrics": "must be an object of metric name or glob to spec"})
    if len(metrics) > MAX_DEFINITIONS:
        raise DefinitionError({"metrics": f"at most {MAX_DEFINITIONS} definitions per batch"})
    errors: dict[str, str] = {}
    specs: dict[str, dict[str, Any]] = {}
    for name, spec in metrics.items():
        path = f"metrics.{name}"
        if not name or len(name) > MAX_KEY_LENGTH:
            errors[path] = f"metric names must have 1 to {MAX_KEY_LENGTH} characters"
        elif not isinstance(spec, dict):
            errors[path] = "must be an object with step_metric, summary, goal and hidden"
        else:
            errors.update(_spec_errors(path, spec))
            specs[name] = spec
    if errors:
        raise DefinitionError(errors)
    return specs


def _spec_errors(path: str, spec: dict[str, Any]) -> dict[str, str]:
    errors = {
        f"{path}.{field}": "unknown field; a spec has step_metric, summary, goal and hidden"
        for field in set(spec) - set(DEFAULT_SPEC)
    }
    step_metric, summary, goal = spec.get("step_metric"), spec.get("summary"), spec.get("goal")
    if step_metric is not None and (
        not isinstance(step_metric, str) or not 0 < len(step_metric) <= MAX_KEY_LENGTH
    ):
        errors[f"{path}.step_metric"] = "must be a metric name or null"
    if summary is not None and (
        not isinstance(summary, str)
        or not {op.strip().lower() for op in summary.split(",")} <= SUMMARY_OPS
    ):
        errors[f"{path}.summary"] = f"must be null or comma-separated of {sorted(SUMMARY_OPS)}"
    if goal is not None and (not isinstance(goal, str) or goal not in GOALS):
        errors[f"{path}.goal"] = f"must be null or one of {sorted(GOALS)}"
    if not isinstance(spec.get("hidden", False), bool):
        errors[f"{path}.hidden"] = "must be true or false"
    return errors


def merge_definitions(
    known: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`known` with `new` laid over it field by field, each spec complete with defaults."""
    merged = dict(known)
    for name, spec in new.items():
        merged[name] = {**DEFAULT_SPEC, **known.get(name, {}), **spec}
    return merged


def spec_for(definitions: dict[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The spec that applies to `key`: its own, else the most specific glob matching it.

    PostgreSQL's jsonb keeps no key order, so "the first glob defined" cannot decide:
    the longest pattern wins ("val/*" over "*"), then the name, the same on every database.
    """
    if key in definitions:
        return definitions[key]
    globs = [name for name in definitions if "*" in name and fnmatchcase(key, name)]
    if not globs:
        return None
    return definitions[min(globs, key=lambda name: (-len(name), name))]


def step_metrics(definitions: dict[str, dict[str, Any]], keys: list[str]) -> dict[str, str]:
    """Each key's x-axis metric when a spec names one (never the key itself)."""
    axes = {}
    for key in keys:
        spec = spec_for(definitions, key)
        step_metric = spec.get("step_metric") if spec else None
        if step_metric and step_metric != key:
            axes[key] = step_metric
    return axes
