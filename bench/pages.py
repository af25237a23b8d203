"""Server time, query count and memory of the sweep pages at 1,000 and 10,000 trials.

    python bench/pages.py [--trials 1000 10000] [--steps 20] [--repeat 5] [--db sqlite postgres]

For each database and size: a fresh database, a sweep of N complete trials (each with a
run and `steps` points of its metric) written straight into the tables, then:
- queries: the same request run in-process through Django's test client under
  CaptureQueriesContext (the count is the one the server runs; DEBUG stays off);
- server time: the median time of `repeat` GETs, after one warm-up, over a reused
  loopback connection to gunicorn with the production settings (2 workers); it is the
  response time seen by the client, so it includes rendering and the HTTP round trip;
- memory: the RSS of each gunicorn worker from /proc after all requests;
- importance: the time of one computation (fANOVA on an even sample of at most 1,000
  complete trials, PED-ANOVA and the correlations on all of them), median of `repeat`.
  A page computes it at most once per sweep version, in the one request that claims it;
  the page times above read the stored result, as every page does between two trial ends.
No peer column: optuna-dashboard was not installed (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    fresh_database,
    machine,
    manage,
    median_ms,
    production_server,
)

# (label, path relative to the sweep page, headers)
TAB_BODY = {"HX-Request": "true", "HX-Target": "tab-body"}
REQUESTS = [
    ("detail (overview)", "", {}),
    ("trials table", "?tab=trials", {}),
    ("trials fragment, sorted", "?tab=trials&sort=-value&page=7", TAB_BODY),
    ("trials fragment, by param", "?tab=trials&sort=p.x1&page=3", TAB_BODY),
    ("best parameters", "?tab=best", TAB_BODY),
    ("importance", "?tab=importance", TAB_BODY),
    ("importance, PED-ANOVA", "?tab=importance&importance=ped_anova", TAB_BODY),
    ("parallel coordinates", "?tab=parallel", TAB_BODY),
    ("history", "?tab=history", TAB_BODY),
    ("slice & contour", "?tab=slice", TAB_BODY),
    ("learning curves", "?tab=curves", TAB_BODY),
    ("live poll (overview)", "live/?tab=overview", {"HX-Request": "true"}),
    ("trials.csv", "trials.csv", {}),
]


def worker(trials: int, steps: int) -> None:
    """In a process whose DATABASE_URL is the fresh database: populate, count queries."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.populate import main as populate_sweep  # django.setup() on import
    from runs.models import MetricPoint
    from sweeps import importance
    from sweeps.models import Sweep, Trial

    sweep_id = populate_sweep("random", "tpe", trials)
    sweep = Sweep.objects.get(pk=sweep_id)
    best = Trial.objects.filter(sweep=sweep).order_by("value").first()
    Trial.objects.filter(pk=best.pk).update(is_best=True)
    Sweep.objects.filter(pk=sweep_id).update(best_trial=best)
    runs = Trial.objects.filter(sweep=sweep).values_list("run_id", "value")
    batch: list[MetricPoint] = []
    for run_id, value in runs.iterator():
        for step in range(steps):
            loss = value + 1.5 * 0.8**step
            batch.append(MetricPoint(run_id=run_id, key="loss", step=step, value=loss, wall_time=0))
        if len(batch) >= 20_000:
            MetricPoint.objects.bulk_create(batch)
            batch = []
    MetricPoint.objects.bulk_create(batch)
    sweep.refresh_from_db()
    importance_ms = median_ms(lambda: importance.compute(sweep), 3)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="bench"))
    counts = {}
    for label, path, headers in REQUESTS:
        url = f"/sweeps/{sweep_id}/{path}"
        client.get(url, headers=headers)  # the first computes and caches importance
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        assert response.status_code == 200, (url, response.status_code)
        counts[label] = len(captured)
    cookie = client.cookies["sessionid"].value
    answer = {"sweep": sweep_id, "cookie": cookie, "importance_ms": importance_ms}
    print(json.dumps(answer | counts))


def worker_rss(port: int) -> list[int]:
    """RSS in MB of the gunicorn workers serving `port` (the master is left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"BIND=127.0.0.1:{port}".encode() not in environ:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["PPid"]) == os.getpid():
            continue  # the master: it serves nothing
        found.append(int(fields["VmRSS"].split()[0]) // 1024)
    return sorted(found)


def measure(kind: str, trials: int, steps: int, repeat: int) -> dict[str, object]:
    import requests

    with fresh_database(kind, f"pages_{trials}") as url:
        manage(url, "migrate", "--verbosity", "0")
        env = {**os.environ, "DATABASE_URL": url}
        command = [PYTHON, "bench/pages.py", "--worker", str(trials), "--steps", str(steps)]
        done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        counts = json.loads(done.stdout.decode().strip().splitlines()[-1])
        importance_ms = counts.pop("importance_ms")
        times = {}
        with production_server(url) as base, requests.Session() as session:
            session.cookies.set("sessionid", counts.pop("cookie"))
            sweep = counts.pop("sweep")
            for label, path, headers in REQUESTS:
                page = f"{base}/sweeps/{sweep}/{path}"

                def get(page: str = page, headers: dict[str, str] = headers) -> None:
                    response = session.get(page, headers=headers)
                    assert response.status_code == 200, (page, response.status_code)

                get()
                times[label] = median_ms(get, repeat)
            rss = worker_rss(int(base.rsplit(":", 1)[1]))
    return {"counts": counts, "times": times, "rss": rss, "importance_ms": importance_ms}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    print(f"Machine: {machine()}; {args.steps} points per trial; median of {args.repeat}")
    for kind in args.db:
        results = {n: measure(kind, n, args.steps, args.repeat) for n in args.trials}
        head = "".join(f" | {n:>6} ms | queries" for n in args.trials)
        print(f"\n{kind}\n{'request':<28}{head}")
        for label, _, _ in REQUESTS:
            cells = "".join(
                f" | {results[n]['times'][label]:9.1f} | {results[n]['counts'][label]:7d}"
                for n in args.trials
            )
            print(f"{label:<28}{cells}")
        for n in args.trials:
            print(f"gunicorn worker RSS after {n} trials: {results[n]['rss']} MB")
        for n in args.trials:
            print(f"importance computed once for {n} trials: {results[n]['importance_ms']:.0f} ms")


if __name__ == "__main__":
    main()
