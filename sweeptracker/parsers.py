from __future__ import annotations

from rest_framework.parsers import JSONParser


class LenientJSONParser(JSONParser):
    """Accept NaN and Infinity literals, which Python's json.dumps writes by default."""

    strict = False
