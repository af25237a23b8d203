"""What may be logged or stored, and how it travels: JSON has no NaN, so it goes as a string."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The server's limit on metric names.
MAX_KEY_LENGTH = 255
# History rows carry these next to the metrics, so a metric may not use them.
RESERVED_KEYS = {"_step", "_timestamp"}

_TO_WIRE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_FROM_WIRE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def scalar(value: Any) -> bool | int | float | None:
    """`value` as a Python number if it is one: bool, int or float (numpy scalars,
    0-d arrays and 1-element tensors too, read through their `item()`); None otherwise.

    numpy is never imported: its scalars are recognized by their `item()` method.
    """
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | bytes | bytearray | Mapping | list | tuple | set) or value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item) and _holds_one(value):
        try:
            found = item()
        except (TypeError, ValueError, RuntimeError):
            return None
        if isinstance(found, bool | int | float):
            return found
    return None


def _holds_one(value: Any) -> bool:
    """True for a numpy scalar, a 0-d or 1-element array, or a 1-element tensor."""
    size = getattr(value, "size", 1)
    try:
        size = size() if callable(size) else size
        count = math.prod(size) if isinstance(size, tuple) else int(size)
    except (TypeError, ValueError):
        return False
    return count == 1


def to_number(key: str, value: Any) -> float:
    """`value` as a float (numpy scalars and 1-element tensors too); TypeError naming the key."""
    found = scalar(value)
    if found is None:
        raise TypeError(f"metric {key!r} must be a number, not {type(value).__name__}: {value!r}")
    return float(found)


def check_key(key: Any) -> str:
    """`key` if the server accepts it as a metric name."""
    if not isinstance(key, str):
        raise TypeError(f"metric names must be strings, not {type(key).__name__}: {key!r}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"metric names must have 1 to {MAX_KEY_LENGTH} characters: {key!r}")
    if key in RESERVED_KEYS:
        raise ValueError(f"{key!r} is reserved for history rows; name the metric otherwise")
    return key


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of `a/b` keys, the way W&B's charts name them."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"metric names must be strings, not {type(key).__name__}: {key!r}")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


@dataclass
class Logged:
    """One log() call sorted out: numbers for the history, everything else for the summary."""

    numbers: dict[str, bool | int | float] = field(default_factory=dict)
    others: dict[str, Any] = field(default_factory=dict)


def split_logged(data: Mapping[str, Any]) -> Logged:
    """The values of one log() call, flattened and checked; never raises for a value.

    Numbers (bools and ints kept as such) go to the history; strings, lists and
    other values go to the summary only, as plain JSON (or their str() when
    they are not data). Objects with a `to_summary()` method (the media classes)
    give their own summary value, or None when nothing of them is kept.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"log() takes a dict of metric name to value, not {type(data).__name__}")
    logged = Logged()
    for key, value in flatten(data).items():
        check_key(key)
        number = scalar(value)
        if number is not None:
            logged.numbers[key] = number
            continue
        if value is None:
            logged.others[key] = None
            continue
        kept = summary_value(value)
        if kept is not None:
            logged.others[key] = kept
    return logged


def summary_value(value: Any) -> Any:
    """A value that is not a number as the summary keeps it; None when nothing is kept."""
    to_summary = getattr(value, "to_summary", None)
    if callable(to_summary):
        return to_summary()
    if isinstance(value, list | tuple) and value and all(_is_media(v) for v in value):
        kept = [v.to_summary() for v in value]
        return None if all(k is None for k in kept) else kept
    try:
        return plain(value, "value")
    except TypeError:
        # Not data (a model, a function): its text is all a metrics tracker can keep.
        return str(value)


def _is_media(value: Any) -> bool:
    return callable(getattr(value, "to_summary", None))


def row_value(value: bool | int | float) -> bool | int | float | str:
    """A history value as the wire carries it: bools and ints as they are."""
    if isinstance(value, bool | int):
        return value
    return number_to_wire(value)


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
