"""Limits on the shape of what clients send: nesting depth and string length.

Python's json and our own walks over parsed values recurse, so a body of a few thousand
`[` raises RecursionError (a 500) unless its depth is refused first; long strings in a
run's config or summary are stored and rendered on every page. The limits are settings
(docs/security.md lists them); each check here runs before the work it protects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import serializers

# A JSON string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPENERS = frozenset("[{")


def max_json_depth() -> int:
    return int(settings.MAX_JSON_DEPTH)


def max_sweep_parameters() -> int:
    return int(settings.MAX_SWEEP_PARAMETERS)


def json_depth_message(limit: int | None = None) -> str:
    limit = max_json_depth() if limit is None else limit
    return f"nests deeper than MAX_JSON_DEPTH ({limit} levels of [ and {{)"


def text_too_deep(text: str, limit: int | None = None) -> bool:
    """Whether the JSON (or YAML flow) `text` nests brackets deeper than `limit`; read
    before parsing, without recursion, stopping at the first level past the limit."""
    limit = settings.MAX_JSON_DEPTH if limit is None else limit
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif len(token) == 1:
            depth -= 1
    return False


def value_too_deep(value: Any, limit: int | None = None) -> bool:
    """Whether a parsed value (lists and mappings) nests deeper than `limit`; no recursion,
    so a value built by other means (YAML, a form) is checked as safely as a text."""
    limit = settings.MAX_JSON_DEPTH if limit is None else limit
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def long_string_path(value: Any, limit: int | None = None, path: str = "") -> str | None:
    """The path (`a.b[0]`) of the first string or key in `value` longer than `limit`
    characters (MAX_STRING_LENGTH), if any. Call after the depth check: it walks the value."""
    limit = settings.MAX_STRING_LENGTH if limit is None else limit
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if len(item) > limit:
                return where or "(the text)"
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                inner_path = f"{where}.{key}" if where else str(key)
                if len(str(key)) > limit:
                    return f"{where or '(the object)'} (a key of {len(str(key))} characters)"
                stack.append((inner, inner_path))
        elif isinstance(item, list | tuple):
            stack.extend((inner, f"{where}[{index}]") for index, inner in enumerate(item))
    return None


def string_length_message(limit: int | None = None) -> str:
    limit = settings.MAX_STRING_LENGTH if limit is None else limit
    return f"is longer than MAX_STRING_LENGTH ({limit} characters)"


class BoundedJSONField(serializers.JSONField):
    """A JSONField that refuses values past MAX_JSON_DEPTH and strings inside them past
    MAX_STRING_LENGTH, also when the value arrives as JSON text in a form field (which
    DRF's own field parses with a recursive parser)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and getattr(data, "is_json_string", False) and text_too_deep(data):
            raise serializers.ValidationError(json_depth_message())
        value = super().to_internal_value(data)
        if value_too_deep(value):
            raise serializers.ValidationError(json_depth_message())
        # A text as a whole (a sweep's YAML) is bounded by the body size; strings in it are not.
        if not isinstance(value, str) and (found := long_string_path(value)) is not None:
            raise serializers.ValidationError(f"the text at {found} {string_length_message()}")
        return value
