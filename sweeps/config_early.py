"""The `early_terminate` section of a sweep config: W&B's hyperband plus Optuna's pruners.

`read_early_terminate` checks the section for `sweeps.config.normalize`; `hyperband_bands`
computes W&B's bands for `sweeps.early_stop`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sweeps.config_readers import Problems, at, at_least, describe, number, unknown_keys

# Options of each early_terminate type: (default or None, least value of an integer).
# Optuna's SuccessiveHalvingPruner refuses a reduction_factor below 2.
_EARLY: dict[str, dict[str, tuple[Any, int]]] = {
    "hyperband": {"min_iter": (None, 1), "max_iter": (None, 1), "s": (None, 1)}
    | {"eta": (3, 0), "strict": (True, 0)},
    "median": {"n_startup_trials": (5, 0), "n_warmup_steps": (0, 0), "interval_steps": (1, 1)},
    "successive_halving": {"min_resource": (1, 1), "reduction_factor": (3, 2)}
    | {"min_early_stopping_rate": (0, 0)},
}


@dataclass(frozen=True)
class EarlyTerminate:
    type: str
    options: dict[str, Any]


def hyperband_bands(options: dict[str, Any], count: int = 100) -> list[int]:
    """Hyperband's bands as W&B's hyperband_stopping.py computes them.

    With max_iter: max_iter divided by eta, s times, stopping below 1, ascending.
    With min_iter: min_iter times eta to the k, for `count` bands (W&B takes 100).
    """
    eta = options.get("eta", 3)
    bands: list[int] = []
    if options.get("max_iter") is not None:
        band = options["max_iter"]
        for _ in range(options["s"]):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
        return sorted(bands)
    band = options["min_iter"]
    for _ in range(count):
        bands.append(int(band))
        band *= eta
    return bands


def read_early_terminate(raw: dict[str, Any], problems: Problems) -> EarlyTerminate | None:
    spec = raw.get("early_terminate")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        problems.append(("early_terminate", "must be a mapping with a type"))
        return None
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in _EARLY:
        known = ", ".join(_EARLY)
        problems.append(("early_terminate.type", f"must be one of {known}, not {describe(kind)}"))
        return None
    unknown_keys(spec, ("type", *_EARLY[kind]), "early_terminate", problems)
    options: dict[str, Any] = {}
    for key, (default, floor) in _EARLY[kind].items():
        if key in spec:
            options[key] = _option(key, spec[key], floor, problems)
        elif default is not None:
            options[key] = default
    if kind == "hyperband":
        _check_hyperband(options, problems)
    return EarlyTerminate(kind, options)


def _option(key: str, raw: object, floor: int, problems: Problems) -> Any:
    path = at("early_terminate", key)
    if key == "strict":
        if isinstance(raw, bool):
            return raw
        problems.append((path, f"must be true or false, not {describe(raw)}"))
        return None
    if key == "eta":
        value = number(raw, path, problems)
        if value is not None and value <= 1:
            problems.append((path, f"must be greater than 1, not {value}"))
            return None
        return value
    return at_least(raw, floor, path, problems, integer=True)


def _check_hyperband(options: dict[str, Any], problems: Problems) -> None:
    if "max_iter" in options and "s" not in options:
        message = "is required with max_iter: the number of bands below max_iter"
        problems.append(("early_terminate.s", message))
        return
    if "max_iter" not in options and "min_iter" not in options:
        message = "hyperband needs min_iter, or max_iter and s"
        problems.append(("early_terminate", message))
        return
    if any(v is None for v in options.values()):
        return
    if not hyperband_bands(options):
        message = (
            f"max_iter ({options['max_iter']}) / eta ({options['eta']}) is below 1, "
            "which leaves no band; raise max_iter or lower eta"
        )
        problems.append(("early_terminate.max_iter", message))
