"""What `runs` tells whoever listens, so that `runs` never imports `sweeps`.

Receivers of `points_logged` may answer True to ask that the run stop
(early termination); the answer travels back in the log response.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with run=, points= (the parsed points of a log batch) and final= (the client sent
# it after the run's script had ended: ?final=true) after they are stored.
points_logged = Signal()
# Sent with run= inside the transaction that ends a run, before the run's row is locked:
# a receiver takes its own locks here (the sweep's), so every path locks in one order.
# This signal and run_finished also carry what the ending caller passed as `context` to
# `runs.lifecycle.finish_run` (a sweep's report passes trial=, its sweep already locked).
run_ending = Signal()
# Sent with run= inside the transaction in which the run reached a final state, and again
# when a client retries that end: receivers must be idempotent. Their failure rolls the
# run's end back with them, so a retry finds the run still running and ends both at once.
run_finished = Signal()
# Sent with run= on a heartbeat; a receiver answers True to ask that the run stop.
stop_requested = Signal()
