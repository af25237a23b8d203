"""Cookies travel over TLS only outside DEBUG; every HTMX post carries the CSRF token."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

from projects.models import Project
from sweeps.models import Sweep, SweepState
from tests.conftest import PASSWORD
from tests.sweep_pages.helpers import make_sweep


def test_it_marks_the_login_cookies_secure_outside_debug(user: Any) -> None:
    assert not settings.DEBUG
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
    assert response.cookies["csrftoken"]["secure"] is True


def token_in_body_headers(html: str) -> str:
    """The token _base.html puts in hx-headers on <body>, which HTMX sends with every request."""
    headers = re.search(r"<body hx-headers='([^']*)'", html)
    assert headers, "no hx-headers on <body>"
    return json.loads(headers.group(1))["X-CSRFToken"]


def test_it_refuses_an_htmx_post_without_the_token_and_takes_it_with(
    user: Any, project: Project
) -> None:
    sweep = make_sweep(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("sweeps:detail", args=[sweep.pk]))
    url = reverse("sweeps:start", args=[sweep.pk])

    refused = client.post(url, headers={"HX-Request": "true"})
    assert refused.status_code == 403
    sweep.refresh_from_db()
    assert sweep.state == SweepState.PENDING

    token = token_in_body_headers(page.content.decode())
    accepted = client.post(url, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 200
    sweep.refresh_from_db()
    assert sweep.state == SweepState.RUNNING


def test_it_puts_the_token_on_every_page_that_posts(user: Any, project: Project) -> None:
    """Pages whose buttons post through HTMX all extend _base.html and so carry the header."""
    sweep: Sweep = make_sweep(project)
    client = Client()
    client.force_login(user)
    for url in [
        reverse("sweeps:list"),
        reverse("sweeps:project_list", args=[project.slug]),
        reverse("sweeps:detail", args=[sweep.pk]),
        reverse("sweeps:new"),
        reverse("sweeps:delete", args=[sweep.pk]),
        reverse("projects:keys"),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert token_in_body_headers(page.content.decode()), url
