"""Two agents report one trial, or a report comes after the sweep was canceled.

As Optuna refuses to tell a finished trial again, the second, different report is a
409 that says how the trial ended; the trial keeps the first value and counts once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from sweeps.models import Sweep
from tests.sweeps.conftest import RANDOM, report, suggest

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_agent(api_key: str) -> APIClient:
    """Another client of the same user: another agent on another machine."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


def _complete(sweep: Sweep) -> int:
    return sweep.trials.filter(state="complete").count()


def test_it_keeps_the_first_of_two_reports_of_a_trial(
    api: APIClient, second_agent: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep({**RANDOM, "run_cap": 2})
    number = suggest(api, sweep).json()["trial"]
    first = report(api, sweep, number, 0.5)
    second = report(second_agent, sweep, number, 0.9)
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["detail"] == f"Trial {number} already ended as complete."
    trial = sweep.trials.get(number=number)
    assert (trial.state, trial.value, _complete(sweep)) == ("complete", 0.5, 1)
    sweep.refresh_from_db()
    assert (sweep.best_trial_id, sweep.state) == (trial.pk, "running")


def test_it_counts_a_resent_identical_report_once(
    api: APIClient, second_agent: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    number = suggest(api, sweep).json()["trial"]
    answers = [report(client, sweep, number, 0.5) for client in (api, second_agent)]
    # The same result again is a retry of a lost answer: harmless, as for a log batch.
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].json()["value"] == 0.5
    assert _complete(sweep) == 1


def test_it_refuses_a_report_after_the_sweep_was_canceled(
    api: APIClient, second_agent: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    number = suggest(api, sweep).json()["trial"]
    assert second_agent.post(f"/api/v1/sweeps/{sweep.pk}/cancel/").status_code == 200
    late = report(api, sweep, number, 0.5)
    assert late.status_code == 409
    detail = late.json()["detail"]
    assert detail == f"Trial {number} already ended as failed (the sweep is canceled)."
    trial = sweep.trials.get(number=number)
    assert (trial.state, trial.value, trial.run.state) == ("failed", None, "killed")
    assert _complete(sweep) == 0
