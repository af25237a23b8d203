"""The `failed` sweep state: the first trials to end all failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from sweeps.models import Sweep, SweepState
from tests.sweeps.conftest import report, suggest


def fail_trials(api: APIClient, sweep: Sweep, count: int) -> None:
    for _ in range(count):
        trial = suggest(api, sweep).json()["trial"]
        assert report(api, sweep, trial).status_code == 200


def test_a_sweep_whose_first_five_trials_fail_is_failed(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    fail_trials(api, sweep, 4)
    assert Sweep.objects.get(pk=sweep.pk).state == SweepState.RUNNING

    fail_trials(api, sweep, 1)

    sweep.refresh_from_db()
    assert sweep.state == SweepState.FAILED and sweep.ended_at is not None
    refused = suggest(api, sweep)
    assert refused.status_code == 409
    assert (refused.json()["reason"], refused.json()["retry"]) == ("failed", False)


def test_one_success_among_the_first_keeps_it_running(
    api: APIClient, make_sweep: Callable[..., Sweep]
) -> None:
    sweep = make_sweep()
    fail_trials(api, sweep, 2)
    trial = suggest(api, sweep).json()["trial"]
    report(api, sweep, trial, 0.5)

    fail_trials(api, sweep, 10)

    assert Sweep.objects.get(pk=sweep.pk).state == SweepState.RUNNING


def test_the_count_is_a_setting(
    api: APIClient, make_sweep: Callable[..., Sweep], settings: Any
) -> None:
    settings.SWEEP_MAX_INITIAL_FAILURES = 0
    sweep = make_sweep()

    fail_trials(api, sweep, 6)

    assert Sweep.objects.get(pk=sweep.pk).state == SweepState.RUNNING
