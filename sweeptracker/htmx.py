"""How every page answers htmx: one region mechanism for runs and sweeps alike.

A region is an element with an id that htmx swaps: a `{% partialdef <id> inline %}` in
its page, or a fragment of its own under templates/<app>/includes/. htmx names the
element it swaps in the HX-Target header, so a view asks `targets(request, "<id>")` and
answers with that region alone, or with the whole page for any other request: a plain
GET, an HX-Location after a create, a history restore, a swap of another element.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

# The same URL answers with a page or one of its regions: caches must keep them apart.
VARY = ["HX-Request", "HX-Target"]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def htmx_target(request: HtmxHttpRequest) -> str:
    """The id htmx swaps into, or "" when the answer must be a whole page."""
    # A history restore is an htmx request too, and it needs the whole page back.
    if not request.htmx or request.htmx.history_restore_request:
        return ""
    return request.htmx.target or ""


def targets(request: HtmxHttpRequest, region: str) -> bool:
    """Whether htmx asks for `region` (an element id) alone."""
    return htmx_target(request) == region


def render_region(
    request: HtmxHttpRequest, template: str, region: str, context: dict[str, Any]
) -> HttpResponse:
    """The page, or only its `{% partialdef region %}` when htmx targets that region.

    The template gets `partial`, so that a region can bring out-of-band companions
    (a tab bar, say) only when it travels alone.
    """
    partial = targets(request, region)
    context = context | {"partial": partial}
    response = render(request, f"{template}#{region}" if partial else template, context)
    patch_vary_headers(response, VARY)
    return response


def render_poll(
    request: HtmxHttpRequest, template: str, region: str, context: dict[str, Any], *, live: bool
) -> HttpResponse:
    """A live page's poll: the `region` partial with `oob` set, so that it brings the
    regions that changed along out of band.

    The last answer (`live` False) still carries the final data; its status 286 tells
    htmx to stop asking.
    """
    html = render_to_string(f"{template}#{region}", context | {"oob": True}, request)
    response = HttpResponse(html) if live else HttpResponseStopPolling(html)
    patch_vary_headers(response, VARY)
    return response
