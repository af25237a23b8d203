"""Slow down a client that guesses API keys: count its bad keys per window.

The counts live in Django's default cache. With the default local-memory cache
each gunicorn worker counts on its own, so a client spread over N workers gets
up to N x BAD_KEY_LIMIT tries per window before every worker blocks it: still
a trickle next to a flood, and nothing here is needed for correctness, so a
per-process count is acceptable. A deployment that wants one count for all
workers and hosts points CACHES at a shared cache (database or Redis).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

PREFIX = "bad-key"


def client_of(request: Request) -> str:
    """The client's address; X-Forwarded-For counts only as far as NUM_PROXIES allows."""
    return BaseThrottle().get_ident(request)


def blocked_for(client: str) -> int:
    """Seconds until the client may try keys again; 0 when it may now."""
    count: int = cache.get(f"{PREFIX}:count:{client}", 0)
    if count < settings.BAD_KEY_LIMIT:
        return 0
    reset_at: float | None = cache.get(f"{PREFIX}:reset:{client}")
    if reset_at is None:
        return 0
    return max(1, math.ceil(reset_at - time.time()))


def record_failure(client: str) -> None:
    """Count one bad key; the first failure of a window fixes when it ends."""
    window = settings.BAD_KEY_WINDOW
    cache.add(f"{PREFIX}:reset:{client}", time.time() + window, timeout=window)
    cache.add(f"{PREFIX}:count:{client}", 0, timeout=window)
    try:
        cache.incr(f"{PREFIX}:count:{client}")
    except ValueError:
        # The window expired between add and incr: this failure opens a new one.
        cache.set(f"{PREFIX}:count:{client}", 1, timeout=window)
