from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sweeptracker.errors import json_error


class RequestLimitsMiddleware:
    """413 for a body over the limit, before anything reads it; 400 for a NUL in the URL.

    DRF parses from the raw stream, so Django's own DATA_UPLOAD_MAX_MEMORY_SIZE
    check never fires for API requests.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "Content-Length is not a number.", "bad_request")
        if limit is not None and length > limit:
            return json_error(
                413, f"The body has {length} bytes; the limit is {limit}.", "too_large"
            )
        # PostgreSQL cannot compare or store NUL characters: refuse them before any lookup.
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return json_error(
                400,
                "The URL holds a NUL character (%00), which no name can contain.",
                "bad_request",
            )
        return self.get_response(request)
