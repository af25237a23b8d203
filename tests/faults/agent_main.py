"""An agent process for the fault tests: `python -m tests.faults.agent_main SWEEP POINTS MODE`.

MODE `train` logs POINTS points per trial; `hang` logs one and then waits to be killed.
The agent's report goes to stdout as JSON. Imports no Django, so it starts quickly.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import sweeptracker_client as st

# Seconds between two points: a trial lasts long enough for the server to die during it.
STEP_TIME = 0.05


def main() -> None:
    sweep_id, points, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def train() -> None:
        run = st.init()
        for step in range(points):
            run.log({"loss": float(step)})
            if mode == "hang":
                threading.Event().wait()
            time.sleep(STEP_TIME)  # the work of one training step

    report = st.agent(sweep_id, function=train)
    trials = [{"number": t.number, "state": t.state} for t in report.trials]
    print(json.dumps({"stop": report.stop_reason, "trials": trials}), flush=True)


if __name__ == "__main__":
    main()
