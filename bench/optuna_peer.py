"""bench/load.py's peer: the same load by Optuna with its RDB storage on the same database.

Each worker process is one distributed Optuna user's process: it loads the study from the
shared storage (`optuna.load_study(storage=<the same DATABASE_URL>)`), asks for a trial
with the 4 float parameters, reports the same `points` values our agents log as
intermediate values (`trial.report`, one write each, as `wandb.log` is one point each), and
tells the last one. Like our agents, half the processes start on the random study and
half on the bayes one, and each goes on to the other; each has a fixed share of each
study's trials, so the totals are exact without a cap of Optuna's own.

Run as a script only by bench/load.py (`--worker JOB`).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.agents import READY, RESULT, curve, release_together  # noqa: E402
from bench.common import PYTHON, ROOT, percentile  # noqa: E402

THIS = Path(__file__).resolve()
PARAMS = [f"x{i}" for i in range(4)]
STARTUP_TRIALS = 10


class DefaultBayes(optuna.samplers.BaseSampler):
    """Optuna's samplers as our default bayes picks them (sweeps/sampling.py): GP below
    `gp_max` complete trials, multivariate TPE with constant liar from there on."""

    def __init__(self, gp_max: int) -> None:
        self._gp = optuna.samplers.GPSampler(
            n_startup_trials=STARTUP_TRIALS, warn_independent_sampling=False
        )
        self._tpe = optuna.samplers.TPESampler(
            n_startup_trials=STARTUP_TRIALS, multivariate=True, constant_liar=True
        )
        self._gp_max = gp_max
        # One sampler for the whole of a trial, picked when it starts.
        self._picked: dict[int, optuna.samplers.BaseSampler] = {}

    def _pick(self, study: optuna.Study, trial: FrozenTrial) -> optuna.samplers.BaseSampler:
        if trial._trial_id not in self._picked:
            complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            small = len(complete) < self._gp_max
            self._picked[trial._trial_id] = self._gp if small else self._tpe
        return self._picked[trial._trial_id]

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._pick(study, trial).infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._pick(study, trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        sampler = self._pick(study, trial)
        return sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._pick(study, trial).before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._picked.pop(trial._trial_id, self._tpe).after_trial(study, trial, state, values)


def sampler(method: str, gp_max: int) -> optuna.samplers.BaseSampler:
    if method == "bayes":
        return DefaultBayes(gp_max)
    return optuna.samplers.RandomSampler()


# The worker processes.


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """Each study of the job in turn, its share of trials each; what the process did."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # One storage (one connection pool) for the process's studies, not one per study: at 32
    # processes the peer met PostgreSQL's "too many clients" (max_connections 100).
    storage = optuna.storages.RDBStorage(job["storage"])
    studies = [
        optuna.load_study(study_name=name, storage=storage, sampler=sampler(method, job["gp_max"]))
        for name, method, _ in job["studies"]
    ]
    dists: dict[str, BaseDistribution] = {
        name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in PARAMS
    }
    sessions = []
    print(READY, flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + job["seconds"]
    for study, (name, _, quota) in zip(studies, job["studies"], strict=True):
        session: dict[str, Any] = {"study": name, "start": time.monotonic(), "ask_ms": []}
        session |= {"trials": [], "errors": []}
        while len(session["trials"]) < quota and time.monotonic() < deadline:
            if len(session["errors"]) >= job["max_errors"]:
                break
            try:
                started = time.perf_counter()
                trial = study.ask(dists)
                session["ask_ms"].append((time.perf_counter() - started) * 1000)
                values = curve({name: trial.params[name] for name in PARAMS}, job["points"])
                for step, value in enumerate(values):
                    trial.report(value, step)
                study.tell(trial, values[-1])
            except Exception as error:  # noqa: BLE001 - counted and told, as the agents' are
                session["errors"].append(f"{type(error).__name__}: {str(error)[:200]}")
                continue
            session["trials"].append(trial.number)
        session["end"] = time.monotonic()
        sessions.append(session)
    return {"sessions": sessions}


# The parent's side.


@dataclass
class StudyLoad:
    """What the workers saw of one study, and what its storage holds afterwards."""

    name: str
    method: str
    cap: int
    seconds: float = 0.0
    trials: int = 0
    ask_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stored: int = 0
    lost: int = 0

    @property
    def rate(self) -> float:
        return self.trials / self.seconds if self.seconds else 0.0


@dataclass
class PeerLoad:
    studies: list[StudyLoad]
    seconds: float


def jobs(storage: str, caps: dict[str, int], agents: int, **common: Any) -> list[dict[str, Any]]:
    """Half the processes start on each study; each has its share of both studies."""
    methods = list(caps)
    result = []
    for i in range(agents):
        order = methods[i % 2 :] + methods[: i % 2]
        studies = []
        for method in order:
            share, extra = divmod(caps[method], agents)
            studies.append([f"load-{method}", method, share + (i < extra)])
        result.append({"storage": storage, "studies": studies, **common})
    return result


def run_peer(
    storage: str, caps: dict[str, int], agents: int, points: int, gp_max: int, seconds: float
) -> PeerLoad:
    """The load on Optuna's RDB storage at `storage`, checked study by study."""
    import subprocess

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for method in caps:
        optuna.create_study(storage=storage, study_name=f"load-{method}")
    common = {"points": points, "gp_max": gp_max, "seconds": seconds, "max_errors": 20}
    procs = [
        subprocess.Popen(
            [PYTHON, str(THIS), "--worker", json.dumps(job)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for job in jobs(storage, caps, agents, **common)
    ]
    results = [json.loads(line) for line in release_together(procs, seconds + 120)]
    studies = {method: StudyLoad(f"load-{method}", method, cap) for method, cap in caps.items()}
    spans: dict[str, list[float]] = {method: [] for method in caps}
    numbers: dict[str, list[int]] = {method: [] for method in caps}
    for session in (s for result in results for s in result["sessions"]):
        method = session["study"].removeprefix("load-")
        study = studies[method]
        study.ask_ms += session["ask_ms"]
        study.errors += session["errors"]
        spans[method] += [session["start"], session["end"]]
        numbers[method] += session["trials"]
    for method, study in studies.items():
        study.seconds = max(spans[method]) - min(spans[method])
        study.trials = len(numbers[method])
        if len(set(numbers[method])) != len(numbers[method]):
            study.problems.append("a trial number was handed to two processes")
        check(storage, study, points)
    every = [t for span in spans.values() for t in span]
    return PeerLoad(list(studies.values()), max(every) - min(every))


def check(storage: str, study: StudyLoad, points: int) -> None:
    """Each trial complete once, numbered 0..n-1, with its `points` intermediate values."""
    trials = optuna.load_study(study_name=study.name, storage=storage).get_trials(deepcopy=False)
    states = {t.state.name for t in trials}
    if len(trials) != study.cap or states - {"COMPLETE"}:
        study.problems.append(f"{len(trials)} trials ({sorted(states)}), {study.cap} asked for")
    if sorted(t.number for t in trials) != list(range(len(trials))):
        study.problems.append("trial numbers are not 0..n-1")
    for t in trials:
        values = curve({name: t.params[name] for name in PARAMS}, points)
        study.stored += len(t.intermediate_values)
        study.lost += sum(1 for step in range(points) if step not in t.intermediate_values)
        if any(t.intermediate_values.get(step, v) != v for step, v in enumerate(values)):
            study.problems.append(f"trial {t.number}: an intermediate value is wrong")
        if t.value != values[-1]:
            study.problems.append(f"trial {t.number}: value {t.value} is not its last point")
    if study.lost:
        study.problems.append(f"{study.lost} intermediate values lost")


def p50(times: list[float]) -> float:
    return statistics.median(times) if times else float("nan")


def p99(times: list[float]) -> float:
    return percentile(times, 0.99)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(RESULT + json.dumps(worker(json.loads(sys.argv[2]))), flush=True)
