"""Sampling and enumerating sweep parameters exactly as W&B Sweeps does.

W&B's side only: this module knows nothing of Optuna. How a distribution is shown to
Optuna (its coordinates, and back) is `sweeps.space`'s.

Random samples follow wandb/sweeps `params.py` (`HyperParameter.ppf`), drawn from a
numpy Generator instead of Python's `random`:

- int_uniform: an int in [min, max]; categorical: a value chosen uniformly, or by
  `probabilities` (the first value whose cumulative probability exceeds u).
- uniform: min + u·(max - min); log_uniform: exp(uniform(min, max)), the bounds being
  natural logs; log_uniform_values: exp(uniform(log min, log max));
  inv_log_uniform: exp(-uniform(min, max)); inv_log_uniform_values:
  exp(-uniform(-log max, -log min)), which lies in [min, max].
- normal(mu, sigma), log_normal: exp(normal(mu, sigma)), beta(a, b) on [0, 1].
- q_X: round(X / q) · q, rounding half to even (numpy); an int q gives an int, a
  float q (W&B's default is 1.0) a float.

Every value then goes through `clip`, as bayes's values do (`sweeps.space.to_value`): finite
and inside what the parameter can take, whatever rounding or overflow did at an edge.

Grids follow `grid_search.py`: int_uniform is range(min, max + 1) and q_uniform is
numpy.arange(min, max, q), which leaves out max. Points are keyed by `Param.name`.
The kinds W&B's grid refuses get `grid_points` values (see `spaced_values`).
"""

from __future__ import annotations

import itertools
import json
import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import betaincinv

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sweeps.config import Param

CATEGORICAL = ("categorical", "categorical_w_probabilities")
# Kinds with finitely many values: grid-eligible ones, plus quantized ones with bounds.
DISCRETE = (
    "constant",
    *CATEGORICAL,
    "int_uniform",
    "q_uniform",
    "q_log_uniform",
    "q_log_uniform_values",
    "q_beta",
)
# How far a value given from outside may stray from a bound or a multiple of q.
_TOLERANCE = 1e-9
_FLOAT_MAX = float(np.finfo(np.float64).max)


def sample(param: Param, rng: np.random.Generator) -> Any:
    """One random value of `param`, as W&B's random search draws it."""
    kind = param.distribution
    if kind == "constant":
        return _copy(param.value)
    if kind in CATEGORICAL:
        return _copy(_values(param)[_index(param, rng)])
    if kind == "int_uniform":
        low, high = _bounds(param)
        return int(rng.integers(low, high + 1))
    raw = _draw(param, rng)
    if kind.startswith("q_"):
        raw = _within(raw, *_range(kind.removeprefix("q_"), param))
        return clip(param, quantize(raw, _step(param)))
    return clip(param, float(raw))


def clip(param: Param, value: Any) -> Any:
    """`value` made finite and put inside what `param` can take: its declared bounds, the
    range its distribution produces, or for a q_ kind the first and last reachable multiple
    of q. Samplers that round or overflow at the edges (exp(max), a quantile near 1, a
    float coordinate a hair past a bound) give back a value the config allows."""
    kind = param.distribution
    if kind in ("constant", *CATEGORICAL):
        return value
    if kind == "int_uniform":
        low, high = _bounds(param)
        return min(max(int(value), low), high)
    low, high = _range(kind.removeprefix("q_"), param)
    if kind.startswith("q_"):
        q = _step(param)
        low, high = (quantize(b, q) if math.isfinite(b) else b for b in (low, high))
    result = _within(value, low, high)
    return int(result) if isinstance(value, int) else result


def _within(value: float, low: float, high: float) -> float:
    """`value` as a finite float in [low, high] (either may be infinite); NaN goes to an end."""
    number = float(value)
    if math.isnan(number):
        number = low if math.isfinite(low) else high if math.isfinite(high) else 0.0
    return min(max(number, low, -_FLOAT_MAX), high, _FLOAT_MAX)


def sample_point(params: Sequence[Param], rng: np.random.Generator) -> dict[str, Any]:
    """A random value of every parameter, keyed by `Param.name`, drawn in config order."""
    return {param.name: sample(param, rng) for param in params}


def _copy(value: Any) -> Any:
    # Lists and dicts go out as fresh objects, so that no caller can change the config.
    return json.loads(json.dumps(value)) if isinstance(value, list | dict) else value


def _values(param: Param) -> tuple[Any, ...]:
    return param.values or ()


def _bounds(param: Param) -> tuple[Any, Any]:
    if param.min is None or param.max is None:
        raise ValueError(f"{param.name}: {param.distribution} needs min and max")
    return param.min, param.max


def _step(param: Param) -> float | int:
    # W&B's schema default for q is the float 1.0.
    return 1.0 if param.q is None else param.q


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _index(param: Param, rng: np.random.Generator) -> int:
    if param.probabilities is None:
        return int(rng.integers(len(_values(param))))
    cdf = np.cumsum(param.probabilities)
    index = int(np.searchsorted(cdf, rng.random(), side="right"))
    if index < len(cdf):
        return index
    # The probabilities summed to a hair under 1 and u fell above; W&B would return the
    # first value here, even one of probability 0. Take the last one that can occur.
    return max(i for i, p in enumerate(param.probabilities) if p > 0)


def _draw(param: Param, rng: np.random.Generator) -> float:
    """The unquantized value of a continuous kind (q_X draws X)."""
    kind = param.distribution.removeprefix("q_")
    if kind == "normal":
        return float(rng.normal(_or(param.mu, 0.0), _or(param.sigma, 1.0)))
    if kind == "log_normal":
        return float(rng.lognormal(_or(param.mu, 0.0), _or(param.sigma, 1.0)))
    if kind == "beta":
        return float(rng.beta(_or(param.a, 1.0), _or(param.b, 1.0)))
    low, high = map(float, _bounds(param))
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "log_uniform":
        return float(np.exp(rng.uniform(low, high)))
    if kind == "log_uniform_values":
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    if kind == "inv_log_uniform":
        return float(np.exp(-rng.uniform(low, high)))
    if kind == "inv_log_uniform_values":
        return float(np.exp(-rng.uniform(-np.log(high), -np.log(low))))
    raise ValueError(f"{param.name}: unknown distribution {param.distribution}")


def quantize(raw: float, q: float | int) -> float | int:
    """Round to a multiple of q as W&B does: np.round, an int when q is an int."""
    # W&B: np.round(r / q) * q, cast with astype(int) when q is an int.
    value = np.round(raw / q) * q
    return int(value) if isinstance(q, int) else _tidy(float(value))


def _multiple(k: int, q: float | int) -> float | int:
    """k·q computed as sampling computes it, so that equal values compare equal."""
    return k * q if isinstance(q, int) else _tidy(float(np.float64(k) * q))


def _tidy(value: float) -> float:
    # 15 significant digits: 3 × 0.1 reads 0.3 as the user wrote the step, not W&B's
    # 0.30000000000000004; a multiple of q stays one to within a part in 10^15.
    return float(f"{value:.15g}")


def is_discrete(param: Param) -> bool:
    """Whether `param` takes finitely many values (what grids and without_replacement need)."""
    return param.distribution in DISCRETE or param.grid_points is not None


def discrete_values(param: Param) -> list[Any]:
    """Every value of a discrete `param`, in a fixed order.

    Values in config order (duplicates once; with probabilities, those above 0);
    int_uniform min..max; q_uniform numpy.arange(min, max, q) as W&B's grid; the other
    quantized kinds every reachable multiple of q, ascending.
    """
    kind = param.distribution
    if kind == "constant":
        return [param.value]
    if kind in CATEGORICAL:
        return _distinct(param)
    if kind == "int_uniform":
        low, high = _bounds(param)
        return list(range(low, high + 1))
    if kind == "q_uniform":
        low, high = _bounds(param)
        return list(np.arange(low, high, _step(param)).tolist())
    if param.grid_points is not None:
        return spaced_values(param, param.grid_points)
    if kind in DISCRETE:
        first, last = _lattice(param)
        return [_multiple(k, _step(param)) for k in range(int(first), int(last) + 1)]
    raise ValueError(f"{param.name}: {kind} is continuous and has no list of values")


def spaced_values(param: Param, count: int) -> list[Any]:
    """`count` values spread over what `param` samples, for a grid; ascending, distinct.

    Evenly spaced from min to max for uniform, log-spaced over the values produced for the
    log kinds, and the quantiles at (i + 0.5) / count for normal, log_normal and beta,
    which have no bounds to space between. A q_ kind rounds each one to a multiple of q
    (an int q gives ints), and values that rounding made equal are kept once.
    """
    kind = param.distribution.removeprefix("q_")
    if kind in ("normal", "log_normal", "beta"):
        raw = [quantile(param, (i + 0.5) / count) for i in range(count)]
    else:
        low, high = _range(kind, param)
        spread = np.linspace if kind == "uniform" else np.geomspace
        raw = spread(low, high, count).tolist()
    result: list[Any] = []
    for value in raw:
        # Twelve digits: linspace's 0.30000000000000004 goes to the run as 0.3. A quantile
        # of an extreme beta can be NaN: it goes to an end of the range first.
        rounded = float(f"{_within(value, *_range(kind, param)):.12g}")
        if param.distribution.startswith("q_"):
            # + 0: rounding -0.4 gives -0.0, which the run would get as "-0.0".
            rounded = quantize(rounded, _step(param)) + 0
        # Twelve digits may step past a bound (min 0.1234567890123456 reads 0.123456789012).
        rounded = clip(param, rounded)
        if not result or rounded != result[-1]:
            result.append(rounded)
    return result


def quantile(param: Param, u: float) -> float:
    """The value below which a share `u` of normal, log_normal or beta (or q_ of) samples lie,
    before any rounding to q."""
    kind = param.distribution.removeprefix("q_")
    if kind == "beta":
        a, b = _or(param.a, 1.0), _or(param.b, 1.0)
        value = float(betaincinv(a, b, u))
        # With both shapes near the float limit scipy answers NaN; such a beta is a point
        # mass at its mean a / (a + b), written so that a + b cannot overflow.
        return value if math.isfinite(value) else 1.0 / (1.0 + b / a)
    value = NormalDist(_or(param.mu, 0.0), _or(param.sigma, 1.0)).inv_cdf(u)
    return math.exp(value) if kind == "log_normal" else value


def value_range(param: Param) -> tuple[float, float]:
    """The least and greatest value `param` samples before rounding to q (maybe infinite)."""
    return _range(param.distribution.removeprefix("q_"), param)


def _distinct(param: Param) -> list[Any]:
    weights = param.probabilities or (1.0,) * len(_values(param))
    seen: set[str] = set()
    result = []
    for value, weight in zip(_values(param), weights, strict=True):
        key = _key(value)
        if weight > 0 and key not in seen:
            seen.add(key)
            result.append(value)
    return result


def _lattice(param: Param) -> tuple[float, float]:
    """The least and greatest k of the k·q a quantized kind can give (maybe infinite)."""
    kind, q = param.distribution, _step(param)
    if kind == "q_normal":
        return -math.inf, math.inf
    if kind == "q_log_normal":
        return 0.0, math.inf
    if kind == "q_beta":
        low, high = 0.0, 1.0
    else:
        low, high = _range(param.distribution.removeprefix("q_"), param)
    return float(np.round(low / q)), float(np.round(high / q))


def _range(kind: str, param: Param) -> tuple[float, float]:
    """The least and greatest value of an unquantized kind, computed as sampling does."""
    if kind == "normal":
        return -math.inf, math.inf
    if kind == "log_normal":
        return 0.0, math.inf
    if kind == "beta":
        return 0.0, 1.0
    low, high = map(float, _bounds(param))
    if kind == "log_uniform":
        return float(np.exp(low)), float(np.exp(high))
    if kind in ("log_uniform_values", "inv_log_uniform_values"):
        return float(np.exp(np.log(low))), float(np.exp(np.log(high)))
    if kind == "inv_log_uniform":
        return float(np.exp(-high)), float(np.exp(-low))
    return low, high


def in_support(param: Param, value: Any) -> bool:
    """Whether `value` is one that `param` can take (by sampling, or on W&B's grid)."""
    kind = param.distribution
    if kind == "constant":
        return _key(value) == _key(param.value)
    if kind in CATEGORICAL:
        return _key(value) in {_key(v) for v in _distinct(param)}
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    number = float(value)
    if not math.isfinite(number):
        return False
    if kind == "int_uniform":
        low, high = _bounds(param)
        return number.is_integer() and low <= number <= high
    if kind.startswith("q_"):
        return _on_lattice(param, number) or (kind == "q_uniform" and _on_grid(param, number))
    return _between(number, *_range(kind, param))


def _between(number: float, low: float, high: float) -> bool:
    return low - _TOLERANCE * abs(low) <= number <= high + _TOLERANCE * abs(high)


def _on_lattice(param: Param, number: float) -> bool:
    q = float(_step(param))
    k = round(number / q)
    low, high = _lattice(param)
    return math.isclose(k * q, number, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE * q) and (
        low <= k <= high
    )


def _on_grid(param: Param, number: float) -> bool:
    # numpy.arange(min, max, q) holds min + j·q for j below ceil((max - min) / q), up to
    # rounding that grows along the grid; a millionth of q still tells the points apart.
    low, high = map(float, _bounds(param))
    q = float(_step(param))
    j = round((number - low) / q)
    count = math.ceil((high - low) / q)
    return 0 <= j < count and abs(low + j * q - number) <= 1e-6 * q


def _count(param: Param) -> int | None:
    kind = param.distribution
    if not is_discrete(param):
        return None
    if param.grid_points is not None:
        return len(discrete_values(param))
    if kind == "int_uniform":
        low, high = _bounds(param)
        return int(high - low + 1)
    if kind == "q_uniform":
        low, high = _bounds(param)
        return max(0, int(math.ceil((high - low) / _step(param))))
    if kind in ("constant", *CATEGORICAL):
        return len(discrete_values(param))
    low, high = _lattice(param)
    return int(high - low) + 1


def space_size(params: Sequence[Param]) -> int | None:
    """How many distinct points the parameters span; None when some are continuous."""
    size = 1
    for param in params:
        count = _count(param)
        if count is None:
            return None
        size *= count
    return size


def grid_points(params: Sequence[Param]) -> list[dict[str, Any]]:
    """Every combination of the parameters' discrete values, keyed by `Param.name`.

    The first parameter varies slowest and the last fastest, each through
    `discrete_values`; constants appear in every point.
    """
    names = [param.name for param in params]
    columns = [discrete_values(param) for param in params]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns)]


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts from flat `Param.name` keys: {"a/b": 1, "c": 2} -> {"a": {"b": 1}, "c": 2}."""
    nested: dict[str, Any] = {}
    # ids of the dicts made here: a dict that is a parameter's value is no group to fill.
    groups = {id(nested)}
    for key, value in flat.items():
        *parents, leaf = key.split("/")
        node = nested
        for part in parents:
            if part not in node:
                node[part] = {}
                groups.add(id(node[part]))
            elif id(node[part]) not in groups:
                raise ValueError(f"{key}: {part} is both a parameter and a group")
            node = node[part]
        if leaf in node:
            raise ValueError(f"{key}: {leaf} is both a parameter and a group")
        node[leaf] = value
    return nested


def point_key(point: dict[str, Any]) -> str:
    """A canonical JSON text of a flat point, equal for equal points (lists, dicts too)."""
    return _key(point)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
