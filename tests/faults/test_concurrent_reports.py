"""Two agents report one trial at the same moment, over HTTP to a multi-threaded server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from sweeps.models import Sweep
from tests.faults.server import Server

pytestmark = pytest.mark.django_db(transaction=True)

TRIALS = 6


def _race(server: Server, key: str, sweep: Sweep, number: int) -> list[tuple[float, int]]:
    """Both agents send at once; (value, status) of each."""
    start = threading.Barrier(2)
    answers: list[tuple[float, int]] = []

    def agent(value: float) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            url = f"{server.url}/api/v1/sweeps/{sweep.pk}/report/"
            session.get(f"{server.url}/api/v1/sweeps/{sweep.pk}/")  # connect before the race
            start.wait()
            answer = session.post(url, json={"trial": number, "value": value}, timeout=30)
            answers.append((value, answer.status_code))

    threads = [threading.Thread(target=agent, args=(v,)) for v in (1.0 + number, 2.0 + number)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_it_counts_one_of_two_simultaneous_reports(
    api_key: str, make_sweep: Callable[..., Sweep], tmp_path: Path
) -> None:
    sweep = make_sweep()
    headers = {"Authorization": f"Bearer {api_key}"}
    with Server(tmp_path / "server.log", {}) as server:
        for number in range(TRIALS):
            requests.post(f"{server.url}/api/v1/sweeps/{sweep.pk}/suggest/", headers=headers)
            answers = _race(server, api_key, sweep, number)
            assert sorted(status for _, status in answers) == [200, 409]
            trial = sweep.trials.get(number=number)
            # The trial keeps the value of the report that was answered 200.
            assert [trial.value] == [value for value, status in answers if status == 200]
    assert sweep.trials.filter(state="complete").count() == TRIALS
