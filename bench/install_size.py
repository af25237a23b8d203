"""What the server's install weighs: its downloads and the virtual environment on disk.

Side by side: our install (requirements.txt, then torch's CPU build from
requirements-torch.txt) and the same requirements with PyPI's default torch, which on Linux
is the CUDA build. Each is resolved by pip itself (`pip install --dry-run --ignore-installed
--report`) and every file pip would fetch is sized: local files by their size on disk, remote
ones by the Content-Length their server answers. The venv is the one `tasks.py` made.

    .venv/bin/python bench/install_size.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000


def resolve(*args: str, isolated: bool = False) -> list[dict[str, object]]:
    """The packages pip would install for `args` into an empty environment."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--quiet", "--report", str(report), *args]
        if isolated:
            # Without this machine's pip config: PyPI alone, as on a plain Linux machine.
            command.append("--isolated")
        subprocess.run(command, cwd=ROOT, check=True)
        install: list[dict[str, object]] = json.loads(report.read_text())["install"]
        return install


def size_of(url: str, session: requests.Session) -> int:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return os.path.getsize(unquote(parsed.path))
    answer = session.head(url, allow_redirects=True, timeout=60)
    answer.raise_for_status()
    return int(answer.headers["Content-Length"])


def download_size(items: list[dict[str, object]], session: requests.Session) -> tuple[int, int]:
    """(bytes, packages) of the files pip would fetch for `items`."""
    total = 0
    for item in items:
        info = item["download_info"]
        assert isinstance(info, dict)
        total += size_of(str(info["url"]), session)
    return total, len(items)


def disk_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def names(items: list[dict[str, object]]) -> set[str]:
    found = set()
    for item in items:
        metadata = item["metadata"]
        assert isinstance(metadata, dict)
        found.add(str(metadata["name"]).lower())
    return found


def main() -> None:
    session = requests.Session()
    ours = resolve("-r", "requirements.txt")
    torch_cpu = resolve("--no-deps", "--retries", "2", "-r", "requirements-torch.txt")
    ours_bytes, ours_count = download_size(ours + torch_cpu, session)
    # The peer: the torch a plain `pip install torch==2.13.0` takes on Linux (PyPI's CUDA
    # build, with what it depends on), in place of the CPU build.
    cuda = resolve("torch==2.13.0", isolated=True)
    extra = sorted(names(cuda) - names(ours))
    cuda_bytes, _ = download_size(cuda, session)
    torch_cpu_bytes, _ = download_size(torch_cpu, session)
    peer_bytes = ours_bytes - torch_cpu_bytes + cuda_bytes
    peer_count = ours_count - len(torch_cpu) + len(extra)
    venv = ROOT / ".venv"
    print(f"machine: {os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}")
    print(f"{'install':<44}{'packages':>10}{'download':>14}")
    print(
        f"{'ours (requirements + torch CPU build)':<44}{ours_count:>10}{ours_bytes / MB:>11.0f} MB"
    )
    print(
        f"{'with PyPI torch==2.13.0 (CUDA build)':<44}{peer_count:>10}{peer_bytes / MB:>11.0f} MB"
    )
    print(f"ratio (CUDA / ours): {peer_bytes / ours_bytes:.1f}x")
    print(f"packages the CUDA build adds: {', '.join(extra)}")
    if venv.exists():
        site = next(venv.glob("lib/python*/site-packages"))
        torch_dir = site / "torch"
        print(f"venv on disk (.venv): {disk_size(venv) / MB:.0f} MB", end="")
        print(f", of which torch: {disk_size(torch_dir) / MB:.0f} MB" if torch_dir.exists() else "")


if __name__ == "__main__":
    main()
