from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from sweeptracker.nul_characters import nul_path


class LenientJSONParser(JSONParser):
    """Accept NaN and Infinity literals, which Python's json.dumps writes by default.

    Refuse NUL characters in text: PostgreSQL cannot store them, and refusing them on
    SQLite too keeps one behaviour whatever the database.
    """

    strict = False

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if found := nul_path(data):
            raise ParseError(f"The text at {found} holds a NUL character (\\u0000).")
        return data
