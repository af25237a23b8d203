"""Whether each parameter of a config can be served for as long as its sweep runs.

A config is refused at creation when one of its distributions cannot be sampled, or shown
to Optuna, without overflowing to inf or NaN: W&B's schema takes any number, but a sweep
that was accepted must not fail at its tenth suggestion, when bayes leaves its random
start-up. What stays within these limits is served; `sweeps.distributions.clip` keeps
every value it gives finite and inside the declared bounds.

The limits, each named in the 400 that refuses a config:

- MAX_MAGNITUDE (1e100) bounds the values of the float kinds (min and max of uniform and
  the _values kinds, |mu| + 10 sigma of normal): Optuna's samplers subtract bounds and
  square distances, which must stay finite.
- MAX_INTEGER (2**53) bounds int_uniform's min and max and the values an integer q gives:
  Optuna keeps every coordinate as a float, exact for integers up to 2**53.
- MAX_EXPONENT (700) bounds the natural-log bounds of log_uniform and inv_log_uniform and
  mu + 10 sigma of log_normal: exp(700) ≈ 1e304 is finite, exp(-700) ≈ 1e-304 above 0.
- MIN_WIDTH (1e-100) bounds max - min from below, unless they are equal (a constant):
  TPE divides by a width it derives from the range (of the logs, for the _values kinds).
- A q must leave max / q finite: rounding x / q to an integer needs a finite quotient.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sweeps.config import Param, SweepConfig
    from sweeps.config_readers import Problems

MAX_MAGNITUDE = 1e100
MAX_INTEGER = 2**53
MAX_EXPONENT = 700.0
MIN_WIDTH = 1e-100
VALUE_LOGS = ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values")
# How many standard deviations of normal and log_normal must stay within the limits;
# a draw beyond them (odds about 1e-23) is clipped.
SIGMAS = 10.0

_LOG_BOUNDS = ("log_uniform", "q_log_uniform", "inv_log_uniform")
_NORMALS = ("normal", "q_normal")
_LOG_NORMALS = ("log_normal", "q_log_normal")


def check_servable(config: SweepConfig, problems: Problems) -> None:
    """Record a problem (path, message naming the limit) for every parameter whose
    distribution could overflow when sampled or mapped to Optuna."""
    for param in config.parameters:
        path = "parameters." + ".parameters.".join(param.path)
        for key, message in _faults(param):
            problems.append((f"{path}.{key}" if key else path, message))


def _width(param: Param) -> Iterator[tuple[str, str]]:
    low, high = float(param.min), float(param.max)  # type: ignore[arg-type]
    if param.distribution in VALUE_LOGS:
        # Optuna samples these on a log scale: the width that counts is that of the logs.
        low, high = math.log(low), math.log(high)
    if 0 < high - low < MIN_WIDTH:
        yield (
            "max",
            (
                f"max - min is {high - low:g}, below the limit MIN_WIDTH ({MIN_WIDTH:g}) under "
                "which samplers divide by zero; write value: for a constant"
            ),
        )


def _faults(param: Param) -> Iterator[tuple[str, str]]:
    kind = param.distribution
    if kind == "int_uniform":
        yield from _integer_bounds(param)
    elif kind in _LOG_BOUNDS:
        yield from _exponent_bounds(param)
        yield from _width(param)
    elif kind in _NORMALS:
        yield from _normal(param, MAX_MAGNITUDE, "MAX_MAGNITUDE")
    elif kind in _LOG_NORMALS:
        yield from _normal(param, MAX_EXPONENT, "MAX_EXPONENT")
    elif param.min is not None and param.max is not None:
        yield from _float_bounds(param)
        yield from _width(param)
    if kind.startswith("q_"):
        yield from _step(param)


def _integer_bounds(param: Param) -> Iterator[tuple[str, str]]:
    for key in ("min", "max"):
        bound = getattr(param, key)
        if abs(bound) > MAX_INTEGER:
            yield (
                key,
                (
                    f"{bound} is beyond the limit MAX_INTEGER (±2**53 = ±{MAX_INTEGER}): "
                    "samplers hold integers as floats, exact only up to 2**53"
                ),
            )


def _exponent_bounds(param: Param) -> Iterator[tuple[str, str]]:
    for key in ("min", "max"):
        bound = float(getattr(param, key))
        if abs(bound) > MAX_EXPONENT:
            yield (
                key,
                (
                    f"{bound:g} is beyond the limit MAX_EXPONENT (±{MAX_EXPONENT:g}): "
                    f"{param.distribution} bounds are natural logs, and exp({bound:g}) "
                    "overflows or rounds to 0"
                ),
            )


def _float_bounds(param: Param) -> Iterator[tuple[str, str]]:
    for key in ("min", "max"):
        bound = float(getattr(param, key))
        if not abs(bound) <= MAX_MAGNITUDE:
            yield (
                key,
                (
                    f"{bound:g} is beyond the limit MAX_MAGNITUDE (±{MAX_MAGNITUDE:g}), "
                    "beyond which samplers overflow"
                ),
            )


def _normal(param: Param, limit: float, name: str) -> Iterator[tuple[str, str]]:
    mu = 0.0 if param.mu is None else param.mu
    sigma = 1.0 if param.sigma is None else param.sigma
    reach = abs(mu) + SIGMAS * sigma
    if not reach <= limit:
        what = "exp(mu ± 10·sigma)" if name == "MAX_EXPONENT" else "mu ± 10·sigma"
        yield (
            "sigma" if SIGMAS * sigma > abs(mu) else "mu",
            (
                f"|mu| + 10·sigma = {reach:g} is beyond the limit {name} ({limit:g}): "
                f"{what} must stay finite"
            ),
        )


def _step(param: Param) -> Iterator[tuple[str, str]]:
    q = 1.0 if param.q is None else param.q
    reach = _reach(param)
    if not math.isfinite(reach / q):
        yield "q", f"{q:g} is too small for values up to {reach:g}: max / q overflows"
    elif isinstance(q, int) and reach > MAX_INTEGER:
        yield (
            "q",
            (
                f"an integer q gives integer values, and values up to {reach:g} are beyond the "
                f"limit MAX_INTEGER (2**53 = {MAX_INTEGER}); use a float q"
            ),
        )


def _reach(param: Param) -> float:
    """The greatest magnitude a q_ kind's unquantized value reaches within the limits."""
    kind = param.distribution
    if kind == "q_beta":
        return 1.0
    if kind == "q_normal":
        return abs(param.mu or 0.0) + SIGMAS * (1.0 if param.sigma is None else param.sigma)
    if kind == "q_log_normal":
        sigma = 1.0 if param.sigma is None else param.sigma
        return math.exp(min((param.mu or 0.0) + SIGMAS * sigma, MAX_EXPONENT))
    low, high = float(param.min), float(param.max)  # type: ignore[arg-type]
    if kind == "q_log_uniform":
        return math.exp(min(high, MAX_EXPONENT))
    return max(abs(low), abs(high))
