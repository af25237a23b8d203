"""Waiting for something the background thread does, without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.02


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Return as soon as `condition()` is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(POLL)
