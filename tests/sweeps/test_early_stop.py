"""Early termination on 30 synthetic runs whose learning curves are known."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from runs.ingest import log_batch
from runs.lifecycle import finish_run
from sweeps.config import hyperband_bands
from sweeps.models import Sweep, Trial
from sweeps.state_machine import suggest_trial
from tests.sweeps.conftest import RANDOM

STEPS = 30


def _loss(quality: float, step: int) -> float:
    """Run `quality` 0 is the best, 1 the worst; every curve falls with the step."""
    return 0.1 + quality + 1.0 / (step + 1)


def _config(early_terminate: dict[str, Any]) -> dict[str, Any]:
    return {**RANDOM, "early_terminate": early_terminate}


def _start(sweep: Sweep, n: int) -> list[Trial]:
    return [suggest_trial(sweep.pk) for _ in range(n)]


def _log(trial: Trial, quality: float, step: int) -> bool:
    # The client sends the summary along: the last logged value of each key.
    loss = _loss(quality, step)
    row = {"step": step, "time": 1.0, "values": {"loss": loss}}
    return log_batch(trial.run, {"rows": [row], "summary": {"loss": loss}}).stop_run


def _stopped_at(sweep: Sweep) -> dict[int, int | None]:
    return {
        t.number: (len(t.run.points.all()) if t.state == "pruned" else None)
        for t in sweep.trials.select_related("run")
    }


def test_it_computes_wandb_hyperband_bands() -> None:
    assert hyperband_bands({"max_iter": 27, "s": 2, "eta": 3}) == [3, 9]
    assert hyperband_bands({"min_iter": 2, "eta": 3}, count=4) == [2, 6, 18, 54]


def test_hyperband_stops_the_bad_half_early_and_never_the_best(
    make_sweep: Callable[..., Sweep],
) -> None:
    sweep = make_sweep(_config({"type": "hyperband", "min_iter": 3, "eta": 3}))
    trials = _start(sweep, 30)
    quality = {t.number: t.number / 29 for t in trials}
    order = random.Random(7)
    live = list(trials)
    for step in range(STEPS):
        order.shuffle(live)
        live = [t for t in live if not _log(t, quality[t.number], step)]
    for trial in live:
        finish_run(trial.run, exit_code=0)
    stopped = _stopped_at(sweep)
    assert stopped[0] is None
    bad = [n for n in stopped if quality[n] > 0.5]
    assert all(stopped[n] is not None and stopped[n] <= 9 for n in bad), stopped
    assert sweep.trials.filter(state="pruned").count() >= 15


def test_median_stops_the_bad_half_and_never_the_best(make_sweep: Callable[..., Sweep]) -> None:
    sweep = make_sweep(_config({"type": "median", "n_startup_trials": 5}))
    trials = _start(sweep, 30)
    quality = {
        t.number: q / 29
        for t, q in zip(trials, random.Random(3).sample(range(30), 30), strict=True)
    }
    for trial in trials:
        for step in range(STEPS):
            if _log(trial, quality[trial.number], step):
                break
        finish_run(trial.run, exit_code=0)
    stopped = _stopped_at(sweep)
    best = min(quality, key=quality.get)
    assert stopped[best] is None
    after_startup = [t.number for t in trials[5:]]
    bad = [n for n in after_startup if quality[n] > 0.5]
    assert bad and all(stopped[n] == 1 for n in bad), stopped


def test_a_pruned_trial_keeps_its_last_value(make_sweep: Callable[..., Sweep]) -> None:
    sweep = make_sweep(_config({"type": "hyperband", "min_iter": 1, "eta": 3}))
    good, bad = _start(sweep, 2)
    assert not _log(good, 0.0, 0)
    assert _log(bad, 1.0, 0)
    finish_run(bad.run, exit_code=0)
    bad.refresh_from_db()
    assert (bad.state, bad.value) == ("pruned", _loss(1.0, 0))
