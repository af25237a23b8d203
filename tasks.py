"""The two commands of the README, needing nothing but Python 3.11+.

python3 tasks.py run    set up, migrate, make a demo, serve on 127.0.0.1:8000
python3 tasks.py test   set up, lint, type-check, and run the whole test suite
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
ADDRESS = "127.0.0.1:8000"
DEMO_USER, DEMO_PASSWORD = "demo", "demo"


def sh(*args: object, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_venv() -> None:
    """Create .venv and install, again only when the requirements changed."""
    if not PYTHON.exists():
        step("Creating .venv")
        sh(sys.executable, "-m", "venv", VENV)
    inputs = [ROOT / name for name in ("requirements.txt", "requirements-torch.txt")]
    inputs.append(ROOT / "client" / "pyproject.toml")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    step("Installing the requirements into .venv (once, and again when they change)")
    sh(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(PYTHON, "-m", "pip", "install", "--quiet", "-r", "requirements.txt")
    # torch's CPU build from PyTorch's index (see requirements-torch.txt). Where that index
    # is out of reach and a local wheel serves, pip warns twice and goes on.
    torch = ("--no-deps", "--retries", "2", "-r", "requirements-torch.txt")
    sh(PYTHON, "-m", "pip", "install", "--quiet", *torch)
    sh(PYTHON, "-m", "pip", "install", "--quiet", "-e", "./client")
    stamp.write_text(digest)


def wait_for(url: str, deadline: float) -> None:
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"The server did not answer at {url}.") from None
            time.sleep(0.2)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run() -> None:
    ensure_venv()
    step("Migrating the SQLite database (db.sqlite3)")
    sh(PYTHON, "manage.py", "migrate", "--verbosity", "0")
    step(f"Creating the demo user {DEMO_USER!r} and an API key for the demo's client")
    key = (
        subprocess.run(
            [PYTHON, "manage.py", "create_demo_user", DEMO_USER, DEMO_PASSWORD],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # Plain http on a laptop: cookies marked Secure would not come back from every browser.
    local = {"SECURE_COOKIES": "false", **os.environ}
    # gunicorn with the production settings of gunicorn.conf.py: Django's development
    # server stalls ~45 ms per request, so what a newcomer measures is what production does.
    # Its start-up notes and a line per request (ACCESS_LOG, off unless set) would bury
    # the demo's progress: only its warnings and errors show.
    access = os.environ.get("ACCESS_LOG") or "off (ACCESS_LOG=- prints each request)"
    step(f"Starting gunicorn on {ADDRESS} with SQLite; request log: {access}")
    quiet = {"GUNICORN_LOG_LEVEL": os.environ.get("GUNICORN_LOG_LEVEL", "warning")}
    server = subprocess.Popen(
        [BIN / "gunicorn", "sweeptracker.wsgi", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**local, **quiet, "BIND": ADDRESS},
    )
    # Stopped by a signal as by Ctrl-C: the finally below stops gunicorn too, never orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        wait_for(f"http://{ADDRESS}/accounts/login/", time.monotonic() + 60)
        env = {
            **os.environ,
            "SWEEPTRACKER_BASE_URL": f"http://{ADDRESS}",
            "SWEEPTRACKER_API_KEY": key,
            "SWEEPTRACKER_PROJECT": "demo",
        }
        step("Logging the demo runs and a 15-trial sweep through the client (about a minute)")
        sh(PYTHON, "examples/demo_runs.py", env=env)
        print(f"\nSweepTracker is serving at http://{ADDRESS}/")
        print(f"Log in as {DEMO_USER} / {DEMO_PASSWORD}. Ctrl-C stops the server.\n", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait()


def test() -> None:
    ensure_venv()
    sh(BIN / "ruff", "check", ".")
    sh(BIN / "ruff", "format", "--check", ".")
    sh(BIN / "mypy")
    # One worker per core (pytest-xdist): the live-server, browser and agent tests wait on
    # I/O, and the suite must stay under 15 minutes on a 2-core machine.
    sh(PYTHON, "-m", "pytest", "--create-db", "--numprocesses", "auto", *sys.argv[2:])


if __name__ == "__main__":
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    try:
        commands[sys.argv[1]]()
    except subprocess.CalledProcessError as error:
        raise SystemExit(error.returncode) from None
