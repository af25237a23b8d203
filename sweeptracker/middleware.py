from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"The body has {length} bytes; the limit is {limit}."}, status=413
            )
        # PostgreSQL cannot compare or store NUL characters: refuse them before any lookup.
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return JsonResponse(
                {"detail": "The URL holds a NUL character (%00), which no name can contain."},
                status=400,
            )
        return self.get_response(request)
