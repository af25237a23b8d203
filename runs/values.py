"""Metric values on the wire: JSON has no NaN or infinity, so they travel as strings."""

from __future__ import annotations

import math
from typing import Any

_FROM_WIRE = {
    "nan": math.nan,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
}


def to_float(raw: Any) -> float:
    """The number a wire value stands for; ValueError when it is not one."""
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and raw.strip().lower() in _FROM_WIRE:
        return _FROM_WIRE[raw.strip().lower()]
    raise ValueError(raw)


def to_wire(value: float | None) -> float | str:
    """A stored value as JSON can carry it (NULL is how NaN is stored)."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def json_safe(data: Any) -> Any:
    """`data` with every non-finite float turned into its wire string, at any depth."""
    if isinstance(data, float):
        return data if math.isfinite(data) else to_wire(data)
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(value) for value in data]
    return data
