"""Every API error is JSON that says what was wrong."""

from __future__ import annotations

import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

# Seconds a client should wait before retrying while the database refuses.
RETRY_AFTER = 5
UNAVAILABLE = "The database is unavailable for a moment; nothing was changed. Retry later."
UNAVAILABLE_PAGE = (
    "<!doctype html><title>Unavailable</title>"
    "<h1>Unavailable for a moment</h1><p>The database does not answer; try again soon.</p>"
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def is_database_away(exc: BaseException | None) -> bool:
    """The database refused or dropped the connection, or stayed locked: worth a retry."""
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After; the page is plain HTML since templates may need the database."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_away(exc):
        # The request's transaction was rolled back with the failed query; a client
        # retrying with the same body cannot store anything twice (log writes are idempotent).
        set_rollback()
        return Response(
            {"detail": UNAVAILABLE}, status=503, headers={"Retry-After": str(RETRY_AFTER)}
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare list of messages says nothing about where; wrap it like the rest.
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": f"Nothing at {request.path}."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, also for errors raised by middleware
    # (sessions, auth) where no view's handler sees them.
    if is_database_away(sys.exc_info()[1]):
        return database_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"detail": "The server failed; the error was logged."}, status=500)
    return render(request, "500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": str(exception) or "Permission denied."}, status=403)
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": str(exception) or "Bad request."}, status=400)
    return render(request, "400.html", status=400)
