"""Running a user's script against the live server, as a user would: `python script.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any


def run_script(
    source: str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `source` (dedented) as train.py in `tmp_path`; the environment is this test's
    (the client's settings included) plus `env`."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def printed(done: subprocess.CompletedProcess[str], marker: str = "RESULT ") -> Any:
    """The JSON a script printed after `marker`, failing with its stderr when it did not."""
    for line in done.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    raise AssertionError(f"no {marker!r} line; exit {done.returncode}; stderr:\n{done.stderr}")
