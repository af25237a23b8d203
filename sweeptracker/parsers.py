from __future__ import annotations

import io
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from sweeptracker import limits
from sweeptracker.nul_characters import nul_path


class LenientJSONParser(JSONParser):
    """Accept NaN and Infinity literals, which Python's json.dumps writes by default.

    Refuse NUL characters in text: PostgreSQL cannot store them, and refusing them on
    SQLite too keeps one behaviour whatever the database. Refuse nesting past
    MAX_JSON_DEPTH before parsing: Python's json recurses and would raise RecursionError.
    """

    strict = False

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        # The charset of the Content-Type, as DRF reads it (untyped in the stubs).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        if limits.text_too_deep(raw.decode(encoding, errors="replace")):
            raise ParseError(f"The body {limits.json_depth_message()}.")
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if found := nul_path(data):
            raise ParseError(f"The text at {found} holds a NUL character (\\u0000).")
        return data
