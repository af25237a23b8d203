"""Sweeps with trials for the page tests: made through the engine, or in bulk for scale."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.urls import reverse

from projects.models import Project
from runs.ingest import log_batch
from runs.lifecycle import finish_run
from runs.models import MetricPoint, Run, RunState
from sweeps.config import SweepConfig
from sweeps.lifecycle import create_sweep
from sweeps.models import Sweep, Trial, TrialState
from sweeps.sampling import suggest_random
from sweeps.state_machine import suggest_trial
from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}
# What htmx sends from a sweep page's header buttons (hx-target="#sweep-header").
HEADER = {**HTMX, "HX-Target": "sweep-header"}
XSS = "<img src=x onerror=alert(1)>"
CONFIG: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 0.00001, "max": 0.1},
        "batch_size": {"values": [16, 32, 64, 128]},
        "dropout": {"min": 0.0, "max": 0.5},
        "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
        "epochs": {"value": 10},
    },
}


def row_target(sweep: Sweep) -> dict[str, str]:
    """What htmx sends from a button in the sweep's row of the list (hx-target="closest tr")."""
    return {**HTMX, "HX-Target": f"sweep-{sweep.pk}"}


def make_sweep(project: Project, config: dict[str, Any] | None = None, **fields: Any) -> Sweep:
    return create_sweep(project, config or CONFIG, **fields)


def objective(params: dict[str, Any]) -> float:
    """A loss with a clear optimum, so that the charts have a shape to show."""
    lr = float(params.get("lr", 0.001))
    dropout = float(params.get("dropout", 0.2))
    batch = float(params.get("batch_size", 32))
    penalty = 0.1 if params.get("optimizer/name") == "sgd" else 0.0
    return (math.log10(lr) + 3) ** 2 * 0.2 + (dropout - 0.2) ** 2 + abs(batch - 64) / 640 + penalty


def curve(final: float, step: int, steps: int) -> float:
    return final + 1.5 * math.exp(-4 * step / max(steps, 1))


def run_trial(sweep_id: str, steps: int = 10, fail: bool = False) -> Trial:
    """What an agent does: ask, log a learning curve step by step, finish (or stop early)."""
    trial = suggest_trial(sweep_id)
    run = trial.run
    assert run is not None
    final = objective(trial.params)
    for step in range(steps):
        value = curve(final, step, steps)
        result = log_batch(run, {"rows": [{"step": step, "values": {"loss": value}}]})
        log_batch(run, {"summary": {"loss": value}})
        if result.stop_run:
            break
    finish_run(run, exit_code=1 if fail else 0)
    trial.refresh_from_db()
    return trial


def bulk_trials(sweep: Sweep, count: int, steps: int = 0) -> list[Trial]:
    """`count` ended trials with runs (and `steps` points each), made with bulk_create."""
    config = SweepConfig.from_dict(sweep.config)
    suggestions = [suggest_random(config, sweep.seed, number) for number in range(count)]
    runs = Run.objects.bulk_create(
        [
            Run(project=sweep.project, name=f"{sweep.name}-{n}", state=RunState.FINISHED)
            for n in range(count)
        ]
    )
    states = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED]
    trials = []
    for number, (suggestion, run) in enumerate(zip(suggestions, runs, strict=True)):
        state = states[number % len(states)] if number else TrialState.COMPLETE
        value = None if state == TrialState.FAILED else objective(suggestion.params)
        trials.append(
            Trial(
                sweep=sweep,
                number=number,
                run=run,
                params=suggestion.params,
                internal=suggestion.internal,
                state=state,
                value=value,
            )
        )
    Trial.objects.bulk_create(trials)
    if steps:
        points = [
            MetricPoint(run=run, key="loss", step=step, value=curve(1.0, step, steps), wall_time=1)
            for run in runs
            for step in range(steps)
        ]
        MetricPoint.objects.bulk_create(points, batch_size=5000)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value)  # type: ignore[arg-type,return-value]
    Trial.objects.filter(sweep=sweep, number=best.number).update(is_best=True)
    Sweep.objects.filter(pk=sweep.pk).update(
        next_number=count,
        best_trial=Trial.objects.get(sweep=sweep, number=best.number),
        version=F("version") + 1,
    )
    sweep.refresh_from_db()
    return list(Trial.objects.filter(sweep=sweep).order_by("number"))


def detail_url(sweep: Sweep, **query: Any) -> str:
    url = reverse("sweeps:detail", args=[sweep.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def log_in(page: Any, base_url: str, next_url: str, username: str = "alice") -> None:
    """Log in through the form, as a person does, and land on `next_url`."""
    page.goto(f"{base_url}{reverse('login')}?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_url}")


# Browser tests -----------------------------------------------------------------------------

SCREENSHOTS = Path(settings.BASE_DIR) / "test-output"
DOCS_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
# plotly.min.js is 4.6 MB to parse: more than expect()'s 5 s default on a busy machine.
UI_TIMEOUT_MS = 15_000
# A poll comes every 3 s; allow for a few of them and a slow machine.
POLL_TIMEOUT_MS = 20_000


class Agent(threading.Thread):
    """An agent in a thread, as `sweeptracker agent` would run beside the server."""

    def __init__(self, sweep_id: str, count: int, steps: int = 6) -> None:
        super().__init__(daemon=True)
        self.sweep_id, self.count, self.steps = sweep_id, count, steps
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            for _ in range(self.count):
                run_trial(self.sweep_id, steps=self.steps)
        except BaseException as error:  # reported by finish(), in the test's thread
            self.errors.append(error)
        finally:
            connection.close()

    def finish(self) -> None:
        self.join(timeout=60)
        assert not self.is_alive(), "the agent did not finish"
        assert not self.errors, self.errors


def shoot(page: Any, name: str, full_page: bool = True) -> Path:
    """A screenshot in test-output/, from the top so the sticky header stays put."""
    page.wait_for_load_state("load")
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=full_page)
    return path


def fits(page: Any) -> None:
    """Nothing may stick out sideways: wide tables and charts scroll inside their own box."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px too wide"


def accept_dialogs(page: Any) -> None:
    """Accept confirm() dialogs from now on (the page fixture dismisses them); still list them."""
    # Playwright has no public way to drop a listener one does not hold; this is the
    # fixture's own dismissing one, on the page object the fixture made.
    page._impl_obj.remove_all_listeners("dialog")
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.accept()))
