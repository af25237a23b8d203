"""gunicorn settings for production: `gunicorn sweeptracker.wsgi` reads this file."""

from __future__ import annotations

import multiprocessing
import os

bind = os.getenv("BIND", "127.0.0.1:8000")
# Suggestions are CPU-bound (the sampler); a worker per core plus one keeps cores busy
# while another waits on the database.
workers = int(os.getenv("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.getenv("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.getenv("GUNICORN_TIMEOUT", "120"))
keepalive = 30
# A line per request only when asked for (a path, or "-" for stderr): at a few thousand
# requests a minute from agents it would bury everything else.
accesslog = os.getenv("ACCESS_LOG") or None
errorlog = "-"
# `python3 tasks.py run` sets warning, so that the demo's own progress shows.
loglevel = os.getenv("GUNICORN_LOG_LEVEL", "info")
