"""How runs end: finished or failed by their script, crashed when they go silent."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from runs.models import FINAL_STATES, Run, RunState
from runs.signals import run_ending, run_finished


class RunConflict(Exception):
    """The run already ended another way."""


def finish_run(
    run: Run,
    exit_code: int | None = None,
    state: str | None = None,
    summary: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Run:
    """End the run; finishing it the same way twice is harmless, so clients may retry.

    `summary` is merged into the run's summary in the same write (a reported result).
    `context` goes to the `run_ending` and `run_finished` receivers as keyword arguments:
    a caller that holds what they would read (a sweep's report holds the run's trial, its
    sweep locked) saves them reading it again."""
    if state is None:
        state = RunState.FINISHED if not exit_code else RunState.FAILED
    if state not in FINAL_STATES:
        raise ValueError(f"{state!r} is not a final state; use one of {sorted(FINAL_STATES)}")
    extra = context or {}
    with transaction.atomic():
        run_ending.send(sender=Run, run=run, **extra)
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state == state:
            # A retry: tell the listeners again, in case an earlier end never reached them.
            run_finished.send(sender=Run, run=locked, **extra)
            return locked
        if locked.state != RunState.RUNNING:
            raise RunConflict(f"The run already ended as {locked.state}; it cannot become {state}.")
        if summary:
            locked.summary = {**locked.summary, **summary}
        locked.mark_final(state, exit_code, with_summary=bool(summary))
        run_finished.send(sender=Run, run=locked, **extra)
    return locked


def crash_silent_runs(among: QuerySet[Run] | None = None) -> int:
    """Mark crashed every running run (of `among`, all by default) whose heartbeat is older
    than the timeout. A sweep checks its own runs before each suggestion this way."""
    cutoff = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
    runs = Run.objects.all() if among is None else among
    crashed = 0
    for run in runs.filter(state=RunState.RUNNING, heartbeat_at__lt=cutoff):
        try:
            finish_run(run, state=RunState.CRASHED)
        except RunConflict:
            continue
        crashed += 1
    return crashed


_last_sweep_at = 0.0
# Seconds between sweeps for silent runs in one process; any request may start one.
SILENT_RUN_CHECK_INTERVAL = 30.0


def crash_silent_runs_now_and_then() -> None:
    """Run crash_silent_runs at most every SILENT_RUN_CHECK_INTERVAL seconds.

    Called from requests that agents send anyway, so that no cron job is needed;
    with several workers each checks on its own, which is harmless.
    """
    global _last_sweep_at
    now = time.monotonic()
    if now - _last_sweep_at < SILENT_RUN_CHECK_INTERVAL:
        return
    _last_sweep_at = now
    crash_silent_runs()
