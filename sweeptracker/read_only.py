"""PUT/PATCH bodies that write what they may not: one check for every resource.

A read-only field silently ignored looks like a success to the client that sent it; a 400
naming the way to change it (for `state`, the lifecycle actions) tells it what to do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def read_only_writes(
    data: Any, current: Mapping[str, Any], writable: Collection[str], hints: Mapping[str, str]
) -> dict[str, str]:
    """Problems by field for what `data` tries to change outside `writable`: a field in
    `hints` gets its hint (how it does change), another read-only or unknown field a line
    listing the writable ones. Sending a read-only field's current value is no change."""
    if not isinstance(data, Mapping):
        return {}
    allowed = ", ".join(writable)
    problems = {}
    for key, value in data.items():
        if key in writable or current.get(key, object()) == value:
            continue
        if key in hints:
            problems[key] = hints[key]
        elif key in current:
            problems[key] = f"Read-only; {allowed} may change."
        else:
            problems[key] = f"Unknown field; {allowed} may change."
    return problems
