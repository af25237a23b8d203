"""Warnings about a sweep config that is valid but almost certainly not what was meant.

W&B's meaning stays exact: a warning changes nothing, it says at the moment the sweep is
created what will be sampled and how to write what was probably meant, for example
`parameters.learning_rate: log_uniform takes natural-log bounds, so this samples
1.0001–1.0101; for 0.0001–0.01 write log_uniform_values`. `config_warnings` is pure (the
raw config and its normal form in, warnings out); `sweeps.metric_hints` adds the one that
needs the database. docs/sweep-config.md lists every warning.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from sweeps import distributions
from sweeps.config import GRID_KINDS, Param, SweepConfig

# Natural-log bounds above this give values above e^23, about 1e10: nobody samples
# learning rates or layer sizes there, but someone who wrote values as bounds does.
_LOG_BOUND_TOO_HIGH = 23.0
# Lists longer than this are shown as their first values, "…" and the last one.
_SHOWN = 7
_LOG_KINDS = ("log_uniform", "q_log_uniform", "inv_log_uniform")


@dataclass(frozen=True)
class ConfigWarning:
    """One warning: the path in the config it is about, and what to know or do."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def config_warnings(raw: dict[str, Any], config: SweepConfig) -> list[ConfigWarning]:
    """Every warning about `config`, normalized from `raw`, in config order."""
    found = _unused_sweep_grid_points(raw, config)
    for param in config.parameters:
        spec = _raw_spec(raw, param.path)
        path = "parameters." + ".parameters.".join(param.path)
        found += [ConfigWarning(path, m) for m in param_warnings(param, spec, config.method)]
        if "grid_points" in spec and param.grid_points is None:
            found.append(ConfigWarning(f"{path}.grid_points", _unused_grid_points(param, config)))
    return found


def param_warnings(param: Param, spec: dict[str, Any], method: str) -> list[str]:
    """What to say about one parameter; `spec` is its settings as written."""
    messages = []
    if param.distribution == "q_uniform" and spec.get("distribution") != "q_uniform":
        messages.append(_q_on_uniform(param))
    log_bounds = _log_bounds_like_values(param)
    if log_bounds:
        messages.append(log_bounds)
    if param.min is not None and param.min == param.max:
        messages.append(_min_is_max(param))
    elif not log_bounds and (too_coarse := _q_above_range(param)):
        messages.append(too_coarse)
    if param.distribution in distributions.CATEGORICAL and _one_value(param):
        shown = _json(distributions.discrete_values(param)[0])
        messages.append(
            f"values lists a single value, so every run gets {shown}; "
            f"write value: {shown} for a constant"
        )
    if method == "grid" and not (param.min is not None and param.min == param.max):
        messages += _grid_warnings(param)
    return messages


# -- one parameter -------------------------------------------------------------------------


def _q_on_uniform(param: Param) -> str:
    return (
        f"uniform with q is read as q_uniform (W&B refuses q on uniform): "
        f"round(U[{_num(param.min)}, {_num(param.max)}] / {_num(param.q)}) · {_num(param.q)}, "
        f"so this samples {_listing(_lattice(param))}; write distribution: q_uniform to "
        "say so, or leave out q for any value in the range"
    )


def _log_bounds_like_values(param: Param) -> str | None:
    """Natural-log bounds that look like the values themselves: all in (0, 1], or huge."""
    kind = param.distribution
    if kind not in _LOG_KINDS or param.min is None or param.max is None:
        return None
    low, high = float(param.min), float(param.max)
    if not ((low > 0 and high <= 1) or high > _LOG_BOUND_TOO_HIGH):
        return None
    meant = f"for {_num(param.min)}–{_num(param.max)} write {kind}_values"
    if kind == "inv_log_uniform":
        lead = "inv_log_uniform samples exp(-x) for x between natural-log bounds"
    else:
        lead = f"{kind} takes natural-log bounds"
    return f"{lead}, so this samples {_sampled_range(param)}; {meant}"


def _sampled_range(param: Param) -> str:
    low, high = distributions.value_range(param)
    if param.distribution.startswith("q_"):
        ends = _lattice(param)
        if len(ends) == 1:
            return f"only {_num(ends[0])} (rounded to q = {_num(param.q)})"
        return f"{_num(ends[0])}–{_num(ends[-1])} in steps of {_num(param.q)}"
    return f"{_num(low)}–{_num(high)}"


def _min_is_max(param: Param) -> str:
    low, _ = distributions.value_range(param)
    value = distributions.quantize(low, _q(param)) if param.distribution.startswith("q_") else low
    if param.distribution == "int_uniform":
        value = int(low)
    gets = _num(value)
    return f"min equals max ({_num(param.min)}), so every run gets {gets}; write value: {gets}"


def _q_above_range(param: Param) -> str | None:
    kind = param.distribution
    if not kind.startswith("q_") or kind in ("q_normal", "q_log_normal"):
        return None
    low, high = distributions.value_range(param)
    q = float(_q(param))
    if q <= high - low:
        return None
    return (
        f"q ({_num(q)}) is larger than the range {_num(low)}–{_num(high)}, so this samples "
        f"only {_listing(_lattice(param), 'or')}; use a q below {_num(high - low)}, or "
        "value for a constant"
    )


def _grid_warnings(param: Param) -> list[str]:
    if param.grid_points is not None:
        return [_discretized(param)]
    if param.distribution == "q_uniform":
        # Why the type: ignore below: The config module guarantees min and max for q_uniform.
        low, high, q = float(param.min), float(param.max), float(_q(param))  # type: ignore[arg-type]
        steps = (high - low) / q
        if math.isclose(steps, round(steps), rel_tol=1e-9) and steps >= 1:
            points = distributions.discrete_values(param)
            wanted = [_num(low + k * q) for k in range(round(steps) + 1)]
            return [
                f"the grid over q_uniform is numpy.arange(min, max, q), as in W&B: it tries "
                f"{_listing(points)}, without max {_num(high)}; to try {_num(high)} too, "
                f"write values: [{', '.join(wanted)}]"
            ]
    return []


def _discretized(param: Param) -> str:
    kind = param.distribution
    count = param.grid_points or 0
    base = kind.removeprefix("q_")
    if base in ("normal", "log_normal", "beta"):
        how = f"values at the quantiles (i + 0.5)/{count} of the distribution"
    elif base == "uniform":
        how = "evenly spaced values from min to max"
    else:
        how = "log-spaced values over what it samples"
    values = distributions.discrete_values(param)
    rounded = ""
    if kind.startswith("q_"):
        rounded = f", rounded to q = {_num(param.q)}"
        if len(values) < count:
            rounded += f", which leaves {len(values)} distinct"
    return (
        f"a grid cannot enumerate {kind}, so it tries {count} {how}{rounded}: "
        f"{_listing(values)}; set grid_points on the parameter or the sweep for more or "
        "fewer, or list values"
    )


def _unused_grid_points(param: Param, config: SweepConfig) -> str:
    if config.method != "grid":
        return f"only a grid uses grid_points; this {config.method} sweep ignores it"
    kinds = ", ".join(GRID_KINDS)
    return (
        f"ignored: a grid enumerates {param.distribution} as W&B does ({kinds} and values); "
        "grid_points spreads the other kinds"
    )


def _unused_sweep_grid_points(raw: dict[str, Any], config: SweepConfig) -> list[ConfigWarning]:
    if raw.get("grid_points") is None or config.method == "grid":
        return []
    message = f"only a grid uses grid_points; this {config.method} sweep ignores it"
    return [ConfigWarning("grid_points", message)]


# -- helpers -------------------------------------------------------------------------------


def _raw_spec(raw: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The settings of the parameter at `path` as written (normalize checked the shape)."""
    node: Any = raw.get("parameters", {})
    for i, part in enumerate(path):
        node = node[part] if i == 0 else node["parameters"][part]
    return node if isinstance(node, dict) else {}


def _one_value(param: Param) -> bool:
    return len(distributions.discrete_values(param)) == 1


def _q(param: Param) -> float | int:
    return 1.0 if param.q is None else param.q


def _lattice(param: Param) -> list[Any]:
    """Every value random sampling gives a q_ kind with bounds: k·q between round(min/q) and
    round(max/q), as W&B rounds (a grid over q_uniform is arange instead)."""
    low, high = distributions.value_range(param)
    q = _q(param)
    first, last = round(low / float(q)), round(high / float(q))
    if last - first > 1000:
        return [distributions.quantize(low, q), distributions.quantize(high, q)]
    return [distributions.quantize(k * float(q), q) + 0 for k in range(first, last + 1)]


def _num(value: Any) -> str:
    """A number as people write it: 0.0001, 1.0101, 3, 2.7183e+10."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    number = float(value)
    text = f"{number:.5g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _json(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num(value)
    return json.dumps(value)


def _listing(values: list[Any], last_word: str = "and") -> str:
    shown = [_json(v) for v in values]
    if len(shown) > _SHOWN:
        return ", ".join(shown[: _SHOWN - 1]) + f", …, {shown[-1]}"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" {last_word} {shown[-1]}"
