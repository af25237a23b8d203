from __future__ import annotations

import json
import math

from rest_framework.test import APIClient

from runs.models import MetricPoint, Run


def _log(api: APIClient, run: Run, body: object) -> object:
    return api.post(f"/api/v1/runs/{run.pk}/log/", body, format="json")


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"step": s, "time": 1.0 + s, "values": {"loss": 1 / (s + 1)}} for s in range(start, n)]


def test_it_stores_a_batch_sent_twice_once(api: APIClient, run: Run) -> None:
    batch = {"rows": _rows(100)}
    assert _log(api, run, batch).json()["stored"] == 100
    assert _log(api, run, batch).json()["stored"] == 0
    assert _log(api, run, {"rows": _rows(150, start=50)}).json()["stored"] == 50
    assert MetricPoint.objects.filter(run=run).count() == 150


def test_it_keeps_non_finite_values(api: APIClient, run: Run) -> None:
    values = {"nan": "NaN", "up": "Infinity", "down": "-Infinity", "ok": 2}
    response = _log(api, run, {"rows": [{"step": 0, "time": 1.0, "values": values}]})
    assert response.status_code == 200
    stored = {p.key: p.value for p in run.points.all()}
    assert stored["nan"] is None  # NaN is stored as NULL
    assert stored["up"] == math.inf and stored["down"] == -math.inf and stored["ok"] == 2
    history = api.get(f"/api/v1/runs/{run.pk}/history/").json()["results"]
    assert {p["key"]: p["value"] for p in history} == values | {"ok": 2.0}


def test_it_accepts_nan_literals_as_python_writes_them(api: APIClient, run: Run) -> None:
    body = json.dumps({"rows": [{"step": 0, "time": 1.0, "values": {"x": math.nan}}]})
    assert "NaN" in body
    response = api.post(f"/api/v1/runs/{run.pk}/log/", body, content_type="application/json")
    assert response.status_code == 200
    assert run.points.get().value is None


def test_it_merges_summary_updates(api: APIClient, run: Run) -> None:
    _log(api, run, {"summary": {"loss": 0.5, "best": "Infinity"}})
    _log(api, run, {"summary": {"loss": 0.25}})
    run.refresh_from_db()
    assert run.summary == {"loss": 0.25, "best": "Infinity"}


def test_it_names_the_key_of_a_string_value_and_stores_nothing(api: APIClient, run: Run) -> None:
    rows = _rows(3) + [{"step": 3, "time": 4.0, "values": {"loss": 0.1, "acc": "high"}}]
    response = _log(api, run, {"rows": rows, "summary": {"acc": 1}})
    assert response.status_code == 400
    assert "acc" in json.dumps(response.json())
    assert not run.points.exists()
    run.refresh_from_db()
    assert run.summary == {}


def test_it_names_a_missing_step(api: APIClient, run: Run) -> None:
    response = _log(api, run, {"rows": [{"time": 1.0, "values": {"loss": 1}}]})
    assert response.status_code == 400
    assert "rows[0].step" in response.json()


def test_it_refuses_unknown_fields_and_non_objects(api: APIClient, run: Run) -> None:
    assert "points" in _log(api, run, {"points": []}).json()
    assert _log(api, run, [1, 2]).status_code == 400
    assert _log(api, run, {"rows": "nope"}).status_code == 400


def test_it_refuses_a_10_mb_body_and_stores_nothing(api: APIClient, run: Run) -> None:
    rows = [{"step": s, "time": 1.0, "values": {"loss": 0.5, "pad": 1}} for s in range(200_000)]
    body = json.dumps({"rows": rows})
    assert len(body) > 10_000_000
    response = api.post(f"/api/v1/runs/{run.pk}/log/", body, content_type="application/json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not run.points.exists()


def test_it_returns_history_in_step_order_and_pages(api: APIClient, run: Run) -> None:
    _log(api, run, {"rows": list(reversed(_rows(30)))})
    page = api.get(f"/api/v1/runs/{run.pk}/history/?keys=loss&limit=20").json()
    assert page["count"] == 30
    assert [p["step"] for p in page["results"]] == list(range(20))
    rest = api.get(page["next"]).json()["results"]
    assert [p["step"] for p in rest] == list(range(20, 30))


def test_it_tells_a_stopped_run_to_stop(api: APIClient, run: Run) -> None:
    run.mark_final("killed")
    response = _log(api, run, {"rows": _rows(1)})
    assert response.json()["should_stop"] is True
    assert run.points.count() == 1
