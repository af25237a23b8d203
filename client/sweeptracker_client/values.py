"""What may be logged or stored, and how it travels: JSON has no NaN, so it goes as a string."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

# The server's limit on metric names.
MAX_KEY_LENGTH = 255
# History rows carry these next to the metrics, so a metric may not use them.
RESERVED_KEYS = {"_step", "_timestamp"}

_TO_WIRE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_FROM_WIRE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def to_number(key: str, value: Any) -> float:
    """`value` as a metric: any real number (numpy scalars and 1-element tensors too).

    Raises TypeError naming the key for anything else, so a bad value fails at
    the log() call that made it rather than later in the background.
    """
    if isinstance(value, str | bytes | bytearray | Mapping | list | tuple | set) or value is None:
        raise TypeError(f"metric {key!r} must be a number, not {type(value).__name__}: {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"metric {key!r} must be a number, not {type(value).__name__}: {value!r}"
        ) from error


def check_key(key: Any) -> str:
    """`key` if the server accepts it as a metric name."""
    if not isinstance(key, str):
        raise TypeError(f"metric names must be strings, not {type(key).__name__}: {key!r}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"metric names must have 1 to {MAX_KEY_LENGTH} characters: {key!r}")
    if key in RESERVED_KEYS:
        raise ValueError(f"{key!r} is reserved for history rows; name the metric otherwise")
    return key


def metrics(data: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of one log() call, checked."""
    if not isinstance(data, Mapping):
        raise TypeError(f"log() takes a dict of metric name to number, not {type(data).__name__}")
    return {check_key(key): to_number(key, value) for key, value in data.items()}


def number_to_wire(value: float) -> float | str:
    """A float as JSON can carry it."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else _TO_WIRE[value]


def to_wire(data: Any) -> Any:
    """`data` with every non-finite float turned into its wire string, at any depth."""
    if isinstance(data, float):
        return number_to_wire(data)
    if isinstance(data, Mapping):
        return {key: to_wire(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [to_wire(value) for value in data]
    return data


def from_wire(data: Any) -> Any:
    """`data` with the wire strings of non-finite numbers turned back into floats."""
    if isinstance(data, str):
        return _FROM_WIRE.get(data, data)
    if isinstance(data, dict):
        return {key: from_wire(value) for key, value in data.items()}
    if isinstance(data, list):
        return [from_wire(value) for value in data]
    return data


def plain(value: Any, where: str) -> Any:
    """`value` as plain JSON-able data for config and summary; TypeError naming `where`.

    numpy scalars and arrays become numbers and lists and paths become
    strings, as a training script's config often holds them.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        # numpy scalars and arrays; tolist() gives Python numbers and lists.
        return plain(value.tolist(), where)
    raise TypeError(
        f"{where} must be a number, string, bool, None, list or dict, "
        f"not {type(value).__name__}: {value!r}"
    )
