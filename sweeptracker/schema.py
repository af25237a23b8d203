"""The OpenAPI schema's error answers: every operation documents the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse

from sweeptracker.errors import ConflictErrorSerializer, ErrorSerializer, ValidationErrorSerializer

# What any operation may answer: a bad request (also a NUL in the URL, a body that is not
# JSON), no or a bad key, too low a role, nothing there, too many bad keys, the database away.
ERRORS = {
    "400": OpenApiResponse(ValidationErrorSerializer, description="What was wrong, by path."),
    "401": OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    "403": OpenApiResponse(ErrorSerializer, description="Your role does not allow it."),
    "404": OpenApiResponse(ErrorSerializer, description="Nothing there that you may see."),
    "429": OpenApiResponse(ErrorSerializer, description="Too many bad API keys; wait."),
    "503": OpenApiResponse(ErrorSerializer, description="The database is away; retry."),
}
# A 409 is documented where a view can answer it, with `responses={409: CONFLICT}`.
CONFLICT = OpenApiResponse(
    ConflictErrorSerializer, description="The object's state does not allow it now."
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the error answers every operation can give."""

    # `_get_response_bodies` is where drf-spectacular turns the responses (a serializer or
    # extend_schema's dict) into status codes; adding ours after it keeps its defaults
    # (201 on create, 204 on delete) and lets a view document its own 400 or 409.
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response in ERRORS.items():
            if code not in responses:
                # drf-spectacular ships no annotations for it.
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return responses
