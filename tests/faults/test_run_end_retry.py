"""A run's end and its trial's end are one: a sweep side that fails once is retried whole.

The fault is the database refusing the trial's write once (as a locked SQLite or a
PostgreSQL restart does): the request answers 503, the client retries, and the trial
must end exactly once, with the run's value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.db.models.signals import pre_save
from rest_framework.test import APIClient

from runs.lifecycle import finish_run
from runs.models import Run
from sweeps.models import Sweep, Trial
from tests.sweeps.conftest import RANDOM, suggest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trial_write_fails_once() -> Iterator[list[int]]:
    """The first write of a trial's end raises as a locked database would; later ones pass."""
    failures: list[int] = []

    def refuse(sender: Any, instance: Trial, update_fields: Any = None, **kwargs: Any) -> None:
        if not failures and update_fields and "ended_at" in update_fields:
            failures.append(instance.pk)
            raise OperationalError("database is locked")

    pre_save.connect(refuse, sender=Trial, dispatch_uid="test_trial_write_fails_once")
    yield failures
    pre_save.disconnect(sender=Trial, dispatch_uid="test_trial_write_fails_once")


def _log_and_finish(api: APIClient, run_id: int) -> Any:
    return api.post(f"/api/v1/runs/{run_id}/finish/", {"exit_code": 0}, format="json")


def test_it_ends_the_trial_once_when_the_finish_is_retried(
    api: APIClient, make_sweep: Callable[..., Sweep], trial_write_fails_once: list[int]
) -> None:
    sweep = make_sweep({**RANDOM, "run_cap": 1})
    answer = suggest(api, sweep).json()
    run = Run.objects.get(pk=answer["run_id"])
    run.summary = {"loss": 0.25}
    run.save(update_fields=["summary"])

    first = _log_and_finish(api, run.pk)
    assert first.status_code == 503
    assert trial_write_fails_once, "the fault was not injected"
    # Nothing of the failed end was kept: the run is still running, so the retry ends it.
    run.refresh_from_db()
    assert run.state == "running"

    second = _log_and_finish(api, run.pk)
    assert second.status_code == 200
    trial = Trial.objects.get(sweep=sweep, number=answer["trial"])
    assert (trial.state, trial.value, trial.is_best) == ("complete", 0.25, True)
    sweep.refresh_from_db()
    assert (sweep.best_trial_id, sweep.version >= 1, sweep.state) == (trial.pk, True, "finished")
    # A third finish, as a client whose answer was lost would send, changes nothing.
    assert _log_and_finish(api, run.pk).status_code == 200
    assert Trial.objects.get(pk=trial.pk).ended_at == trial.ended_at


def test_it_repairs_a_trial_left_running_by_an_ended_run(
    api: APIClient, make_sweep: Callable[..., Sweep], settings: Any
) -> None:
    """Trials stuck before the fix: the run ended, the trial did not; suggest repairs them."""
    settings.SWEEP_RUN_CHECK_INTERVAL = 0
    sweep = make_sweep({**RANDOM, "run_cap": 3})
    answer = suggest(api, sweep).json()
    run = Run.objects.get(pk=answer["run_id"])
    # The run's end without its trial's, as the old code left it after a failed sweep side.
    Run.objects.filter(pk=run.pk).update(state="finished", summary={"loss": 0.5})

    assert suggest(api, sweep).status_code == 201
    trial = Trial.objects.get(sweep=sweep, number=answer["trial"])
    assert (trial.state, trial.value) == ("complete", 0.5)
    # And a retried finish of that run ends it once too.
    assert finish_run(run, exit_code=0).state == "finished"
    assert Trial.objects.filter(sweep=sweep, state="complete").count() == 1
