"""Every API error is JSON in one shape, built here (docs/api-errors.md describes it).

`{"detail": "a sentence", "code": "invalid", ...}`: every 4xx (and 5xx) of the API has
`detail` and `code`; a 400 adds `errors`, one `{"path", "message"}` per problem; a 409 adds
`state`, `reason` and `retry` when the conflict has them. Views raise (never return) an
`ApiError` or one of DRF's exceptions; `api_exception_handler` turns either into the body.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

# Seconds a client should wait before retrying while the database refuses.
RETRY_AFTER = 5
UNAVAILABLE = "The database is unavailable for a moment; nothing was changed. Retry later."
UNAVAILABLE_PAGE = (
    "<!doctype html><title>Unavailable</title>"
    "<h1>Unavailable for a moment</h1><p>The database does not answer; try again soon.</p>"
)
# The keys every 400 has; a problem's path never replaces one of them (see `_legacy`). A 400
# has no state/reason/retry of its own, so a field named `state` keeps its older key.
SHAPE_KEYS = frozenset({"detail", "code", "errors"})
# A 400's detail lists its problems; past this many it says how many more `errors` holds.
DETAIL_PROBLEMS = 20

Problem = tuple[str, str]  # (path, message); path "" is the request as a whole


class ApiError(APIException):
    """An API error whose body has the one shape; raise a subclass, or this with a status."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is invalid."
    default_code = "invalid"

    def __init__(
        self,
        detail: str | None = None,
        code: str | None = None,
        *,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.default_detail, code or self.default_code)
        self.code = code or self.default_code
        # Extra keys of the body: a conflict's state/reason/retry, a 400's older keys.
        self.fields = dict(fields or {})

    def body(self) -> dict[str, Any]:
        return error_body(str(self.detail), self.code, **self.fields)


class Invalid(ApiError):
    """400 naming every problem by path. The body also keeps each path as a key holding its
    message, as API answers did before this shape (clients and scripts read them)."""

    def __init__(
        self,
        problems: Iterable[Problem] | Mapping[str, str],
        detail: str | None = None,
        code: str | None = None,
        *,
        legacy: Mapping[str, Any] | None = None,
    ) -> None:
        pairs = list(problems.items() if isinstance(problems, Mapping) else problems)
        self.problems = pairs
        old = _legacy(dict(pairs)) if legacy is None else dict(legacy)
        super().__init__(detail or problems_sentence(pairs), code, fields=old)

    def body(self) -> dict[str, Any]:
        return error_body(str(self.detail), self.code, errors=self.problems, **self.fields)

    @classmethod
    def at(cls, path: str, message: str) -> Invalid:
        """One problem at `path`."""
        return cls([(path, message)])

    @classmethod
    def sentence(cls, text: str, path: str = "") -> Invalid:
        """One problem told as a whole sentence (the detail is `text` alone), at `path`."""
        return cls([(path, text)], text, legacy={})


class Conflict(ApiError):
    """409: the object's state does not allow the request; `state` is that state, `reason`
    why (a word a program can branch on), `retry` whether asking again later may succeed."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(
        self,
        detail: str | None = None,
        *,
        state: str | None = None,
        reason: str | None = None,
        retry: bool | None = None,
    ) -> None:
        given = {"state": state, "reason": reason, "retry": retry}
        super().__init__(detail, fields={k: v for k, v in given.items() if v is not None})


def problems_sentence(problems: list[Problem]) -> str:
    """The problems as one line, `path: message; ...` (what the client prints)."""
    shown = [f"{path}: {message}" if path else message for path, message in problems]
    if len(shown) > DETAIL_PROBLEMS:
        more = len(shown) - DETAIL_PROBLEMS
        shown = [*shown[:DETAIL_PROBLEMS], f"and {more} more (see errors)"]
    return "; ".join(shown) or "The request is invalid."


def error_body(
    detail: str, code: str, errors: Iterable[Problem] | None = None, **fields: Any
) -> dict[str, Any]:
    """The one error shape; `errors` is given for a 400 (problems by path)."""
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors is not None:
        body["errors"] = [{"path": path, "message": message} for path, message in errors]
    return {**fields, **body}


def _legacy(problems: Mapping[str, Any]) -> dict[str, Any]:
    # A path named like a key of the shape keeps the shape's meaning; `errors` has it anyway.
    return {path: message for path, message in problems.items() if path not in SHAPE_KEYS}


def is_database_away(exc: BaseException | None) -> bool:
    """The database refused or dropped the connection, or stayed locked: worth a retry."""
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After; the page is plain HTML since templates may need the database."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse(error_body(UNAVAILABLE, "unavailable"), status=503)
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
            error_body(UNAVAILABLE, "unavailable"),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    # As DRF's handler does, so that the body below knows them as what they mean.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = exc.body()
    elif isinstance(exc, ValidationError):
        response.data = _validation_body(response.data)
    elif isinstance(exc, APIException):
        response.data = _message_body(response.data, _code(exc), response.status_code)
    return response


def _code(exc: APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _message_body(data: Any, code: str, status_code: int) -> dict[str, Any]:
    """A DRF error that carries a message (404, 403, 401, 429, a parse error...)."""
    if isinstance(data, list):
        # A bare list of messages says nothing about where; it is about the whole request.
        detail = " ".join(str(item) for item in data)
    elif isinstance(data, dict) and "detail" in data:
        detail = str(data["detail"])
    else:
        detail = str(data)
    errors = [("", detail)] if status_code == status.HTTP_400_BAD_REQUEST else None
    return error_body(detail, code, errors)


def _validation_body(data: Any) -> dict[str, Any]:
    """A serializer's errors ({field: [messages]}, nested) in the one shape; the field keys
    stay too, as before."""
    problems = list(_flatten(data, ""))
    legacy = _legacy(data) if isinstance(data, dict) else {}
    return error_body(problems_sentence(problems), "invalid", problems, **legacy)


def _flatten(data: Any, path: str) -> Iterable[Problem]:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, int):
                where = f"{path}[{key}]"
            elif key in ("non_field_errors", "detail"):
                where = path
            else:
                where = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, where)
    elif isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        for index, item in enumerate(data):
            yield from _flatten(item, f"{path}[{index}]")
    elif isinstance(data, list):
        for message in data:
            yield path, str(message)
    else:
        yield path, str(data)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(status_code: int, detail: str, code: str) -> JsonResponse:
    """An error answered outside DRF (middleware, Django's handlers) in the same shape."""
    errors = [("", detail)] if status_code == status.HTTP_400_BAD_REQUEST else None
    return JsonResponse(error_body(detail, code, errors), status=status_code)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return json_error(404, f"Nothing at {request.path}.", "not_found")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, also for errors raised by middleware
    # (sessions, auth) where no view's handler sees them.
    if is_database_away(sys.exc_info()[1]):
        return database_unavailable(request)
    if _wants_json(request):
        return json_error(500, "The server failed; the error was logged.", "server_error")
    return render(request, "500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return json_error(403, str(exception) or "Permission denied.", "permission_denied")
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return json_error(400, str(exception) or "Bad request.", "bad_request")
    return render(request, "400.html", status=400)


# The shape for the OpenAPI schema (sweeptracker.schema adds it to every operation). ------


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField(
        allow_blank=True,
        help_text="Where: a field, a query parameter or a path in the body such as "
        '"parameters.lr.min" or "rows[0].values.loss"; "" for the request as a whole.',
    )
    message = serializers.CharField(help_text="What is wrong there.")


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (docs/api-errors.md)."""

    detail = serializers.CharField(help_text="What went wrong, as a sentence.")
    code = serializers.CharField(
        help_text="What kind of error, for programs: invalid, invalid_config, parse_error, "
        "not_found, permission_denied, not_authenticated, authentication_failed, conflict, "
        "throttled, unavailable, ..."
    )


class ValidationErrorSerializer(ErrorSerializer):
    """A 400: every problem by path. For older clients the body also keeps each path as a
    key holding its message(s), as answers did before `errors` existed."""

    # DRF's metaclass moves the field off the class, so Serializer.errors stays as it is.
    errors = ProblemSerializer(many=True)  # type: ignore[assignment]


class ConfigErrorSerializer(ValidationErrorSerializer):
    """A 400 of a sweep's creation; for a config with problems (code invalid_config),
    `problems` and `config` repeat `errors` for older clients."""

    problems = ProblemSerializer(many=True, required=False, help_text="The same as errors.")
    config = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text='The problems as "path: message" lines.',
    )


class ConflictErrorSerializer(ErrorSerializer):
    """A 409: the object's state does not allow the request now."""

    state = serializers.CharField(required=False, help_text="The object's state.")
    reason = serializers.CharField(
        required=False,
        help_text="Why, for programs: paused, busy, capped, exhausted, finished, canceled, "
        "failed (a suggest's answer).",
    )
    retry = serializers.BooleanField(
        required=False, help_text="Whether asking again later may succeed."
    )
