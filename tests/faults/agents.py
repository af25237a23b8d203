"""Client agent processes (the real client library) for the fault tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT

AGENT_ENV = {
    "SWEEPTRACKER_PROJECT": "demo",
    # Short intervals: a test waits seconds, not the minutes real agents allow.
    "SWEEPTRACKER_HEARTBEAT_INTERVAL": "0.3",
    "SWEEPTRACKER_AGENT_HEARTBEAT_INTERVAL": "0.3",
    "SWEEPTRACKER_AGENT_POLL_INTERVAL": "0.2",
}


def start_agent(
    url: str, key: str, sweep_id: str, points: int, mode: str, folder: Path
) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **AGENT_ENV,
        "SWEEPTRACKER_BASE_URL": url,
        "SWEEPTRACKER_API_KEY": key,
        "SWEEPTRACKER_DIR": str(folder),
    }
    command = [sys.executable, "-m", "tests.faults.agent_main", sweep_id, str(points), mode]
    with (folder / "stderr.txt").open("w") as errors:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )


def agent_report(agent: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    """The agent's JSON report once it exits; it must exit cleanly."""
    out, _ = agent.communicate(timeout=timeout)
    assert agent.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])
