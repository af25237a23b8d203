"""A bare agent over HTTP for tests that need several processes: suggest, evaluate, report.

It imports neither Django nor the client, so `spawn` children start quickly.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.sweeps.objectives import evaluate


def run_agent(base_url: str, key: str, sweep_id: str, objective: str, limit: int = 1000) -> dict:
    """Work the sweep until it says there is nothing more; report what happened.

    Each result goes in the next suggestion's body (`report`), as the client's agent sends
    it: one request per trial; the last one alone, when no suggestion follows."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    url = f"{base_url}/api/v1/sweeps/{sweep_id}"
    done: list[dict[str, Any]] = []
    statuses: list[int] = []
    pending: dict[str, Any] | None = None
    deadline = time.monotonic() + 600
    while len(done) < limit and time.monotonic() < deadline:
        answer = session.post(
            f"{url}/suggest/", json={"report": pending} if pending is not None else None
        )
        statuses.append(answer.status_code)
        if answer.status_code < 500:
            pending = None  # applied before the suggestion was decided, whatever its answer
        if answer.status_code == 409:
            if answer.json().get("retry"):
                time.sleep(0.05)  # paced polling while other agents finish their points
                continue
            break
        if answer.status_code != 201:
            break
        trial = answer.json()
        value = evaluate(objective, trial["params"]) if objective else float(trial["trial"])
        pending = {"trial": trial["trial"], "value": value}
        done.append({"trial": trial["trial"], "params": trial["params"], "value": value})
    if pending is not None:
        report = session.post(f"{url}/report/", json=pending)
        statuses.append(report.status_code)
    return {"trials": done, "statuses": statuses}
