"""How each W&B distribution is shown to Optuna, and how Optuna's answer maps back.

The one mapping between W&B distributions and Optuna's coordinates (`sweeps.sampling`
builds Optuna's distributions from `optuna_kind`); W&B's own random draws and grids are
`sweeps.distributions`'.

Optuna samples in its own coordinates; the run gets the W&B value:

- categorical values: an index into `values` (so lists, dicts and None work);
  probabilities are not modelled by Bayesian samplers.
- int_uniform: an int in [min, max] (over more than MAX_INT_CHOICES integers, a float
  rounded to the nearest int). uniform: a float in [min, max].
- log_uniform, log_uniform_values, inv_log_uniform, inv_log_uniform_values: a float
  on a log scale over the range of values they produce.
- q_*: the unquantized variable, then rounded to a multiple of q as W&B does.
- normal, log_normal, beta and their q_ forms: a uniform u in (0, 1) mapped through the
  distribution's quantile function, so the prior the sampler sees is the W&B prior.
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist
from typing import Any

from scipy.special import betainc

from sweeps.config import Param
from sweeps.distributions import clip, quantile, quantize

# Quantile mappings stay off the exact ends, where normal quantiles are infinite.
U_LOW, U_HIGH = 1e-6, 1 - 1e-6

LOG_SCALE = {
    "log_uniform",
    "log_uniform_values",
    "inv_log_uniform",
    "inv_log_uniform_values",
    "q_log_uniform",
    "q_log_uniform_values",
}
# The widest int_uniform shown to Optuna as integers; wider ones are a float coordinate.
MAX_INT_CHOICES = 100_000
QUANTILE = {"normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta"}


def log_bounds(param: Param) -> tuple[float, float]:
    """The range of values a log-scale distribution produces."""
    # Why the type: ignore below: The config module guarantees min and max here.
    low, high = float(param.min), float(param.max)  # type: ignore[arg-type]
    if param.distribution in ("log_uniform", "q_log_uniform"):
        return math.exp(low), math.exp(high)
    if param.distribution == "inv_log_uniform":
        return math.exp(-high), math.exp(-low)
    return low, high


def optuna_kind(param: Param) -> tuple[str, tuple[Any, ...]]:
    """("categorical", n) | ("int", low, high) | ("float", low, high, log)."""
    kind = param.distribution
    if kind in ("categorical", "categorical_w_probabilities"):
        return "categorical", (len(param.values or ()),)
    if kind == "int_uniform":
        # Why the type: ignore below: The config module guarantees min and max here.
        low, high = int(param.min), int(param.max)  # type: ignore[arg-type]
        if high - low > MAX_INT_CHOICES:
            # Optuna's GPSampler lists every integer of an int distribution (numpy.arange):
            # 2**53 of them is no array. A wide range is a float coordinate, rounded back.
            return "float", (float(low), float(high), False)
        return "int", (low, high)
    if kind in ("uniform", "q_uniform"):
        # Why the type: ignore below: The config module guarantees min and max here.
        return "float", (float(param.min), float(param.max), False)  # type: ignore[arg-type]
    if kind in LOG_SCALE:
        return "float", (*log_bounds(param), True)
    if kind in QUANTILE:
        return "float", (U_LOW, U_HIGH, False)
    raise ValueError(f"{param.name}: no Optuna mapping for {kind}")


def to_value(param: Param, internal: Any) -> Any:
    """The W&B value for Optuna's coordinate of `param`, finite and inside its bounds."""
    return clip(param, _to_value(param, internal))


def _to_value(param: Param, internal: Any) -> Any:
    kind = param.distribution
    if kind in ("categorical", "categorical_w_probabilities"):
        return (param.values or ())[int(internal)]
    if kind == "int_uniform":
        return int(round(internal))
    if kind in ("uniform", "log_uniform", "log_uniform_values"):
        return float(internal)
    if kind in ("inv_log_uniform", "inv_log_uniform_values"):
        return float(internal)
    if kind in ("q_uniform", "q_log_uniform", "q_log_uniform_values"):
        return quantize(float(internal), 1.0 if param.q is None else param.q)
    return _from_quantile(param, float(internal))


def _from_quantile(param: Param, u: float) -> float | int:
    value = quantile(param, u)
    if param.distribution.startswith("q_") and math.isfinite(value):
        return quantize(value, 1.0 if param.q is None else param.q)
    return value


def to_internal(param: Param, value: Any) -> Any:
    """Optuna's coordinate for a value that was not sampled by Optuna; None if it has none."""
    kind = param.distribution
    if kind == "constant" or value is None:
        return None
    if kind in ("categorical", "categorical_w_probabilities"):
        keys = [json.dumps(v, sort_keys=True) for v in param.values or ()]
        wanted = json.dumps(value, sort_keys=True)
        return keys.index(wanted) if wanted in keys else None
    if kind == "int_uniform":
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        return None
    if kind in QUANTILE:
        return min(max(_cdf(param, value), U_LOW), U_HIGH)
    low, high, _ = optuna_kind(param)[1]
    return min(max(value, low), high)


def _cdf(param: Param, value: float) -> float:
    kind = param.distribution
    if kind in ("beta", "q_beta"):
        a = 1.0 if param.a is None else float(param.a)
        b = 1.0 if param.b is None else float(param.b)
        share = float(betainc(a, b, min(max(value, 0.0), 1.0)))
        # NaN with both shapes near the float limit: a point mass at the mean a / (a + b).
        return share if math.isfinite(share) else float(value >= 1.0 / (1.0 + b / a))
    mu = 0.0 if param.mu is None else float(param.mu)
    sigma = 1.0 if param.sigma is None else float(param.sigma)
    if kind in ("log_normal", "q_log_normal"):
        value = math.log(value) if value > 0 else -math.inf
    return NormalDist(mu, sigma).cdf(value) if math.isfinite(value) else 0.0
