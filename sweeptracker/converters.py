"""Ids in URLs: at most 18 digits, so no lookup overflows PostgreSQL's bigint."""

from __future__ import annotations

ID_REGEX = "[0-9]{1,18}"


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
