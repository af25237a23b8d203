"""A bare agent over HTTP for tests that need several processes: suggest, evaluate, report.

It imports neither Django nor the client, so `spawn` children start quickly.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.sweeps.objectives import evaluate


def run_agent(base_url: str, key: str, sweep_id: str, objective: str, limit: int = 1000) -> dict:
    """Work the sweep until it says there is nothing more; report what happened."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    url = f"{base_url}/api/v1/sweeps/{sweep_id}"
    done: list[dict[str, Any]] = []
    statuses: list[int] = []
    deadline = time.monotonic() + 600
    while len(done) < limit and time.monotonic() < deadline:
        answer = session.post(f"{url}/suggest/")
        statuses.append(answer.status_code)
        if answer.status_code == 409:
            if answer.json().get("retry"):
                time.sleep(0.05)  # paced polling while other agents finish their points
                continue
            break
        if answer.status_code != 201:
            break
        trial = answer.json()
        value = evaluate(objective, trial["params"]) if objective else float(trial["trial"])
        report = session.post(f"{url}/report/", json={"trial": trial["trial"], "value": value})
        statuses.append(report.status_code)
        done.append({"trial": trial["trial"], "params": trial["params"], "value": value})
    return {"trials": done, "statuses": statuses}
