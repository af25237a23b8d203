"""GET /api/v1/runs/{id}/history/: min_step, max_step, samples, and ints given back as ints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from runs.history import spread
from runs.models import Run


def log(api: APIClient, run: Run, rows: list[dict[str, Any]]) -> Any:
    response = api.post(f"/api/v1/runs/{run.pk}/log/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.json()
    return response


def history(api: APIClient, run: Run, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/runs/{run.pk}/history/", params)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def steps_of(points: list[dict[str, Any]]) -> list[int]:
    return sorted({p["step"] for p in points})


def test_it_gives_ints_back_as_ints(api: APIClient, run: Run) -> None:
    rows = [{"step": s, "values": {"epoch": s // 2, "loss": 1.5, "ok": s > 0}} for s in range(3)]
    rows.append({"step": 3, "values": {"loss": 2, "epoch": 1}})
    log(api, run, rows)

    raw = api.get(f"/api/v1/runs/{run.pk}/history/").content.decode()
    points = json.loads(raw)["results"]

    epochs = [p["value"] for p in points if p["key"] == "epoch"]
    assert epochs == [0, 0, 1, 1] and all(type(v) is int for v in epochs)
    assert '"key":"epoch","step":2,"value":1,' in raw.replace(" ", "")
    assert [p["value"] for p in points if p["key"] == "ok"] == [0, 1, 1]
    # A key logged as float and as int gives each value as it was: 1.5 stays, 2 is whole.
    assert [p["value"] for p in points if p["key"] == "loss"] == [1.5, 1.5, 1.5, 2]
    run.refresh_from_db()
    assert run.int_keys == ["epoch", "loss", "ok"]


def test_it_keeps_floats_floats(api: APIClient, run: Run) -> None:
    log(api, run, [{"step": 0, "values": {"loss": 2.0, "nan": "NaN"}}])

    raw = api.get(f"/api/v1/runs/{run.pk}/history/").content.decode().replace(" ", "")

    assert '"value":2.0' in raw and '"value":"NaN"' in raw
    run.refresh_from_db()
    assert run.int_keys == []


def test_it_writes_the_run_row_only_when_a_batch_brings_news(
    api: APIClient, run: Run, django_assert_max_num_queries: Any
) -> None:
    log(api, run, [{"step": 0, "values": {"epoch": 0, "loss": 1.0}}])

    # Key, run, savepoint, insert, heartbeat, release, the sweeps listener's trial (and on
    # PostgreSQL the COPY's probe and savepoint): no locked read and write of the run's row,
    # since nothing new was learnt.
    with django_assert_max_num_queries(9) as queries:
        log(api, run, [{"step": s, "values": {"epoch": s, "loss": 1.0}} for s in range(1, 50)])

    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1 and "heartbeat_at" in writes[0] and "int_keys" not in writes[0]
    assert not any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


def test_it_bounds_steps_like_scan_history(api: APIClient, run: Run) -> None:
    log(api, run, [{"step": s, "values": {"a": 1.0, "b": 2.0}} for s in range(10)])

    assert steps_of(history(api, run, min_step=3, max_step=6)) == [3, 4, 5]
    assert steps_of(history(api, run, min_step=8)) == [8, 9]
    assert steps_of(history(api, run, max_step=1)) == [0]
    assert history(api, run, min_step=5, max_step=5) == []
    assert {p["key"] for p in history(api, run, keys="b", min_step=9)} == {"b"}


@pytest.mark.parametrize("gaps", [False, True])
def test_it_samples_evenly_with_the_first_and_last_step(
    api: APIClient, run: Run, gaps: bool
) -> None:
    steps = [s * 3 if gaps else s for s in range(101)]
    log(api, run, [{"step": s, "values": {"loss": 1.0 / (s + 1)}} for s in steps])

    sampled = steps_of(history(api, run, samples=11))

    assert len(sampled) == 11
    assert (sampled[0], sampled[-1]) == (steps[0], steps[-1])
    gaps_between = {b - a for a, b in zip(sampled, sampled[1:], strict=False)}
    assert gaps_between == {30 if gaps else 10}
    assert steps_of(history(api, run, samples=500)) == steps
    assert steps_of(history(api, run, samples=3, min_step=steps[10])) == [
        steps[10],
        steps[55],
        steps[100],
    ]


def test_it_spreads_samples_over_any_steps() -> None:
    assert spread(range(0, 5), 2) == [0, 4]
    assert spread([1, 5, 6, 20], 3) == [1, 6, 20]
    assert spread(range(10), 1) == [9]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"samples": 0}, "samples"),
        ({"samples": "many"}, "samples"),
        ({"samples": 10_001}, "samples"),
        ({"min_step": -1}, "min_step"),
        ({"max_step": 2**63}, "max_step"),
        ({"max_step": "x"}, "max_step"),
    ],
)
def test_it_names_a_bad_parameter(
    api: APIClient, run: Run, params: dict[str, Any], field: str
) -> None:
    response = api.get(f"/api/v1/runs/{run.pk}/history/", params)

    assert response.status_code == 400
    assert field in response.json()
