"""Random and mutated input to the API and pages: never a 5xx, always a message.

Each example starts from something valid and breaks one part of it, so most examples reach
deep into validation instead of stopping at the first missing field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from projects.models import Project
from runs.models import Run

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TRICKY_TEXT = st.sampled_from(
    [
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE runs_run; --",
        "ünïcödé 指標 🚀",
        "\x00",
        "a\x00b",
        "x" * 300,
        "%",
        "_",
        "\\",
        "../",
        "",
        " ",
    ]
)
TEXT = st.text(max_size=40) | TRICKY_TEXT
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)

CONFIGS = [
    {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
            "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
            "act": {"values": ["relu", "gelu"]},
            "drop": {"distribution": "q_normal", "mu": 0.3, "sigma": 0.1, "q": 0.05},
            "opt": {"parameters": {"name": {"value": "adam"}, "beta": {"min": 0.8, "max": 1.0}}},
        },
        "run_cap": 3,
    },
    {
        "method": "grid",
        "metric": {"name": "acc", "goal": "maximize", "target": 0.99},
        "parameters": {"a": {"values": [1, 2, 3]}, "b": {"min": 1, "max": 3}},
    },
    {
        "method": "bayes",
        "metric": {"name": "loss"},
        "parameters": {
            "x": {"min": -5.0, "max": 5.0},
            "n": {"distribution": "categorical", "values": [8, 16]},
        },
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3},
    },
]
BATCH = {
    "rows": [
        {"step": 0, "time": 1700000000.0, "values": {"loss": 0.5, "acc": 0.1}},
        {"step": 1, "time": 1700000001.0, "values": {"loss": "NaN", "acc": 0.2}},
    ],
    "summary": {"best": 0.5},
}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the document itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def mutated(draw: Any, document: Any) -> Any:
    """`document` with one place replaced, removed, or given an extra key."""
    document = json.loads(json.dumps(document))
    path = draw(st.sampled_from(paths(document)))
    how = draw(st.sampled_from(["replace", "remove", "add"]))
    if not path:
        return draw(JSON_VALUES)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "remove":
        del parent[last]
    elif how == "add" and isinstance(parent[last], dict):
        parent[last][draw(TEXT)] = draw(JSON_VALUES)
    else:
        parent[last] = draw(JSON_VALUES)
    return document


def post_json(api: APIClient, url: str, body: Any) -> Any:
    # json.dumps writes NaN and Infinity, which the server must take or refuse cleanly.
    return api.post(url, json.dumps(body), content_type="application/json")


def assert_answered(response: Any) -> None:
    """Not a server error, and a refusal says in words what was wrong."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400 and response.status_code != 405:
        text = json.dumps(response.json())
        assert any(ch.isalpha() for ch in text), text


@pytest.mark.parametrize("base", CONFIGS, ids=[c["method"] for c in CONFIGS])
def test_mutated_sweep_configs_are_refused_or_run(
    api: APIClient, project: Project, base: dict[str, Any]
) -> None:
    @FUZZ
    @given(config=mutated(base), as_yaml=st.booleans())
    def check(config: Any, as_yaml: bool) -> None:
        sent = json.dumps(config) if as_yaml else config
        response = post_json(api, "/api/v1/sweeps/", {"project": project.slug, "config": sent})
        assert_answered(response)
        if response.status_code != 201:
            return
        sweep = response.json()["id"]
        for _ in range(2):
            suggestion = api.post(f"/api/v1/sweeps/{sweep}/suggest/")
            assert_answered(suggestion)
            if suggestion.status_code == 201:
                trial = suggestion.json()["trial"]
                assert_answered(
                    post_json(api, f"/api/v1/sweeps/{sweep}/report/", {"trial": trial, "value": 1})
                )
        assert_answered(api.get(f"/api/v1/sweeps/{sweep}/stats/"))

    check()


def test_random_sweep_requests_are_refused_clearly(api: APIClient, project: Project) -> None:
    @FUZZ
    @given(body=JSON_VALUES)
    def check(body: Any) -> None:
        assert_answered(post_json(api, "/api/v1/sweeps/", body))

    check()


def test_mutated_metric_batches_are_stored_or_refused(
    api: APIClient, client: Client, run: Run
) -> None:
    client.force_login(run.project.owner)

    @FUZZ
    @given(batch=mutated(BATCH), key=TEXT)
    def check(batch: Any, key: str) -> None:
        if isinstance(batch, dict) and isinstance(batch.get("rows"), list) and batch["rows"]:
            row = batch["rows"][0]
            if isinstance(row, dict) and isinstance(row.get("values"), dict):
                row["values"][key] = 1.0
        response = post_json(api, f"/api/v1/runs/{run.pk}/log/", batch)
        assert_answered(response)
        if response.status_code == 200:
            history = api.get(f"/api/v1/runs/{run.pk}/history/", {"keys": key})
            assert_answered(history)
        page = client.get(f"/p/{run.project.slug}/runs/{run.pk}/")
        assert page.status_code == 200
        assert b"<img src=x" not in page.content

    check()


QUERY_NAMES = st.sampled_from(
    ["project", "state", "tag", "search", "method", "limit", "offset", "keys", "sort", "page"]
    + ["tab", "q", "order", "dir", "x", "metric"]
)
QUERIES = st.dictionaries(QUERY_NAMES | st.text(max_size=8), TEXT | st.integers().map(str))


def test_random_query_parameters_are_answered(
    api: APIClient, client: Client, run: Run, project: Project
) -> None:
    sweep = post_json(api, "/api/v1/sweeps/", {"project": project.slug, "config": CONFIGS[0]})
    sweep_id = sweep.json()["id"]
    api.post(f"/api/v1/sweeps/{sweep_id}/suggest/")
    post_json(api, f"/api/v1/runs/{run.pk}/log/", BATCH)
    client.force_login(project.owner)
    api_urls = [
        "/api/v1/projects/",
        "/api/v1/runs/",
        f"/api/v1/runs/{run.pk}/history/",
        "/api/v1/sweeps/",
        f"/api/v1/sweeps/{sweep_id}/trials/",
        "/api/v1/keys/",
    ]
    page_urls = [
        "/",
        f"/p/{project.slug}/",
        f"/p/{project.slug}/runs/{run.pk}/",
        "/sweeps/",
        f"/p/{project.slug}/sweeps/",
        f"/sweeps/{sweep_id}/",
        f"/sweeps/{sweep_id}/live/",
        f"/sweeps/{sweep_id}/trials.csv",
    ]

    @FUZZ
    @given(url=st.sampled_from(api_urls + page_urls), query=QUERIES, htmx=st.booleans())
    def check(url: str, query: dict[str, str], htmx: bool) -> None:
        headers = {"HX-Request": "true"} if htmx else {}
        if url.startswith("/api/"):
            assert_answered(api.get(url, query))
        else:
            response = client.get(url, query, headers=headers)
            assert response.status_code < 500
            assert response.status_code in {200, 400, 404}, response.status_code

    check()


# Hostile shapes (issue 15): extremes the strategies above rarely reach. -------------------

FLOAT_EXTREMES = st.sampled_from(
    [5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308]
    + [-0.0, 1e308, 1 - 2**-53]
) | st.floats(allow_subnormal=True, min_value=-1e-300, max_value=1e-300)
HUGE_INTS = st.sampled_from([2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**100]) | (
    st.integers(min_value=-(2**300), max_value=2**300)
)
LONG_TEXT = st.sampled_from(["x" * 65536, "ü" * 65537, "[{" * 40000, "a\\" * 1000])
HOSTILE_SCALARS = SCALARS | FLOAT_EXTREMES | HUGE_INTS | LONG_TEXT
HOSTILE_VALUES = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
DEPTH_LIMIT = 64  # settings.MAX_JSON_DEPTH's default


@st.composite
def nested_text(draw: Any) -> tuple[str, int]:
    """JSON text nested `depth` levels (lists and objects mixed), written as text since
    json.dumps itself recurses; and that depth."""
    depth = draw(st.integers(min_value=1, max_value=3000))
    kinds = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    leaf = json.dumps(draw(HOSTILE_SCALARS))
    opens = "".join('{"k":' if kind else "[" for kind in kinds)
    closes = "".join("}" if kind else "]" for kind in reversed(kinds))
    return opens + leaf + closes, depth


@st.composite
def yaml_with_aliases(draw: Any) -> str:
    """A sweep config in YAML whose parameters share nodes through anchors and aliases,
    after a chain of anchors that alias each other `width` times per level."""
    levels = draw(st.integers(min_value=0, max_value=6))
    width = draw(st.integers(min_value=1, max_value=12))
    chain = "".join(
        f"  c{level}: &c{level} {{values: [{', '.join([f'*c{level - 1}'] * width)}]}}\n"
        if level
        else "  c0: &c0 {values: [1, 2]}\n"
        for level in range(levels + 1)
    )
    shared = draw(st.sampled_from(["{min: 0.001, max: 0.1}", "{values: [a, b]}", "{value: 3}"]))
    uses = draw(st.integers(min_value=0, max_value=120))
    reuse = "".join(f"  p{index}: *shared\n" for index in range(uses))
    return (
        f"method: {draw(st.sampled_from(['random', 'bayes', 'grid']))}\n"
        "metric: {name: loss}\n"
        f"parameters:\n  base: &shared {shared}\n{reuse}{chain}"
    )


def test_nested_bodies_are_refused_past_the_limit(
    api: APIClient, project: Project, run: Run
) -> None:
    urls = ["/api/v1/projects/", "/api/v1/runs/", f"/api/v1/runs/{run.pk}/log/", "/api/v1/sweeps/"]
    urls += [f"/api/v1/runs/{run.pk}/", f"/api/v1/projects/{project.slug}/"]

    @FUZZ
    @given(shape=nested_text(), url=st.sampled_from(urls))
    def check(shape: tuple[str, int], url: str) -> None:
        text, depth = shape
        method = (
            api.post if url.endswith(("/projects/", "/runs/", "/log/", "/sweeps/")) else api.patch
        )
        response = method(url, text, content_type="application/json")
        assert_answered(response)
        if depth > DEPTH_LIMIT:
            assert response.status_code == 400
            assert "MAX_JSON_DEPTH" in response.json()["detail"]

    check()


def test_extreme_values_in_runs_are_stored_or_refused(
    api: APIClient, client: Client, project: Project, run: Run
) -> None:
    client.force_login(project.owner)

    @FUZZ
    @given(config=st.dictionaries(TEXT, HOSTILE_VALUES, max_size=4), value=HOSTILE_VALUES)
    def check(config: dict[str, Any], value: Any) -> None:
        body = {"project": project.slug, "config": config, "summary": {"s": value}}
        created = post_json(api, "/api/v1/runs/", body)
        assert_answered(created)
        logged = post_json(api, f"/api/v1/runs/{run.pk}/log/", {"summary": {"s": value}})
        assert_answered(logged)
        patched = api.patch(
            f"/api/v1/runs/{run.pk}/",
            json.dumps({"config": config}),
            content_type="application/json",
        )
        assert_answered(patched)
        for answer in (created, patched):
            if answer.status_code in (200, 201):
                pk = answer.json()["pk"]
                assert_answered(api.get(f"/api/v1/runs/{pk}/"))
                assert client.get(f"/p/{project.slug}/runs/{pk}/").status_code == 200
        assert client.get(f"/p/{project.slug}/").status_code == 200

    check()


def test_yaml_anchors_and_aliases_are_bounded(api: APIClient, project: Project) -> None:
    @FUZZ
    @given(text=yaml_with_aliases())
    def check(text: str) -> None:
        response = post_json(api, "/api/v1/sweeps/", {"project": project.slug, "config": text})
        assert_answered(response)
        if response.status_code != 201:
            return
        sweep = response.json()["id"]
        suggestion = api.post(f"/api/v1/sweeps/{sweep}/suggest/")
        assert_answered(suggestion)

    check()
