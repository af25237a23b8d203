"""The specification's REST endpoints under /api/v1/sweeps/: each answer, and each 400."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from runs.models import Run
from sweeps import charts, plot_data
from sweeps.config import SweepConfig
from sweeps.models import Sweep, SweepState, Trial
from tests.sweeps.conftest import GRID, RANDOM, report, suggest


def run_trials(api: APIClient, sweep: Sweep, count: int) -> list[dict[str, Any]]:
    """`count` trials suggested and reported, the value from lr (smaller is better)."""
    done = []
    for _ in range(count):
        body = suggest(api, sweep).json()
        flat = body["params"]
        value = math.log10(flat["lr"]) + (0.5 if flat["optimizer"]["name"] == "sgd" else 0.0)
        assert report(api, sweep, body["trial"], value).status_code == 200
        done.append(body | {"value": value})
    return done


@pytest.mark.parametrize(
    ("query", "valid"),
    [("state=runing", "pending, running, paused"), ("method=bayesian", "grid, random, bayes")],
)
def test_it_refuses_an_unknown_list_filter_naming_the_valid_ones(
    api: APIClient, make_sweep: Callable[..., Sweep], query: str, valid: str
) -> None:
    make_sweep()

    response = api.get(f"/api/v1/sweeps/?{query}")

    assert response.status_code == 400
    field, value = query.split("=")
    message = response.json()[field]
    assert f"Unknown {field} {value!r}" in message and valid in message


def test_it_still_filters_with_known_values(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    make_sweep(GRID, name="g")
    make_sweep(RANDOM, name="r")

    names = [s["name"] for s in api.get("/api/v1/sweeps/?method=grid").json()["results"]]
    pending = api.get("/api/v1/sweeps/?state=pending").json()["count"]

    assert names == ["g"]
    assert pending == 2


def test_it_refuses_an_unknown_trial_state_filter(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()

    for endpoint in ("trials", "runs"):
        response = api.get(f"/api/v1/sweeps/{sweep.pk}/{endpoint}/?state=done")
        assert response.status_code == 400
        assert "running, complete, pruned, failed" in response.json()["state"]


def test_it_gives_one_sweep_with_its_statistics_without_computing_importance(
    api: APIClient, make_sweep: Callable[..., Sweep], django_assert_max_num_queries: Any
) -> None:
    sweep = make_sweep(seed=3)
    told = run_trials(api, sweep, 12)
    suggest(api, sweep)  # one running

    with django_assert_max_num_queries(6):
        before = api.get(f"/api/v1/sweeps/{sweep.pk}/").json()
    api.get(f"/api/v1/sweeps/{sweep.pk}/stats/")  # computes importance for this version
    after = api.get(f"/api/v1/sweeps/{sweep.pk}/").json()

    best = min(told, key=lambda t: t["value"])
    stats = before["stats"]
    assert stats["counts"] == {"running": 1, "complete": 12, "pruned": 0, "failed": 0}
    assert stats["total"] == 13
    assert stats["best_value"] == pytest.approx(best["value"])
    assert stats["best"]["number"] == best["trial"]
    assert stats["best_params"]["lr"] == best["params"]["lr"]
    assert stats["importance"] is None  # a plain GET computes none
    importance = after["stats"]["importance"]
    assert importance["stale"] is False and importance["trials"] == 12
    assert importance["fanova"]["method"] == "fANOVA"


def test_it_puts_and_patches_name_description_and_run_cap(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep(name="old")
    url = f"/api/v1/sweeps/{sweep.pk}/"

    put = api.put(url, {"name": "new", "description": "d", "run_cap": 7}, format="json")
    patch = api.patch(url, {"description": "only this"}, format="json")

    assert put.status_code == 200 and put.json()["run_cap"] == 7
    assert patch.status_code == 200
    sweep.refresh_from_db()
    assert (sweep.name, sweep.description, sweep.run_cap) == ("new", "only this", 7)


def test_it_accepts_a_get_body_back_unchanged(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep(name="round-trip")
    body = api.get(f"/api/v1/sweeps/{sweep.pk}/").json()
    body.pop("stats")

    response = api.put(f"/api/v1/sweeps/{sweep.pk}/", body | {"name": "renamed"}, format="json")

    assert response.status_code == 200, response.json()
    assert Sweep.objects.get(pk=sweep.pk).name == "renamed"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_it_refuses_a_write_to_the_state_naming_the_lifecycle_actions(
    api: APIClient, make_sweep: Callable[..., Sweep], method: str
) -> None:
    sweep = make_sweep(name="kept")

    response = getattr(api, method)(
        f"/api/v1/sweeps/{sweep.pk}/", {"name": "x", "state": "finished"}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["state"]
    for action in ("start", "pause", "resume", "finish", "cancel"):
        assert action in message
    assert f"/api/v1/sweeps/{sweep.pk}/<action>/" in message
    sweep.refresh_from_db()
    assert (sweep.state, sweep.name) == (SweepState.PENDING, "kept")


def test_it_refuses_other_read_only_and_unknown_fields_and_bad_values(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    url = f"/api/v1/sweeps/{sweep.pk}/"

    read_only = api.patch(url, {"method": "grid", "colour": "red"}, format="json")
    bad_cap = api.patch(url, {"run_cap": 0}, format="json")
    no_name = api.put(url, {"description": "x"}, format="json")
    not_an_object = api.patch(url, [1, 2], format="json")

    assert read_only.status_code == 400
    assert "Read-only" in read_only.json()["method"]
    assert "Unknown field" in read_only.json()["colour"]
    assert bad_cap.status_code == 400 and "run_cap" in bad_cap.json()
    assert no_name.status_code == 400 and "name" in no_name.json()
    assert not_an_object.status_code == 400
    assert Sweep.objects.get(pk=sweep.pk).method == "random"


def test_a_lower_run_cap_finishes_a_sweep_with_nothing_running(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    run_trials(api, sweep, 3)

    response = api.patch(f"/api/v1/sweeps/{sweep.pk}/", {"run_cap": 3}, format="json")

    assert response.json()["state"] == "finished"
    assert suggest(api, sweep).json()["reason"] == "finished"


def test_viewers_may_read_but_not_write(
    other_api: APIClient, make_sweep: Callable[..., Sweep], other_user: Any, member: Any
) -> None:
    sweep = make_sweep()
    member(other_user, "viewer")

    for endpoint in ("", "stats/", "runs/", "trials/", "parallel-coordinates/"):
        assert other_api.get(f"/api/v1/sweeps/{sweep.pk}/{endpoint}").status_code == 200
    assert other_api.patch(f"/api/v1/sweeps/{sweep.pk}/", {"name": "x"}).status_code == 403
    assert other_api.delete(f"/api/v1/sweeps/{sweep.pk}/").status_code == 403


def test_it_deletes_a_sweep_and_keeps_its_runs(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    run_id = run_trials(api, sweep, 1)[0]["run_id"]

    assert api.delete(f"/api/v1/sweeps/{sweep.pk}/").status_code == 204

    assert not Sweep.objects.filter(pk=sweep.pk).exists()
    assert Run.objects.filter(pk=run_id).exists()
    assert api.get(f"/api/v1/sweeps/{sweep.pk}/").status_code == 404


def test_it_moves_through_every_lifecycle_action(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    base = f"/api/v1/sweeps/{sweep.pk}"

    states = [
        api.post(f"{base}/{action}/").json()["state"]
        for action in ("start", "pause", "resume", "finish")
    ]
    again = api.post(f"{base}/resume/")
    other = make_sweep()
    canceled = api.post(f"/api/v1/sweeps/{other.pk}/cancel/").json()["state"]

    assert states == ["running", "paused", "running", "finished"]
    assert again.status_code == 409 and again.json()["state"] == "finished"
    assert canceled == "canceled"


def test_it_lists_the_sweeps_runs_with_their_trials(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    told = run_trials(api, sweep, 3)
    running = suggest(api, sweep).json()
    api.post(f"/api/v1/runs/{told[0]['run_id']}/log/", {"summary": {"acc": 0.5}}, format="json")

    page = api.get(f"/api/v1/sweeps/{sweep.pk}/runs/?limit=2").json()
    rest = api.get(f"/api/v1/sweeps/{sweep.pk}/runs/?limit=2&offset=2").json()

    assert page["count"] == 4 and page["next"]
    rows = page["results"] + rest["results"]
    assert [r["trial"] for r in rows] == [0, 1, 2, 3]
    best = min(told, key=lambda t: t["value"])
    for row, expected in zip(rows, [*told, running], strict=True):
        run = Run.objects.get(pk=row["run_id"])
        assert row["run_id"] == expected["run_id"]
        assert row["name"] == run.name == expected["run_name"]
        assert row["summary"] == run.summary
        assert row["params"]["lr"] == expected["params"]["lr"]
        assert row["is_best"] == (row["trial"] == best["trial"])
    assert rows[0]["summary"]["acc"] == 0.5
    assert [r["state"] for r in rows] == ["finished"] * 3 + ["running"]
    assert [r["trial_state"] for r in rows] == ["complete"] * 3 + ["running"]
    assert rows[1]["value"] == pytest.approx(told[1]["value"])
    assert rows[3]["value"] is None


def test_it_gives_the_parallel_coordinates_the_page_draws(
    api: APIClient, client: Client, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep(seed=5)
    told = run_trials(api, sweep, 8)
    suggest(api, sweep)  # running: not a row

    body = api.get(f"/api/v1/sweeps/{sweep.pk}/parallel-coordinates/").json()

    names = [d["name"] for d in body["dimensions"]]
    assert names == ["lr", "optimizer/name", "optimizer/beta", "loss"]
    lr, optimizer, beta, loss = body["dimensions"]
    assert (lr["scale"], optimizer["scale"], beta["scale"]) == ("log", "categorical", "linear")
    assert loss["kind"] == "metric" and lr["kind"] == "parameter"
    assert optimizer["tick_labels"] == ["adam", "sgd"] and optimizer["tick_values"] == [0, 1]
    assert all(label[0].isdigit() for label in lr["tick_labels"])
    assert [r["trial"] for r in body["rows"]] == [t["trial"] for t in told]
    for row, trial in zip(body["rows"], told, strict=True):
        assert row["positions"][0] == pytest.approx(math.log10(trial["params"]["lr"]))
        assert row["positions"][-1] == pytest.approx(trial["value"]) == row["value"]
        for position, dimension in zip(row["positions"], body["dimensions"], strict=True):
            assert dimension["range"][0] <= position <= dimension["range"][1]
    best = min(range(len(told)), key=lambda i: told[i]["value"])
    assert body["best_index"] == best
    assert body["rows"][best]["trial"] == Sweep.objects.get(pk=sweep.pk).best_trial.number
    # The very function the page's chart is built from.
    config = SweepConfig.from_dict(sweep.config)
    points = plot_data.trial_points(sweep)
    data = plot_data.parallel_data(plot_data.axes_of(config), points, "loss", "minimize")
    chart = charts.parallel_chart(plot_data.axes_of(config), points, "loss", "minimize")
    drawn = chart.figure["data"][0]["dimensions"]
    assert [d.positions for d in data.dimensions] == [d["values"] for d in drawn]
    assert [r["positions"] for r in body["rows"]] == [
        [d.positions[i] for d in data.dimensions] for i in range(len(data.rows))
    ]


def test_it_gives_empty_parallel_coordinates_before_any_trial_ends(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    suggest(api, sweep)

    body = api.get(f"/api/v1/sweeps/{sweep.pk}/parallel-coordinates/").json()

    assert body["rows"] == [] and body["best_index"] is None
    assert len(body["dimensions"]) == 4


def test_it_suggests_and_reports_stats_with_importance_and_correlation(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep(seed=11)
    run_trials(api, sweep, 4)

    early = api.get(f"/api/v1/sweeps/{sweep.pk}/stats/").json()["importance"]
    run_trials(api, sweep, 26)
    stats = api.get(f"/api/v1/sweeps/{sweep.pk}/stats/").json()

    assert (early["trials"], early["min_trials"], early["needed"]) == (4, 10, 6)
    assert early["importances"] == {}
    importance = stats["importance"]
    assert importance["needed"] == 0 and importance["fanova"]["trials"] == 30
    fanova = importance["fanova"]["importances"]
    assert max(fanova, key=fanova.get) == "lr"
    assert sum(fanova.values()) == pytest.approx(1.0)
    rows = {(c["parameter"], c["value"]): c["r"] for c in importance["correlation"]["correlations"]}
    assert importance["correlation"]["method"] == "Pearson"
    # The value rises with log10(lr) one for one, and by 0.5 with sgd.
    assert rows[("lr", None)] > 0.8
    assert rows[("optimizer/name", "sgd")] == pytest.approx(-rows[("optimizer/name", "adam")])
    assert rows[("optimizer/name", "sgd")] > 0
    assert Trial.objects.filter(sweep=sweep).count() == 30
