"""What the site answers outside the apps: the favicon, and the REST API's root."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET
from rest_framework import routers

API_NAME = "SweepTracker API"
API_SUMMARY = (
    "Projects, runs with their metrics, API keys, and sweeps: create one, ask it for "
    "parameters (suggest), report results, read its trials and statistics."
)
# Browsers ask for /favicon.ico on pages that name no icon (the admin, the API's JSON).
FAVICON_MAX_AGE = 7 * 24 * 3600


@cache
def favicon_bytes() -> bytes:
    return (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """static/favicon.ico at the address browsers ask for by themselves."""
    response = HttpResponse(favicon_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response


class ApiRoot(routers.APIRootView):
    """The API's entry point: a link to each resource, and how to call them."""

    def get_view_name(self) -> str:
        return API_NAME

    def get_view_description(self, html: bool = False) -> str:
        keys, schema, docs = reverse("projects:keys"), reverse("schema"), reverse("api-docs")
        if not html:
            return (
                f"{API_SUMMARY} Send Authorization: Bearer KEY (make a key at {keys}); "
                f"the OpenAPI schema is at {schema} and its docs at {docs}."
            )
        return SafeString(
            format_html(
                "<p>{}</p><p>Send <code>Authorization: Bearer KEY</code> with a key made on "
                '<a href="{}">API keys</a>; here in the browser your login is used. Every '
                "error is JSON with <code>detail</code> and <code>code</code>.</p>"
                '<p>The OpenAPI schema: <a href="{}">{}</a>; its docs: <a href="{}">{}</a>.</p>',
                API_SUMMARY,
                keys,
                schema,
                schema,
                docs,
                docs,
            )
        )


class SweepTrackerRouter(routers.DefaultRouter):
    """DRF's DefaultRouter with our root: the API's name and description."""

    APIRootView = ApiRoot
