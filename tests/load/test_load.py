"""bench/load.py, smaller: real agents against gunicorn on the test database lose nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench.agents import curve
from bench.common import production_server
from bench.load import (
    METRIC,
    PARAMS,
    Plan,
    audit,
    problems_of,
    run_load,
    server_env,
    sweep_config,
)
from projects.models import Project
from runs.models import MetricPoint
from sweeps.models import Trial

pytestmark = pytest.mark.django_db(transaction=True)

# Few bayes trials, yet past the GP's 10 startup trials: a GP suggestion costs far
# more than a random one.
PLAN = Plan(agents=6, random_cap=30, bayes_cap=14, points=20, seconds=240)


def database_url() -> str:
    """The test database as a DATABASE_URL, for a server in another process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}{port}/{db['NAME']}"


def test_it_loses_and_duplicates_nothing_under_agents_on_two_sweeps(
    project: Project, api_key: str, tmp_path: Path
) -> None:
    access_log = tmp_path / "access.log"
    with production_server(database_url(), 2, server_env(access_log)) as base:
        load = run_load(base, api_key, project.slug, PLAN, access_log)
    audited: dict[str, Any] = audit([sweep.id for sweep in load.sweeps], PLAN.points)

    assert problems_of(load, audited) == []
    assert load.requests > 0 and load.errors_5xx == 0
    assert [len(s.server_ms) for s in load.sweeps] == [30, 14]
    assert [(s.method, s.trials) for s in load.sweeps] == [("random", 30), ("bayes", 14)]
    assert (audited["lost"], audited["duplicated"]) == (0, 0)
    assert audited["stored"] == 44 * PLAN.points


def _finished_sweep(api: Any, points: int) -> str:
    """A random sweep of 2 trials, each run logging `points` points as the load's agents do."""
    body = {"project": "demo", "config": sweep_config("random", 2)}
    sweep_id = api.post("/api/v1/sweeps/", body, format="json").json()["id"]
    for _ in range(2):
        trial = api.post(f"/api/v1/sweeps/{sweep_id}/suggest/").json()
        values = curve({name: trial["params"][name] for name in PARAMS}, points)
        rows = [{"step": step, "values": {METRIC: value}} for step, value in enumerate(values)]
        run = f"/api/v1/runs/{trial['run_id']}"
        batch = {"rows": rows, "summary": {METRIC: values[-1]}}
        assert api.post(f"{run}/log/", batch, format="json").status_code == 200
        assert api.post(f"{run}/finish/", {"exit_code": 0}, format="json").status_code == 200
    return sweep_id


def test_its_audit_finds_a_lost_point_and_a_trial_left_running(project: Project, api: Any) -> None:
    sweep_id = _finished_sweep(api, 5)
    assert audit([sweep_id], 5) == {"problems": [], "lost": 0, "duplicated": 0, "stored": 10}

    MetricPoint.objects.filter(run__trial__sweep_id=sweep_id, step=3).first().delete()
    Trial.objects.filter(sweep_id=sweep_id, number=1).update(state="running")
    audited = audit([sweep_id], 5)

    assert (audited["lost"], audited["duplicated"], audited["stored"]) == (1, 0, 9)
    assert "random sweep: trials {'complete': 1, 'running': 1}, run_cap 2" in audited["problems"]
