"""Which parameters matter: fANOVA and PED-ANOVA scores, and each parameter's correlation.

The scores come from Optuna (through sweeps.sampling, the only module that imports it);
the correlation is W&B's: Pearson's r between a parameter and the metric, over the
complete trials. Both are for the sweep's first metric.

A result is kept on the sweep row for the sweep's `version` (bumped by
`sweeps.state_machine` at every change of a sweep's or a trial's state). `stored` only
reads it; `cached_or_compute` is the one function that writes it, from GET requests.
Several gunicorn workers serve the pages, so the database decides who computes a
version: the request whose conditional UPDATE moves `importance_version` to the new
version computes it; every other request meanwhile gets the stored result of an earlier
version, marked stale. A claim whose computation died (a killed worker) is taken over
after CLAIM_TIMEOUT.

A computation that took long (a large sweep: fANOVA's forest) is not repeated for every
trial that ends: the stored result stands, marked stale, until REFRESH_FACTOR times its
computing time has passed, so importance takes at most about a tenth of one worker's time
however fast the trials end. A quick one (under FRESH_BELOW seconds) is always redone.
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from sweeps import sampling
from sweeps.config import SweepConfig
from sweeps.models import Sweep, Trial, TrialState
from sweeps.plot_data import axes_of

logger = logging.getLogger(__name__)

# Fewer complete trials than this give a forest, a quantile and a correlation of noise.
MIN_TRIALS = 10
# fANOVA's time grows faster than linearly with the trials, and building Optuna's trials
# for PED-ANOVA took 1.5 s at 10,000: past this many, both read an evenly spaced sample
# (by trial number, so the same trials give the same sample). Correlation reads them all.
SAMPLE_TRIALS = 1000
CLAIM_TIMEOUT = timedelta(minutes=5)
FRESH_BELOW = 0.1
REFRESH_FACTOR = 10
METHODS = {"fanova": "fANOVA", "ped_anova": "PED-ANOVA"}
CORRELATION = "Pearson"


def stored(sweep: Sweep) -> dict[str, Any] | None:
    """The importance kept on the sweep row, without computing anything.

    None before any was computed; `stale` is true when trials ended since.
    """
    result = sweep.importance
    if not isinstance(result, dict) or "version" not in result:
        return None  # none yet, or only a claim, or a result of an older format
    return {key: value for key, value in result.items() if key != "claimed_at"} | {
        "stale": result["version"] != sweep.version
    }


def cached_or_compute(sweep: Sweep) -> dict[str, Any] | None:
    """The importance for the sweep's current version, computed by at most one request.

    This WRITES the sweep row (the claim, then the result), though its callers are GET
    requests (the importance tab, the overview, `stats/`): the one place a read stores.
    The request that wins the claim computes and stores it; any other request
    meanwhile gets the earlier stored result (stale), or None when there is none.
    """
    current = stored(sweep)
    if current is not None and not (current["stale"] and _due(current)):
        return current
    if not _claim(sweep):
        return current
    started = time.perf_counter()
    try:
        result = compute(sweep)
    except Exception:
        # A failed computation must not fail the page; it is tried again at the next version.
        logger.exception("Importance of sweep %s failed", sweep.pk)
        result = {"error": "The importance could not be computed; see the server log."}
    result |= {
        "version": sweep.version,
        "seconds": round(time.perf_counter() - started, 3),
        "computed_at": timezone.now().isoformat(),
    }
    Sweep.objects.filter(pk=sweep.pk, importance_version=sweep.version).update(importance=result)
    sweep.importance, sweep.importance_version = result, sweep.version
    return result | {"stale": False}


def _due(result: dict[str, Any]) -> bool:
    """Whether a stale result is to be computed again now (see the module's docstring)."""
    spent = float(result.get("seconds") or 0.0)
    if spent < FRESH_BELOW:
        return True
    try:
        age = timezone.now() - datetime.fromisoformat(result["computed_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return age.total_seconds() >= spent * REFRESH_FACTOR


def _claim(sweep: Sweep) -> bool:
    """Take the computation of the sweep's version; False when another request has it."""
    now = timezone.now()
    previous = sweep.importance if isinstance(sweep.importance, dict) else {}
    rows = Sweep.objects.filter(pk=sweep.pk)
    if sweep.importance_version == sweep.version:
        claimed_at = previous.get("claimed_at")
        if previous.get("version") == sweep.version or not _expired(claimed_at, now):
            return False
        # The claimant died: take over its claim, and only that claim.
        rows = rows.filter(importance_version=sweep.version, importance__claimed_at=claimed_at)
    else:
        rows = rows.filter(importance_version=sweep.importance_version)
    claim = previous | {"claimed_at": now.isoformat()}
    won = rows.update(importance_version=sweep.version, importance=claim) == 1
    if won:
        sweep.importance, sweep.importance_version = claim, sweep.version
    return won


def _expired(claimed_at: Any, now: datetime) -> bool:
    try:
        return now - datetime.fromisoformat(claimed_at) > CLAIM_TIMEOUT
    except (TypeError, ValueError):
        return True


def compute(sweep: Sweep) -> dict[str, Any]:
    """fANOVA, PED-ANOVA and correlations over the sweep's complete trials (first metric)."""
    config = SweepConfig.from_dict(sweep.config)
    metric = config.metrics[0] if config.metrics else None
    stored = list(
        Trial.objects.filter(sweep=sweep, state=TrialState.COMPLETE, value__isnull=False)
        .order_by("number")
        .values_list("params", "internal", "value")
    )
    rows: list[tuple[dict[str, Any], Any, float]] = [
        (params, internal, value)
        for params, internal, value in stored
        if value is not None and math.isfinite(value)
    ]
    result: dict[str, Any] = {
        "metric": metric.name if metric else "",
        "goal": metric.goal if metric else "",
        "trials": len(rows),
        "min_trials": MIN_TRIALS,
        "needed": max(MIN_TRIALS - len(rows), 0),
    }
    if metric is None or result["needed"] or not axes_of(config):
        return result | _named({}, {}, [], 0)
    seed = sweep.seed % 2**31
    sample = [(internal, value) for _, internal, value in subsample(rows, SAMPLE_TRIALS)]
    fanova = sampling.param_importances(config, sample, "fanova", seed)
    ped = sampling.param_importances(config, sample, "ped_anova", seed)
    return result | _named(fanova, ped, correlations(config, rows), len(sample))


def _named(
    fanova: dict[str, float], ped: dict[str, float], correlation: list[Any], sampled: int
) -> dict[str, Any]:
    return {
        # The first method's scores also at the top, where the charts read them.
        "evaluator": METHODS["fanova"],
        "importances": fanova,
        "fanova": {"method": METHODS["fanova"], "trials": sampled, "importances": fanova},
        "ped_anova": {"method": METHODS["ped_anova"], "trials": sampled, "importances": ped},
        "correlation": {"method": CORRELATION, "correlations": correlation},
    }


def subsample(rows: list[Any], limit: int) -> list[Any]:
    """At most `limit` rows, evenly spaced, always the same ones for the same rows."""
    if len(rows) <= limit:
        return rows
    picks = np.unique(np.linspace(0, len(rows) - 1, limit).round().astype(int))
    return [rows[i] for i in picks]


def correlations(
    config: SweepConfig, rows: list[tuple[dict[str, Any], Any, float]]
) -> list[dict[str, Any]]:
    """Pearson's r of each parameter with the metric, as W&B's importance panel shows it.

    A numeric parameter is correlated on its chart axis (log10 of the value for a
    log-scale distribution, where the raw values would let the top decade rule);
    a categorical one with numbers for values on those numbers; any other
    categorical one, as W&B does, one value at a time (1 for trials that had it,
    0 for the others). None where a column does not vary.
    """
    metric = np.array([value for _, _, value in rows], dtype=float)
    found: list[dict[str, Any]] = []
    for axis in axes_of(config):
        values = [params.get(axis.name) for params, _, _ in rows]
        if axis.kind != "categorical" or _all_numbers(values):
            position = axis.position if axis.kind != "categorical" else _number
            column = [position(v) for v in values]
            found.append({"parameter": axis.name, "value": None, "r": _pearson(column, metric)})
            continue
        for label, key in zip(axis.labels, axis.keys, strict=True):
            column = [float(json.dumps(v, sort_keys=True) == key) for v in values]
            found.append({"parameter": axis.name, "value": label, "r": _pearson(column, metric)})
    return found


def _all_numbers(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _number(value: Any) -> float | None:
    return float(value) if _all_numbers([value]) and math.isfinite(value) else None


def _pearson(column: list[float | None], metric: np.ndarray) -> float | None:
    placed = np.array([c is not None for c in column])
    if placed.sum() < 3:
        return None
    x = np.array([c for c in column if c is not None], dtype=float)
    y = metric[placed]
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return round(float(np.corrcoef(x, y)[0, 1]), 4)
