"""Every URL answered as anonymous, non-member, viewer, editor and project admin.

The table below is docs/security.md's table. A URL pattern without a row fails
test_it_has_a_row_for_every_url, so a new endpoint cannot skip the role review.
Each request runs in a transaction rolled back afterwards, so an admin's DELETE
leaves the same objects for the next identity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from projects.access import create_project
from projects.models import ApiKey, Membership, Role
from runs.models import Run
from sweeps import state_machine
from tests.sweep_pages.helpers import make_sweep

IDENTITIES = ["anonymous", "outsider", "viewer", "editor", "admin"]

# Excluded, with why: admin/ has Django's own is_staff check (tested below);
# the OpenAPI schema and its docs page are public by design and hold no data.
EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_NAMES = {"schema", "api-docs"}

LOGIN = "login"  # a redirect to the login page
SWEEP_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"min": 0.001, "max": 0.1}},
}

NEW_SWEEP = {"name": "new", "config_text": json.dumps(SWEEP_CONFIG)}
PROJECT_PK = "<the project's pk>"


@dataclass(frozen=True)
class Row:
    """Expected statuses in IDENTITIES order for one method of one URL name."""

    method: str
    answers: tuple[int | str, ...]
    body: dict[str, Any] | None = None


def row(method: str, *answers: int | str, body: dict[str, Any] | None = None) -> Row:
    return Row(method, answers, body)


API_READ = (401, 404, 200, 200, 200)
API_EDIT_OK = (401, 404, 403, 200, 200)
PAGE_READ = (LOGIN, 404, 200, 200, 200)

TABLE: dict[str, list[Row]] = {
    # API: anonymous 401; non-members 404 (a project's existence is not told); viewers read.
    "api-root": [row("GET", 401, 200, 200, 200, 200)],
    "project-list": [
        row("GET", 401, 200, 200, 200, 200),
        row("POST", 401, 201, 201, 201, 201, body={"slug": "fresh"}),
    ],
    "project-detail": [
        row("GET", *API_READ),
        row("PUT", 401, 404, 403, 403, 200, body={"slug": "demo", "name": "Demo"}),
        row("PATCH", 401, 404, 403, 403, 200, body={"description": "new"}),
        row("DELETE", 401, 404, 403, 403, 204),
    ],
    "project-members": [
        row("GET", *API_READ),
        row("POST", 401, 404, 403, 403, 200, body={"username": "outsider", "role": "viewer"}),
    ],
    "run-list": [
        row("GET", 401, 200, 200, 200, 200),
        row("POST", 401, 404, 403, 201, 201, body={"project": "demo", "name": "new"}),
    ],
    "run-detail": [
        row("GET", *API_READ),
        row("PUT", *API_EDIT_OK, body={"name": "renamed"}),
        row("PATCH", *API_EDIT_OK, body={"notes": "new"}),
        row("DELETE", 401, 404, 403, 204, 204),
    ],
    "run-finish": [row("POST", *API_EDIT_OK, body={"exit_code": 0})],
    "run-heartbeat": [row("POST", *API_EDIT_OK)],
    "run-history": [row("GET", *API_READ)],
    "run-log": [row("POST", *API_EDIT_OK, body={"rows": [{"step": 0, "values": {"loss": 1.0}}]})],
    # Keys belong to a user, not a project: the key used here is the admin's.
    "apikey-list": [
        row("GET", 401, 200, 200, 200, 200),
        row("POST", 401, 201, 201, 201, 201, body={"name": "laptop"}),
    ],
    "apikey-detail": [row("DELETE", 401, 404, 404, 404, 204)],
    "sweep-list": [
        row("GET", 401, 200, 200, 200, 200),
        row("POST", 401, 404, 403, 201, 201, body={"project": "demo", "config": SWEEP_CONFIG}),
    ],
    "sweep-detail": [
        row("GET", *API_READ),
        row("PATCH", *API_EDIT_OK, body={"description": "new"}),
        row("PUT", *API_EDIT_OK, body={"name": "renamed", "description": "new", "run_cap": 9}),
        row("DELETE", 401, 404, 403, 204, 204),
    ],
    # The sweep is running: start and resume are past the role check but conflict.
    "sweep-start": [row("POST", 401, 404, 403, 409, 409)],
    "sweep-pause": [row("POST", *API_EDIT_OK)],
    "sweep-resume": [row("POST", 401, 404, 403, 409, 409)],
    "sweep-finish": [row("POST", *API_EDIT_OK)],
    "sweep-cancel": [row("POST", *API_EDIT_OK)],
    "sweep-suggest": [row("POST", 401, 404, 403, 201, 201)],
    "sweep-report": [row("POST", 401, 404, 403, 400, 400, body={})],
    "sweep-trials": [row("GET", *API_READ)],
    "sweep-stats": [row("GET", *API_READ)],
    "sweep-runs": [row("GET", *API_READ)],
    "sweep-parallel-coordinates": [row("GET", *API_READ)],
    # An agent names itself in a header; without one an editor's POST is a 400.
    "sweep-agents": [
        row("GET", *API_READ),
        row("POST", 401, 404, 403, 400, 400, body={"stopped": True}),
    ],
    # Log-in pages: open to all.
    # Django's LoginView takes PUT as POST (FormView); an empty form is shown again.
    "login": [
        row("GET", 200, 200, 200, 200, 200),
        row("POST", 200, 200, 200, 200, 200),
        row("PUT", 200, 200, 200, 200, 200),
    ],
    "logout": [row("POST", LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)],
    "rest_framework:login": [
        row("GET", 200, 200, 200, 200, 200),
        row("POST", 200, 200, 200, 200, 200),
        row("PUT", 200, 200, 200, 200, 200),
    ],
    "rest_framework:logout": [row("POST", LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)],
    # The favicon browsers ask for by themselves: public, like the static files.
    "favicon": [row("GET", 200, 200, 200, 200, 200)],
    # Pages: anonymous goes to the login page; non-members get 404, viewers read.
    "projects:list": [
        row("GET", LOGIN, 200, 200, 200, 200),
        row("POST", LOGIN, 200, 200, 200, 200, body={"slug": ""}),
    ],
    "projects:keys": [
        row("GET", LOGIN, 200, 200, 200, 200),
        row("POST", LOGIN, 200, 200, 200, 200, body={"name": "laptop"}),
    ],
    "projects:revoke_key": [row("POST", LOGIN, 404, 404, 404, 302)],
    "runs:project": [row("GET", *PAGE_READ)],
    "runs:detail": [row("GET", *PAGE_READ)],
    "sweeps:list": [row("GET", LOGIN, 200, 200, 200, 200)],
    "sweeps:new": [
        row("GET", LOGIN, 200, 200, 200, 200),
        # A non-member's choice is refused inline by the form (nothing written); a
        # viewer naming their own project is refused outright.
        row("POST", LOGIN, 200, 403, 302, 302, body={"project": PROJECT_PK, **NEW_SWEEP}),
    ],
    "sweeps:project_list": [row("GET", *PAGE_READ)],
    "sweeps:project_new": [
        row("GET", LOGIN, 404, 403, 200, 200),
        row("POST", LOGIN, 404, 403, 302, 302, body=NEW_SWEEP),
    ],
    "sweeps:detail": [row("GET", *PAGE_READ)],
    "sweeps:live": [row("GET", *PAGE_READ)],
    "sweeps:trials_csv": [row("GET", *PAGE_READ)],
    "sweeps:trial": [row("GET", *PAGE_READ)],
    "sweeps:delete": [
        row("GET", LOGIN, 404, 403, 200, 200),
        row("POST", LOGIN, 404, 403, 302, 302),
    ],
    "sweeps:start": [row("POST", LOGIN, 404, 403, 302, 302)],
    "sweeps:pause": [row("POST", LOGIN, 404, 403, 302, 302)],
    "sweeps:resume": [row("POST", LOGIN, 404, 403, 302, 302)],
    "sweeps:finish": [row("POST", LOGIN, 404, 403, 302, 302)],
    "sweeps:cancel": [row("POST", LOGIN, 404, 403, 302, 302)],
}


def url_patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    """(qualified name, pattern) for every pattern below `resolver`, recursively."""
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += url_patterns(pattern, inner)
        else:
            found.append((f"{namespace}{pattern.name}", pattern))
    return found


def base_pattern(name: str) -> URLPattern:
    """The pattern of a name; format-suffix variants (`runs.json`) share its view."""
    return next(
        p
        for n, p in reviewed_patterns()
        if n == name and "format" not in p.pattern.regex.groupindex
    )


def reviewed_patterns() -> list[tuple[str, URLPattern]]:
    return [
        (name, pattern)
        for name, pattern in url_patterns(get_resolver())
        if name.split(":")[0] not in EXCLUDED_NAMESPACES and name not in EXCLUDED_NAMES
    ]


def test_it_has_a_row_for_every_url() -> None:
    names = {name for name, _ in reviewed_patterns()}
    assert names == set(TABLE), (
        f"missing from TABLE: {sorted(names - set(TABLE))}; "
        f"gone from the URLs: {sorted(set(TABLE) - names)}"
    )


def test_it_lists_every_method_an_api_view_takes() -> None:
    """For viewsets the router knows the methods: the table must cover each of them."""
    for name, pattern in reviewed_patterns():
        actions = getattr(pattern.callback, "actions", None)
        if actions is None or "format" in pattern.pattern.regex.groupindex:
            continue
        allowed = set(pattern.callback.cls.http_method_names) - {"head", "options"}
        methods = {method.upper() for method in actions if method in allowed}
        assert methods == {r.method for r in TABLE[name]}, name


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Three members of different roles, one outsider, and a project with a run and a sweep."""
    users = {
        name: get_user_model().objects.create_user(name)
        for name in ["admin", "editor", "viewer", "outsider"]
    }
    project = create_project(users["admin"], "demo")
    Membership.objects.create(project=project, user=users["editor"], role=Role.EDITOR)
    Membership.objects.create(project=project, user=users["viewer"], role=Role.VIEWER)
    sweep = state_machine.transition(make_sweep(project), "start")
    keys = {name: ApiKey.issue(user) for name, user in users.items()}
    return {
        "users": users,
        "keys": {name: key for name, (_, key) in keys.items()},
        "kwargs": {
            "slug": project.slug,
            "run_id": Run.objects.create(project=project, name="r").pk,
            "sweep_id": sweep.pk,
            "key_id": keys["admin"][0].pk,
            # The trial page's number: the sweep's first trial, handed out as to an agent.
            "number": state_machine.suggest_trial(sweep.pk).number,
        },
        "project_pk": project.pk,
    }


def path_kwargs(pattern: URLPattern, name: str, world: dict[str, Any]) -> dict[str, Any]:
    known = world["kwargs"]
    wanted = set(pattern.pattern.regex.groupindex) - set(pattern.default_args)
    if "pk" in wanted:
        resource = name.split("-")[0]
        pk = {"run": "run_id", "sweep": "sweep_id", "apikey": "key_id"}[resource]
        return {"pk": known[pk]}
    return {key: known[key] for key in wanted}


class RolledBack(Exception):
    pass


def send(client: Client, method: str, url: str, body: dict[str, Any] | None, api: bool) -> Any:
    """The response to one request whose writes are all undone."""
    try:
        with transaction.atomic():
            if api:
                data = json.dumps(body or {})
                response = client.generic(method, url, data, content_type="application/json")
            elif method == "POST":
                response = client.post(url, body or {})  # a form, as browsers send it
            else:
                response = client.generic(method, url)
            raise RolledBack(response)
    except RolledBack as done:
        return done.args[0]


def client_as(identity: str, world: dict[str, Any]) -> Client:
    if identity == "anonymous":
        return Client()
    client = Client(headers={"Authorization": f"Bearer {world['keys'][identity]}"})
    client.force_login(world["users"][identity])
    return client


def answer_of(response: HttpResponse) -> int | str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("name", sorted(TABLE))
def test_it_answers_each_role_and_method_as_the_table_says(
    name: str, world: dict[str, Any]
) -> None:
    pattern = base_pattern(name)
    url = reverse(name, kwargs=path_kwargs(pattern, name, world))
    api = url.startswith("/api/")
    clients = {identity: client_as(identity, world) for identity in IDENTITIES}
    got = {}
    for expected in TABLE[name]:
        body = {
            k: world["project_pk"] if v == PROJECT_PK else v
            for k, v in (expected.body or {}).items()
        }
        answers = tuple(
            answer_of(send(clients[identity], expected.method, url, body, api))
            for identity in IDENTITIES
        )
        got[expected.method] = answers
    assert got == {r.method: r.answers for r in TABLE[name]}
    # Every other method is refused, so the table's methods are all the URL takes.
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - set(got)):
        response = send(clients["admin"], method, url, {}, api)
        assert response.status_code == 405, method


def test_it_sends_non_staff_from_the_admin_to_its_login(world: dict[str, Any]) -> None:
    response = client_as("admin", world).get(reverse("admin:projects_project_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_lists_nothing_of_other_projects_to_outsiders(world: dict[str, Any]) -> None:
    """The lists answer 200 to everyone signed in; what is in them is what must differ."""
    outsider, viewer = client_as("outsider", world), client_as("viewer", world)
    for url in ["/api/v1/projects/", "/api/v1/runs/", "/api/v1/sweeps/"]:
        assert outsider.get(url).json()["count"] == 0, url
        assert viewer.get(url).json()["count"] >= 1, url
    assert outsider.get("/api/v1/keys/").json()["count"] == 1  # only their own key
    sweep_id = world["kwargs"]["sweep_id"]
    for url in [reverse("sweeps:list"), reverse("projects:list")]:
        assert sweep_id not in outsider.get(url).content.decode(), url
        assert "demo" not in outsider.get(url).content.decode(), url
    assert sweep_id in viewer.get(reverse("sweeps:list")).content.decode()


def test_it_matches_the_table_in_the_docs() -> None:
    docs = (Path(settings.BASE_DIR) / "docs" / "security.md").read_text()
    documented = {
        (cells[1], cells[2]): tuple(cells[3:8])
        for line in docs.splitlines()
        if line.startswith("| `") and len(cells := [c.strip() for c in line.split("|")[1:-1]]) == 8
    }
    expected = {
        (name, r.method): tuple("→ login" if a == LOGIN else str(a) for a in r.answers)
        for name, rows in TABLE.items()
        for r in rows
    }
    assert documented == expected
