"""Shapes a hostile client sends that random generators rarely make: thousands of nested
brackets, YAML loops and alias bombs, too many parameters, very long strings. Each must get
a 400 or 413 in the one error shape (docs/api-errors.md) naming the limit, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from projects.models import Project
from runs.models import Run
from sweeps.models import Sweep

DEEP = 5000
DEEP_LIST = "[" * DEEP + "]" * DEEP
DEEP_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP
GOOD_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"min": 0.001, "max": 0.1}},
}
# Nine levels of ten aliases each: a billion values once expanded, 900 bytes as text.
LAUGHS = "a0: &a0 [lol]\n" + "".join(
    f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 10)
)
BILLION_LAUGHS = "method: random\nparameters:\n  x:\n    values: [1, 2]\n" + LAUGHS


def nested_value(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def assert_refused(response: Any, word: str, status: int = 400, path: str | None = None) -> Any:
    """The error shape of docs/api-errors.md, naming `word` (the limit)."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert isinstance(body["detail"], str) and isinstance(body["code"], str)
    if status != 400:
        assert word in body["detail"], body["detail"]
    if status == 400:
        assert body["errors"] and all({"path", "message"} <= set(e) for e in body["errors"])
        # A config's detail counts its problems; each problem's message names the limit.
        said = [body["detail"], *(e["message"] for e in body["errors"])]
        assert any(word in text for text in said), said
        if path is not None:
            assert path in [e["path"] for e in body["errors"]], body["errors"]
    return body


@pytest.fixture
def sweep(api: APIClient, project: Project) -> Sweep:
    response = api.post(
        "/api/v1/sweeps/", {"project": project.slug, "config": GOOD_CONFIG}, format="json"
    )
    assert response.status_code == 201, response.content
    return Sweep.objects.get(pk=response.json()["id"])


def endpoints(project: Project, run: Run, sweep: Sweep) -> list[tuple[str, str]]:
    """Every JSON endpoint that reads a body, with the method that writes it."""
    return [
        ("post", "/api/v1/projects/"),
        ("patch", f"/api/v1/projects/{project.slug}/"),
        ("put", f"/api/v1/projects/{project.slug}/"),
        ("post", f"/api/v1/projects/{project.slug}/members/"),
        ("post", "/api/v1/keys/"),
        ("post", "/api/v1/runs/"),
        ("patch", f"/api/v1/runs/{run.pk}/"),
        ("put", f"/api/v1/runs/{run.pk}/"),
        ("post", f"/api/v1/runs/{run.pk}/log/"),
        ("post", f"/api/v1/runs/{run.pk}/finish/"),
        ("post", "/api/v1/sweeps/"),
        ("patch", f"/api/v1/sweeps/{sweep.pk}/"),
        ("put", f"/api/v1/sweeps/{sweep.pk}/"),
        ("post", f"/api/v1/sweeps/{sweep.pk}/report/"),
    ]


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT], ids=["list", "object"])
def test_it_refuses_deep_json_at_every_endpoint(
    api: APIClient, project: Project, run: Run, sweep: Sweep, body: str
) -> None:
    for method, url in endpoints(project, run, sweep):
        response = getattr(api, method)(url, body, content_type="application/json")
        refused = assert_refused(response, "MAX_JSON_DEPTH", path="")
        assert refused["code"] == "parse_error", (method, url)
    run.refresh_from_db()
    assert run.config == {"lr": 0.1}


@pytest.mark.parametrize("field", ["config", "summary"])
def test_it_refuses_deep_json_inside_a_field(
    api: APIClient, project: Project, run: Run, field: str
) -> None:
    body = json.dumps({"project": project.slug, field: {"x": nested_value(100)}})
    response = api.post("/api/v1/runs/", body, content_type="application/json")
    assert_refused(response, "MAX_JSON_DEPTH", path="")
    # The same nesting as JSON text in a form field, which DRF's JSONField parses itself.
    response = api.post("/api/v1/runs/", {"project": project.slug, field: DEEP_OBJECT})
    assert_refused(response, "MAX_JSON_DEPTH", path=field)
    response = api.patch(f"/api/v1/runs/{run.pk}/", {field: DEEP_LIST})
    assert_refused(response, "MAX_JSON_DEPTH", path=field)
    assert Run.objects.filter(project=project).count() == 1


def test_it_refuses_deep_json_in_a_log_summary(api: APIClient, run: Run) -> None:
    batch = json.dumps({"rows": [], "summary": {"x": nested_value(70)}})
    response = api.post(f"/api/v1/runs/{run.pk}/log/", batch, content_type="application/json")
    assert_refused(response, "MAX_JSON_DEPTH", path="")
    run.refresh_from_db()
    assert run.summary == {}


def test_it_refuses_deep_json_in_a_filters_query(api: APIClient, run: Run) -> None:
    response = api.get("/api/v1/runs/", {"filters": '{"config.lr":' * DEEP + "1" + "}" * DEEP})
    assert_refused(response, "MAX_JSON_DEPTH", path="filters")


def test_it_reads_the_depth_limit_from_settings(
    api: APIClient, project: Project, settings: Any
) -> None:
    settings.MAX_JSON_DEPTH = 3
    shallow = {"project": project.slug, "config": {"a": {"b": 1}}}
    assert api.post("/api/v1/runs/", shallow, format="json").status_code == 201
    deep = {"project": project.slug, "config": {"a": {"b": {"c": 1}}}}
    assert_refused(api.post("/api/v1/runs/", deep, format="json"), "MAX_JSON_DEPTH (3 levels")


def test_brackets_inside_strings_do_not_count(api: APIClient, project: Project) -> None:
    text = "[{" * DEEP + '\\"'
    body = {"project": project.slug, "config": {"text": text}}
    response = api.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert Run.objects.get(pk=response.json()["pk"]).config == {"text": text}


def create_sweep(api: APIClient, project: Project, config: Any) -> Any:
    return api.post("/api/v1/sweeps/", {"project": project.slug, "config": config}, format="json")


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("method: random\nparameters: &p\n  x: *p\n", "refers to a node that holds it"),
        ("a: &a [*a]\nmethod: random\n", "refers to a node that holds it"),
        ("method: random\nparameters: " + "[" * DEEP + "]" * DEEP, "MAX_YAML_DEPTH (64"),
        ("parameters:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), "MAX_YAML_DEPTH"),
        (BILLION_LAUGHS, "MAX_YAML_ALIASES (100)"),
        ('{"parameters": ' + DEEP_LIST + "}", "MAX_JSON_DEPTH"),
    ],
    ids=["self-alias", "self-alias-flow", "deep-flow", "deep-block", "billion-laughs", "json"],
)
def test_it_bounds_yaml_config_texts(
    api: APIClient, client: Client, project: Project, text: str, word: str
) -> None:
    body = assert_refused(create_sweep(api, project, text), word, path="")
    assert body["code"] == "invalid_config"
    # The new-sweep page names the same limit beside the config.
    client.force_login(project.owner)
    url = f"/p/{project.slug}/sweeps/new/"
    page = client.post(url, {"config_text": text, "name": "", "description": ""})
    assert page.status_code == 200
    assert word in page.content.decode()
    assert not Sweep.objects.exists()


def test_it_keeps_anchors_and_aliases_within_the_limits(api: APIClient, project: Project) -> None:
    text = (
        "method: random\nmetric: {name: loss}\n"
        "parameters:\n  lr: &range {min: 0.001, max: 0.1}\n  wd: *range\n"
        "  act: {values: &acts [relu, gelu]}\n  act2: {values: *acts}\n"
    )
    response = create_sweep(api, project, text)
    assert response.status_code == 201, response.content
    sweep = Sweep.objects.get(pk=response.json()["id"])
    suggestion = api.post(f"/api/v1/sweeps/{sweep.pk}/suggest/")
    assert suggestion.status_code == 201
    params = suggestion.json()["params"]
    assert 0.001 <= params["wd"] <= 0.1 and params["act2"] in ("relu", "gelu")


def test_it_counts_aliases_that_aliases_repeat(
    api: APIClient, project: Project, settings: Any
) -> None:
    settings.MAX_YAML_ALIASES = 10
    # 3 aliases to a node holding 3 aliases: 15 once expanded, though 6 are written.
    text = "a: &a [1]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\nmethod: random\n"
    assert_refused(create_sweep(api, project, text), "MAX_YAML_ALIASES (10)")


def test_it_refuses_too_many_parameters(api: APIClient, client: Client, project: Project) -> None:
    parameters = {f"p{i}": {"values": [1, 2]} for i in range(1001)}
    config = {**GOOD_CONFIG, "parameters": parameters}
    body = assert_refused(
        create_sweep(api, project, config), "MAX_SWEEP_PARAMETERS (1000)", path="parameters"
    )
    assert body["code"] == "invalid_config"
    # Nested parameters count too, and the page says the same.
    nested = {"group": {"parameters": {f"q{i}": {"value": i} for i in range(1001)}}}
    text = json.dumps({**GOOD_CONFIG, "parameters": nested})
    client.force_login(project.owner)
    page = client.post(f"/p/{project.slug}/sweeps/new/", {"config_text": text, "name": ""})
    assert page.status_code == 200
    assert "MAX_SWEEP_PARAMETERS (1000)" in page.content.decode()
    assert not Sweep.objects.exists()


def test_it_refuses_long_strings_in_config_and_summary(api: APIClient, run: Run) -> None:
    long = "x" * 65537
    url = f"/api/v1/runs/{run.pk}/"
    assert_refused(api.patch(url, {"config": {"note": long}}, format="json"), "MAX_STRING_LENGTH")
    assert_refused(
        api.patch(url, {"summary": {"a": [1, long]}}, format="json"),
        "MAX_STRING_LENGTH (65536",
        path="summary",
    )
    assert_refused(api.patch(url, {"config": {long: 1}}, format="json"), "MAX_STRING_LENGTH")
    batch = {"rows": [], "summary": {"note": long}}
    response = api.post(f"/api/v1/runs/{run.pk}/log/", batch, format="json")
    assert_refused(response, "MAX_STRING_LENGTH", path="summary.note")
    run.refresh_from_db()
    assert run.config == {"lr": 0.1} and run.summary == {}
    # At the limit it is stored.
    ok = api.patch(url, {"config": {"note": long[:-1]}}, format="json")
    assert ok.status_code == 200
    run.refresh_from_db()
    assert len(run.config["note"]) == 65536


def test_it_refuses_long_names_tags_and_metric_keys(api: APIClient, run: Run) -> None:
    url = f"/api/v1/runs/{run.pk}/"
    assert_refused(api.patch(url, {"name": "n" * 201}, format="json"), "200", path="name")
    assert_refused(api.patch(url, {"tags": ["t" * 101]}, format="json"), "100")
    batch = {"rows": [{"step": 0, "values": {"m" * 256: 1.0}}]}
    response = api.post(f"/api/v1/runs/{run.pk}/log/", batch, format="json")
    assert_refused(response, "255")


def test_it_answers_413_past_the_body_limit(api: APIClient, project: Project) -> None:
    body = json.dumps({"project": project.slug, "config": {"x": "y" * (5 * 1024 * 1024)}})
    response = api.post("/api/v1/runs/", body, content_type="application/json")
    refused = assert_refused(response, "limit", status=413)
    assert refused["code"] == "too_large"


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("state", "finished", "/finish/"),
        ("exit_code", 3, "/finish/"),
        ("heartbeat_at", "2026-01-01T00:00:00Z", "/heartbeat/"),
        ("created_at", "2026-01-01T00:00:00Z", "Read-only"),
        ("bogus", 1, "Unknown field"),
    ],
)
def test_it_refuses_writes_to_read_only_run_fields(
    api: APIClient, run: Run, field: str, value: Any, word: str
) -> None:
    url = f"/api/v1/runs/{run.pk}/"
    for method in (api.patch, api.put):
        response = method(url, {field: value, "name": "renamed"}, format="json")
        body = assert_refused(response, word, path=field)
        assert body["code"] == "invalid"
    run.refresh_from_db()
    assert run.state == "running" and run.name == "first-run"


def test_it_accepts_a_run_body_sent_back_unchanged(api: APIClient, run: Run) -> None:
    url = f"/api/v1/runs/{run.pk}/"
    current = api.get(url).json()
    response = api.put(url, {**current, "name": "renamed"}, format="json")
    assert response.status_code == 200, response.content
    run.refresh_from_db()
    assert run.name == "renamed" and run.state == "running"
