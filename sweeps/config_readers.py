"""Small readers of raw config values: each returns the value or records why not.

Every reader takes the path of the value it reads and appends (path, message) to
`problems` instead of raising, so that `sweeps.config.normalize` can list every fault.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

Problems = list[tuple[str, str]]


def at(path: str, key: object) -> str:
    """`path` extended by a list index (an int) or a mapping key (anything else)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def unknown_keys(
    raw: dict[Any, Any], allowed: tuple[str, ...], path: str, problems: Problems
) -> None:
    for key in raw:
        if key not in allowed:
            problems.append(
                (at(path, str(key)), f"unknown key; allowed here: {', '.join(allowed)}")
            )


def number(raw: object, path: str, problems: Problems, integer: bool = False) -> Any:
    """`raw` as a finite int or float, or None after recording why it is not one."""
    wanted = "an integer" if integer else "a number"
    if isinstance(raw, int) and not isinstance(raw, bool):
        if abs(raw) <= sys.float_info.max:
            return raw
        # Every number is used as a float somewhere; 10**400 is none.
        problems.append((path, f"must be within ±{sys.float_info.max:g}, the float range"))
        return None
    if isinstance(raw, float) and math.isfinite(raw) and not integer:
        return raw
    if isinstance(raw, str) and _finite_float(raw) is not None:
        # PyYAML follows YAML 1.1: 1e-5 (no dot, no exponent sign) is a string.
        message = f"YAML read {raw} as a string, not a number; write it as {_yaml_number(raw)}"
    elif isinstance(raw, float) and math.isfinite(raw):
        message = f"must be an integer, not {raw!r}"
    else:
        message = f"must be {wanted}, not {describe(raw)}"
    problems.append((path, message))
    return None


def _finite_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _yaml_number(text: str) -> str:
    """How to write the number in `text` so that PyYAML reads a number: floats need a dot
    in the mantissa and a sign on the exponent."""
    text = text.strip().lower()
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return str(int(text))
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if exponent else mantissa


def at_least(raw: object, floor: float, path: str, problems: Problems, integer: bool) -> Any:
    value = number(raw, path, problems, integer)
    if value is not None and value < floor:
        problems.append((path, f"must be {floor} or more, not {value}"))
        return None
    return value


def positive(raw: object, path: str, problems: Problems) -> Any:
    value = number(raw, path, problems)
    if value is not None and value <= 0:
        problems.append((path, f"must be greater than 0, not {value}"))
        return None
    return value


def choice(raw: object, options: tuple[str, ...], path: str, problems: Problems) -> str:
    if isinstance(raw, str) and raw in options:
        return raw
    problems.append((path, f"must be one of {', '.join(options)}, not {describe(raw)}"))
    return options[0]


def _unplain(value: object) -> str | None:
    """What part of `value` cannot be stored as JSON, or None when all of it can."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return next((bad for item in value if (bad := _unplain(item))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the mapping key {key!r}"
            if bad := _unplain(item):
                return bad
        return None
    return f"the {type(value).__name__} {value}"


def plain(value: Any, path: str, problems: Problems) -> Any:
    """A JSON-shaped copy of `value` (tuples become lists), so that storage keeps it as is."""
    bad = _unplain(value)
    if bad is not None:
        problems.append((path, f"{bad} cannot be stored as JSON; quote it or use plain data"))
        return None
    return json.loads(json.dumps(value))
