"""NUL characters: PostgreSQL stores none in text or JSON, so we refuse them on the way in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def nul_path(value: Any, path: str = "") -> str | None:
    """The path (`a.b[0]`) of the first string or key in `value` holding a NUL, if any."""
    if isinstance(value, str):
        return (path or "(the text)") if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, inner in value.items():
            inner_path = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return f"{inner_path!r} (a key)"
            if found := nul_path(inner, inner_path):
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if found := nul_path(inner, f"{path}[{index}]"):
                return found
    return None
