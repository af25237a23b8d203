from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from projects import throttling
from projects.models import ApiKey


def refusal(key: str, api_key: ApiKey | None) -> str:
    if not key:
        return "No key after Bearer in Authorization."
    if api_key is None:
        return "The API key is not valid or was revoked."
    return "The API key's user is inactive."


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer KEY` with a key made by `create_api_key` or the keys page.

    Keys are stored as SHA-256 hashes and compared in constant time (ApiKey.find).
    A client that sends too many bad keys is refused with 429 for the rest of the
    window, good keys included, as GitHub does: otherwise a guesser could keep
    guessing and would learn of a hit by the answer changing.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        client = throttling.client_of(request)
        wait = throttling.blocked_for(client)
        if wait:
            raise exceptions.Throttled(
                wait, f"Too many bad API keys from your address; try again in {wait} s."
            )
        key = key.strip()
        api_key = ApiKey.find(key) if key else None
        if api_key is None or not api_key.user.is_active:
            throttling.record_failure(client)
            raise exceptions.AuthenticationFailed(refusal(key, api_key))
        api_key.touch()
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


# drf-spectacular's extension base is untyped; registering a subclass is all this does.
class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Tells the OpenAPI schema how API keys are sent."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API key: st_…"}
