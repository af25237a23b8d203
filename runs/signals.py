"""What `runs` tells whoever listens, so that `runs` never imports `sweeps`.

Receivers of `points_logged` may answer True to ask that the run stop
(early termination); the answer travels back in the log response.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with run= and rows= (the parsed rows of a log batch) after they are stored.
points_logged = Signal()
# Sent with run= after a run reached a final state.
run_finished = Signal()
# Sent with run= on a heartbeat; a receiver answers True to ask that the run stop.
stop_requested = Signal()
