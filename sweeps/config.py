"""Reading and checking sweep configs: W&B Sweeps' schema plus our extensions.

`parse_text` reads YAML or JSON; `normalize` turns the parsed config into a SweepConfig
or raises ConfigError listing every problem with its path, for example
`parameters.lr.max: must be greater than min (0.1)`. The rules follow wandb/sweeps
(`config/schema.json`, `config/schema.py`, `params.py`, `grid_search.py`,
`hyperband_stopping.py`); docs/sweep-config.md lists them and where we differ.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import yaml

from sweeps import config_yaml, distributions
from sweeps.config_early import EarlyTerminate as EarlyTerminate
from sweeps.config_early import hyperband_bands as hyperband_bands
from sweeps.config_early import read_early_terminate
from sweeps.config_limits import check_servable
from sweeps.config_readers import (
    Problems,
    at,
    at_least,
    choice,
    describe,
    number,
    plain,
    positive,
    unknown_keys,
)
from sweeptracker import limits
from sweeptracker.nul_characters import nul_path

# What W&B's grid_search.py enumerates. We discretize the other kinds into `grid_points`
# values each (docs/sweep-config.md, "Grids"); probabilities stay refused, as in W&B.
GRID_KINDS = ("constant", "categorical", "int_uniform", "q_uniform")
# Five values per continuous parameter: the specification's own example grid (4 batch
# sizes x 3 optimizers x 5 dropouts x its learning rate) stays at 300 points.
DEFAULT_GRID_POINTS = 5
METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
IMPUTES = ("latest", "best", "worst")
IMPUTES_WHILE_RUNNING = ("false", "latest", "best", "worst")
SAMPLERS = ("auto", "tpe", "gp", "cmaes", "qmc", "random")
DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
# W&B keys that concern its cloud (launch, controller, entity): accepted, listed, unused.
IGNORED_KEYS = ("entity", "controller", "job", "image_uri", "apiVersion", "kind")
TOP_KEYS = (
    *("method", "metric", "parameters", "early_terminate", "run_cap", "command", "program"),
    *("name", "description", "project", "optuna", "without_replacement", "grid_points"),
)
METRIC_KEYS = ("name", "goal", "target", "impute", "impute_while_running")
OPTUNA_KEYS = ("sampler", "n_startup_trials", "seed", "options")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Every suggestion enumerates the grid under the sweep lock; beyond this it gets slow.
MAX_GRID_POINTS = 100_000

# Required keys and optional keys with W&B's defaults (schema.json), per distribution.
# q defaults to the float 1.0 there, so q_* results are floats unless q is an int.
_SPEC: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {}),
    "categorical_w_probabilities": (("values", "probabilities"), {}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1.0}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1.0}),
    "q_log_uniform_values": (("min", "max"), {"q": 1.0}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1.0}),
}
DISTRIBUTIONS = tuple(_SPEC)
_VALUE_LOGS = ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values")
# exp() of more than this is infinite: a log_uniform bound written as a value, not a log.
_LOG_MAX = math.log(sys.float_info.max)


class ConfigError(ValueError):
    """A config that cannot be used; `problems` lists every fault as (path, message)."""

    def __init__(self, problems: Problems) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"{p}: {m}" if p else m for p, m in self.problems))


@dataclass(frozen=True)
class Param:
    """One leaf parameter after inference, with its distribution's defaults filled in."""

    path: tuple[str, ...]
    distribution: str
    value: Any = None
    values: tuple[Any, ...] | None = None
    probabilities: tuple[float, ...] | None = None
    min: float | int | None = None
    max: float | int | None = None
    q: float | int | None = None
    mu: float | None = None
    sigma: float | None = None
    a: float | None = None
    b: float | None = None
    # How many values a grid tries of a kind it cannot enumerate; None outside grids.
    grid_points: int | None = None

    @property
    def name(self) -> str:
        """The flat key of the parameter; '/' cannot occur in a parameter name."""
        return "/".join(self.path)


@dataclass(frozen=True)
class Metric:
    name: str
    goal: str
    target: float | None = None


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep config in normal form."""

    method: str
    metrics: tuple[Metric, ...]
    impute: str
    impute_while_running: str
    parameters: tuple[Param, ...]
    early_terminate: EarlyTerminate | None
    run_cap: int | None
    command: tuple[str, ...]
    program: str | None
    name: str | None
    description: str | None
    project: str | None
    optuna: dict[str, Any]
    without_replacement: bool
    ignored: tuple[str, ...]
    grid_points: int = DEFAULT_GRID_POINTS

    @property
    def multi_objective(self) -> bool:
        return len(self.metrics) > 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe normal form, for storage; `from_dict` reads it back."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["metrics"] = [vars(m).copy() for m in self.metrics]
        data["parameters"] = [_param_to_dict(p) for p in self.parameters]
        if self.early_terminate is not None:
            data["early_terminate"] = vars(self.early_terminate).copy()
        data["command"], data["ignored"] = list(self.command), list(self.ignored)
        plain: dict[str, Any] = json.loads(json.dumps(data))
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepConfig:
        """The SweepConfig that `to_dict` stored."""
        early = data.get("early_terminate")
        return cls(
            **{k: data[k] for k in ("method", "impute", "impute_while_running", "run_cap")},
            **{k: data[k] for k in ("program", "name", "description", "project")},
            metrics=tuple(Metric(**m) for m in data["metrics"]),
            parameters=tuple(_param_from_dict(p) for p in data["parameters"]),
            early_terminate=EarlyTerminate(**early) if early else None,
            command=tuple(data["command"]),
            optuna=dict(data["optuna"]),
            without_replacement=bool(data["without_replacement"]),
            ignored=tuple(data["ignored"]),
            grid_points=int(data.get("grid_points", DEFAULT_GRID_POINTS)),
        )


def _param_to_dict(param: Param) -> dict[str, Any]:
    data: dict[str, Any] = {"path": list(param.path), "distribution": param.distribution}
    for f in fields(param)[2:]:
        value = getattr(param, f.name)
        # A constant may well be null; every other unset setting is left out.
        if value is not None or (f.name == "value" and param.distribution == "constant"):
            data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def _param_from_dict(data: dict[str, Any]) -> Param:
    settings = dict(data)
    for key in ("path", "values", "probabilities"):
        if settings.get(key) is not None:
            settings[key] = tuple(settings[key])
    return Param(**settings)


def parse_text(text: str) -> object:
    """The config in `text`, read as JSON or else as YAML; ConfigError on bad syntax or
    past a limit (MAX_JSON_DEPTH, MAX_YAML_DEPTH, MAX_YAML_ALIASES)."""
    as_json = text.lstrip().startswith("{")
    # Python's json recurses: a text nested too deep never reaches it. YAML's reader
    # counts its own depth (config_yaml), so a deep flow sequence is told in YAML's terms.
    too_deep = limits.text_too_deep(text)
    if too_deep and as_json:
        raise ConfigError([("", f"the text {limits.json_depth_message()}")])
    json_error = None
    if not too_deep:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            json_error = error
    try:
        return config_yaml.load(text)
    except config_yaml.LimitError as error:
        raise ConfigError([("", _yaml_error(error))]) from None
    except yaml.YAMLError as error:
        # A text that starts like JSON was meant as JSON: its error is the useful one.
        if as_json and json_error is not None:
            where, what = f"line {json_error.lineno}, column {json_error.colno}", json_error.msg
            raise ConfigError([("", f"{where}: {what}")]) from None
        raise ConfigError([("", _yaml_error(error))]) from None


def _yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    what = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"YAML syntax: {what}"
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}"


def normalize(raw: object) -> SweepConfig:
    """Validate a parsed config and return its normal form.

    Raises ConfigError listing every problem found, each as (path, message).
    """
    if not isinstance(raw, dict):
        what = describe(raw)
        raise ConfigError(
            [("", f"the config must be a mapping with method and parameters, not {what}")]
        )
    if found := nul_path(raw):
        raise ConfigError([(found, "holds a NUL character (\\u0000), which cannot be stored")])
    problems: Problems = []
    ignored = _top_keys(raw, problems)
    metrics, impute, impute_while_running = _metrics(raw, problems)
    config = SweepConfig(
        method=_method(raw, problems),
        metrics=metrics,
        impute=impute,
        impute_while_running=impute_while_running,
        parameters=tuple(_top_parameters(raw, problems)),
        early_terminate=read_early_terminate(raw, problems),
        run_cap=_run_cap(raw, problems),
        command=_command(raw, problems),
        program=_text(raw, "program", problems),
        name=_text(raw, "name", problems),
        description=_text(raw, "description", problems),
        project=_text(raw, "project", problems),
        optuna=_optuna(raw, problems),
        without_replacement=_flag(raw, "without_replacement", problems),
        ignored=ignored,
        grid_points=_grid_points(raw, "grid_points", problems) or DEFAULT_GRID_POINTS,
    )
    config = _with_grid_points(config)
    _check_rules(config, problems)
    if problems:
        raise ConfigError(problems)
    return config


# -- top level -----------------------------------------------------------------------------


def _top_keys(raw: dict[Any, Any], problems: Problems) -> tuple[str, ...]:
    ignored = []
    for key in raw:
        if key in IGNORED_KEYS:
            ignored.append(key)
        elif key not in TOP_KEYS:
            allowed = ", ".join(TOP_KEYS + IGNORED_KEYS)
            problems.append((str(key), f"unknown key; allowed at the top level: {allowed}"))
    return tuple(ignored)


def _method(raw: dict[str, Any], problems: Problems) -> str:
    if "method" not in raw:
        problems.append(("method", f"is required: one of {', '.join(METHODS)}"))
        return ""
    method = raw["method"]
    if isinstance(method, str) and method in METHODS:
        return method
    message = f"unknown method {method!r}; known: {', '.join(METHODS)}"
    if method == "custom":
        message += " (W&B's custom method drives an external scheduler, which we do not run)"
    problems.append(("method", message))
    return ""


def _run_cap(raw: dict[str, Any], problems: Problems) -> int | None:
    if raw.get("run_cap") is None:
        return None
    cap: int | None = at_least(raw["run_cap"], 1, "run_cap", problems, integer=True)
    return cap


def _command(raw: dict[str, Any], problems: Problems) -> tuple[str, ...]:
    command = raw.get("command")
    if command is None:
        return DEFAULT_COMMAND
    if not isinstance(command, list) or not command:
        problems.append(("command", "must be a non-empty list of strings, e.g. [${env}, ...]"))
        return ()
    for i, item in enumerate(command):
        if not isinstance(item, str):
            problems.append((at("command", i), f"must be a string, not {describe(item)}"))
    return tuple(str(item) for item in command)


def _text(raw: dict[str, Any], key: str, problems: Problems) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    problems.append((key, f"must be a string, not {describe(value)}; quote it"))
    return None


def _grid_points(raw: dict[Any, Any], path: str, problems: Problems) -> int | None:
    """The `grid_points` of a sweep or of a parameter, or None when not given."""
    if raw.get("grid_points") is None:
        return None
    count = at_least(raw["grid_points"], 2, path, problems, integer=True)
    if count is not None and count > MAX_GRID_POINTS:
        problems.append((path, f"must be at most {MAX_GRID_POINTS}, not {count}"))
        return None
    return None if count is None else int(count)


def _flag(raw: dict[str, Any], key: str, problems: Problems) -> bool:
    value = raw.get(key, False)
    if isinstance(value, bool):
        return value
    problems.append((key, f"must be true or false, not {describe(value)}"))
    return False


# -- metric --------------------------------------------------------------------------------


def _metrics(raw: dict[str, Any], problems: Problems) -> tuple[tuple[Metric, ...], str, str]:
    """The metrics, impute and impute_while_running (W&B's defaults: worst, false)."""
    if "metric" not in raw:
        return (), "worst", "false"
    metric = raw["metric"]
    if isinstance(metric, list):
        return _metric_list(metric, problems), "worst", "false"
    if not isinstance(metric, dict):
        problems.append(("metric", "must be a mapping with name and goal, or a list of them"))
        return (), "worst", "false"
    unknown_keys(metric, METRIC_KEYS, "metric", problems)
    target = None
    if metric.get("target") is not None:
        target = number(metric["target"], "metric.target", problems)
    impute = choice(metric.get("impute", "worst"), IMPUTES, "metric.impute", problems)
    # YAML reads `impute_while_running: false` as a boolean; W&B's enum spells it "false".
    while_running = metric.get("impute_while_running", "false")
    while_running = "false" if while_running is False else while_running
    path = "metric.impute_while_running"
    while_running = choice(while_running, IMPUTES_WHILE_RUNNING, path, problems)
    one = Metric(
        _metric_name(metric, "metric", problems), _goal(metric, "metric", problems), target
    )
    return (one,), impute, while_running


def _metric_name(metric: dict[str, Any], path: str, problems: Problems) -> str:
    name = metric.get("name")
    if isinstance(name, str) and name:
        return name
    what = "is required" if name is None else f"must be a non-empty string, not {describe(name)}"
    problems.append((at(path, "name"), what))
    return ""


def _goal(metric: dict[str, Any], path: str, problems: Problems) -> str:
    return choice(metric.get("goal", "minimize"), GOALS, at(path, "goal"), problems)


def _metric_list(items: list[Any], problems: Problems) -> tuple[Metric, ...]:
    """Our multi-objective form: a list of {name, goal}; no target, default impute."""
    if not items:
        problems.append(("metric", "must list at least one metric"))
    metrics, seen = [], set()
    for i, item in enumerate(items):
        path = at("metric", i)
        if not isinstance(item, dict):
            problems.append((path, "must be a mapping with name and goal"))
            continue
        if "target" in item:
            problems.append((at(path, "target"), "needs a single metric, not a list"))
        unknown_keys(
            {k: v for k, v in item.items() if k != "target"}, ("name", "goal"), path, problems
        )
        name = _metric_name(item, path, problems)
        if name and name in seen:
            problems.append((at(path, "name"), f"{name!r} is listed twice"))
        seen.add(name)
        metrics.append(Metric(name, _goal(item, path, problems)))
    return tuple(metrics)


# -- parameters ----------------------------------------------------------------------------


def _top_parameters(raw: dict[str, Any], problems: Problems) -> list[Param]:
    if "parameters" not in raw:
        problems.append(("parameters", "is required: a mapping of parameter names to settings"))
        return []
    params = _parameters(raw["parameters"], (), "parameters", problems)
    limit = limits.max_sweep_parameters()
    if len(params) > limit:
        message = f"has {len(params)} parameters, more than MAX_SWEEP_PARAMETERS ({limit})"
        problems.append(("parameters", message))
    return params


def _parameters(raw: object, prefix: tuple[str, ...], path: str, problems: Problems) -> list[Param]:
    if not isinstance(raw, dict) or not raw:
        message = "must be a mapping of parameter names to their settings, with at least one"
        problems.append((path, message))
        return []
    params: list[Param] = []
    for name, spec in raw.items():
        where = at(path, str(name))
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            message = f"{name!r} is not a valid parameter name; names match {NAME_PATTERN.pattern}"
            problems.append((where, message))
            continue
        params.extend(_parameter((*prefix, name), spec, where, problems))
    return params


def _parameter(key: tuple[str, ...], raw: object, path: str, problems: Problems) -> list[Param]:
    if not isinstance(raw, dict):
        message = "must be a mapping with value, values, min and max, distribution or parameters"
        problems.append((path, message))
        return []
    if "parameters" in raw:
        for extra in raw:
            if extra != "parameters":
                message = "cannot sit beside parameters: a group of parameters holds nothing else"
                problems.append((at(path, str(extra)), message))
        return _parameters(raw["parameters"], key, at(path, "parameters"), problems)
    kind = _distribution(raw, path, problems)
    if kind is None:
        return []
    if kind == "uniform" and "q" in raw:
        # The specification's `dropout: {min: 0.0, max: 0.5, q: 0.1}`; W&B refuses q on
        # uniform, so reading it as q_uniform (with a warning) takes nothing from W&B users.
        kind = "q_uniform"
    before = len(problems)
    settings = _settings(kind, raw, path, problems)
    if len(problems) > before:
        return []
    return [Param(path=key, distribution=kind, **settings)]


def _distribution(raw: dict[Any, Any], path: str, problems: Problems) -> str | None:
    """The distribution named in `raw`, or inferred from its keys as W&B does."""
    if "value" in raw and "values" in raw:
        message = "has both value and values; use value for a constant or values for a choice"
        problems.append((path, message))
        return None
    if "distribution" in raw:
        kind = raw["distribution"]
        if isinstance(kind, str) and kind in DISTRIBUTIONS:
            return kind
        message = f"unknown distribution {kind!r}; known: {', '.join(DISTRIBUTIONS)}"
        problems.append((at(path, "distribution"), message))
        return None
    if "values" in raw:
        return "categorical_w_probabilities" if "probabilities" in raw else "categorical"
    if "value" in raw:
        return "constant"
    if "min" in raw and "max" in raw:
        bounds = (raw["min"], raw["max"])
        numbers = [b for b in bounds if isinstance(b, int | float) and not isinstance(b, bool)]
        kinds = {isinstance(b, int) for b in numbers}
        if len(numbers) == 2 and kinds == {True, False}:
            # W&B's schema quietly takes this as uniform; a typo (0 for 0.0, or 1.0
            # for 1) should not decide between integers and floats.
            message = (
                f"min {bounds[0]!r} and max {bounds[1]!r} mix an integer and a float, "
                "which is ambiguous: write both as floats (0.0) for uniform, both as "
                "integers for int_uniform, or name the distribution"
            )
            problems.append((path, message))
            return None
        return "int_uniform" if kinds == {True} else "uniform"
    keys = ", ".join(map(str, raw)) or "none"
    message = (
        "cannot tell the distribution: give value, values, min and max, a distribution "
        f"or parameters (keys given: {keys})"
    )
    problems.append((path, message))
    return None


def _settings(kind: str, raw: dict[Any, Any], path: str, problems: Problems) -> dict[str, Any]:
    """The Param fields of a `kind` parameter, its defaults filled in; problems recorded."""
    required, defaults = _SPEC[kind]
    allowed = ("distribution", *required, *defaults, "grid_points")
    for key in raw:
        if key not in allowed:
            message = f"unknown key for a {kind} parameter; allowed: {', '.join(allowed)}"
            problems.append((at(path, str(key)), message))
    for key in required:
        if key not in raw:
            problems.append((at(path, key), f"is required for a {kind} parameter"))
    if any(key not in raw for key in required):
        return {}
    settings: dict[str, Any] = {}
    if "value" in required:
        settings["value"] = plain(raw["value"], at(path, "value"), problems)
    if "values" in required:
        settings |= _choices(raw, path, problems)
    if "min" in required:
        settings |= _bounds(kind, raw, path, problems)
    for key, default in defaults.items():
        settings[key] = _shape(key, raw.get(key, default), at(path, key), problems)
    # Kept only where a grid needs it: see _discretized.
    settings["grid_points"] = _grid_points(raw, at(path, "grid_points"), problems)
    return settings


def _choices(raw: dict[Any, Any], path: str, problems: Problems) -> dict[str, Any]:
    values = raw["values"]
    where = at(path, "values")
    if not isinstance(values, list | tuple):
        problems.append((where, f"must be a list, not {describe(values)}"))
        return {}
    if not values:
        problems.append((where, "must not be empty: list at least one value"))
        return {}
    settings: dict[str, Any] = {
        "values": tuple(plain(v, at(where, i), problems) for i, v in enumerate(values))
    }
    if "probabilities" in raw:
        settings["probabilities"] = _probabilities(
            raw["probabilities"], len(values), path, problems
        )
    return settings


def _probabilities(
    raw: object, count: int, path: str, problems: Problems
) -> tuple[float, ...] | None:
    where = at(path, "probabilities")
    if not isinstance(raw, list | tuple):
        problems.append((where, f"must be a list of numbers, not {describe(raw)}"))
        return None
    numbers = [at_least(p, 0, at(where, i), problems, False) for i, p in enumerate(raw)]
    if any(p is None for p in numbers):
        return None
    if len(numbers) != count:
        message = f"has {len(numbers)} numbers for {count} values: give one per value"
        problems.append((where, message))
    elif not np.isclose(sum(numbers), 1.0):
        problems.append((where, f"must sum to 1, not {sum(numbers):g}"))
    return tuple(float(p) for p in numbers)


def _bounds(kind: str, raw: dict[Any, Any], path: str, problems: Problems) -> dict[str, Any]:
    integer = kind == "int_uniform"
    low = number(raw["min"], at(path, "min"), problems, integer)
    high = number(raw["max"], at(path, "max"), problems, integer)
    if low is None or high is None:
        return {}
    # min == max is a constant in disguise: accepted, with a warning (config_warnings).
    if low > high:
        problems.append((at(path, "max"), f"must be greater than min ({low})"))
    if kind in _VALUE_LOGS and low <= 0:
        message = (
            f"must be greater than 0: {kind} bounds are the values themselves, on a log "
            f"scale; for bounds that are natural logs write {kind.removesuffix('_values')}"
        )
        problems.append((at(path, "min"), message))
    if kind in ("log_uniform", "q_log_uniform") and high > _LOG_MAX:
        message = (
            f"exp({high}) overflows: {kind} bounds are natural logs; "
            f"for bounds that are values use {kind}_values"
        )
        problems.append((at(path, "max"), message))
    if kind == "inv_log_uniform" and -low > _LOG_MAX:
        message = f"exp({-low}) overflows: inv_log_uniform samples exp(-x) for x in [min, max]"
        problems.append((at(path, "min"), message))
    return {"min": low, "max": high}


def _shape(key: str, raw: object, path: str, problems: Problems) -> Any:
    """q, mu, sigma, a or b, checked; q keeps its type because an int q gives int results."""
    if key == "mu":
        value = number(raw, path, problems)
        return None if value is None else float(value)
    # W&B's schema lets sigma, a and b be 0, but sampling then gives NaN: refuse 0 too.
    value = positive(raw, path, problems)
    if value is None or key == "q":
        return value
    return float(value)


# -- our extensions ------------------------------------------------------------------------


def _optuna(raw: dict[str, Any], problems: Problems) -> dict[str, Any]:
    spec = raw.get("optuna")
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        problems.append(
            ("optuna", "must be a mapping with sampler, n_startup_trials, seed, options")
        )
        return {}
    unknown_keys(spec, OPTUNA_KEYS, "optuna", problems)
    result: dict[str, Any] = {
        "sampler": choice(spec.get("sampler", "auto"), SAMPLERS, "optuna.sampler", problems)
    }
    if "n_startup_trials" in spec:
        path = "optuna.n_startup_trials"
        result["n_startup_trials"] = at_least(spec["n_startup_trials"], 0, path, problems, True)
    if "seed" in spec:
        # NumPy and Optuna take seeds in [0, 2**32).
        seed = at_least(spec["seed"], 0, "optuna.seed", problems, integer=True)
        if seed is not None and seed >= 2**32:
            problems.append(("optuna.seed", "must be below 2**32"))
        result["seed"] = seed
    options = spec.get("options", {})
    if not isinstance(options, dict):
        problems.append(("optuna.options", "must be a mapping of sampler arguments"))
        options = {}
    result["options"] = plain(options, "optuna.options", problems) or {}
    return result


# -- rules that span sections --------------------------------------------------------------


def _param_path(param: Param) -> str:
    return "parameters." + ".parameters.".join(param.path)


def _check_rules(config: SweepConfig, problems: Problems) -> None:
    before = len(problems)
    check_servable(config, problems)
    # Counting a grid's points divides by the numbers just refused, which could overflow.
    countable = len(problems) == before
    if config.method == "grid" and countable:
        _check_grid(config, problems)
    if config.method == "bayes":
        _check_bayes(config, problems)
    if config.optuna and config.method != "bayes":
        problems.append(("optuna", "only applies to method bayes"))
    if config.without_replacement and countable:
        _check_without_replacement(config, problems)
    if config.early_terminate is not None and not config.metrics:
        message = "needs a metric to compare runs by; add metric: {name: ..., goal: ...}"
        problems.append(("early_terminate", message))
    if config.early_terminate is not None and config.multi_objective:
        message = "needs a single metric; early termination cannot rank runs on several"
        problems.append(("early_terminate", message))


def _with_grid_points(config: SweepConfig) -> SweepConfig:
    """`config` with `grid_points` set on the parameters a grid discretizes, and on no other.

    A grid enumerates W&B's grid kinds as W&B does; every other kind gets its own
    grid_points, else the sweep's (distributions.spaced_values says how they are spread).
    """
    discretize = config.method == "grid"
    params = tuple(
        dataclasses.replace(
            param,
            grid_points=(param.grid_points or config.grid_points)
            if discretize and param.distribution not in (*GRID_KINDS, *distributions.CATEGORICAL)
            else None,
        )
        for param in config.parameters
    )
    return dataclasses.replace(config, parameters=params)


def _check_grid(config: SweepConfig, problems: Problems) -> None:
    wrong = [p for p in config.parameters if p.distribution == "categorical_w_probabilities"]
    for param in wrong:
        message = "grid search tries every value: remove probabilities"
        problems.append((_param_path(param), message))
    for param in config.parameters:
        # numpy.arange(min, max, q) is empty exactly when min equals max (min <= max here);
        # building it to find out could take a tiny q's billions of points.
        if param.distribution == "q_uniform" and param.min == param.max:
            message = (
                f"the grid over q_uniform is numpy.arange(min, max, q), which is empty when "
                f"min equals max; write value: {param.min}"
            )
            problems.append((_param_path(param), message))
            wrong.append(param)
    if not wrong:
        _check_size(config, "grid", problems)


def _check_size(config: SweepConfig, where: str, problems: Problems) -> None:
    size = distributions.space_size(list(config.parameters))
    if size is not None and size > MAX_GRID_POINTS:
        message = f"has {size} points, more than the {MAX_GRID_POINTS} a {where} may enumerate"
        problems.append(("parameters", message))


def _check_bayes(config: SweepConfig, problems: Problems) -> None:
    if not config.metrics:
        message = "bayes needs a metric to model; add metric: {name: ..., goal: ...}"
        problems.append(("metric", message))
    if config.parameters and all(p.distribution == "constant" for p in config.parameters):
        problems.append(("parameters", "bayes needs at least one parameter that varies"))
    if config.optuna.get("sampler") == "cmaes" and config.multi_objective:
        message = "cmaes optimizes a single metric; use tpe, gp, qmc or random"
        problems.append(("optuna.sampler", message))


def _check_without_replacement(config: SweepConfig, problems: Problems) -> None:
    if config.method != "random":
        message = "only applies to method random (grid never repeats a point anyway)"
        problems.append(("without_replacement", message))
        return
    continuous = [p for p in config.parameters if not distributions.is_discrete(p)]
    for param in continuous:
        message = (
            f"needs every parameter discrete, but {_param_path(param)} is {param.distribution}; "
            "use values, int_uniform or a q_ distribution with bounds"
        )
        problems.append(("without_replacement", message))
    if not continuous:
        _check_size(config, "random search without replacement", problems)
