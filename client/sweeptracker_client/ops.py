"""The requests that carry a run's data, as plain dicts: the sender queues them, the
spool file stores them one a line, and `sweeptracker sync` replays them.

    {"rows": [{"step", "time", "values"}], "summary": {...}, "metrics": {...}}
                                                              -> POST runs/{id}/log/
    {"patch": {"config": {...}} or {"summary": {...}}}        -> PATCH runs/{id}/
    {"finish": {"exit_code": n, "state"?: "killed"}}          -> POST runs/{id}/finish/

Everything in an op is already in wire form (non-finite numbers as strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sweeptracker_client.api import Api

Op = dict[str, Any]


@dataclass
class Delivered:
    """What the server answered to an op."""

    stored: int = 0
    should_stop: bool | None = None


def log_op(
    rows: list[dict[str, Any]], summary: dict[str, Any], metrics: dict[str, Any] | None = None
) -> Op:
    """Rows, summary updates and define_metric definitions for one log request."""
    op: Op = {"rows": rows}
    if summary:
        op["summary"] = summary
    if metrics:
        op["metrics"] = metrics
    return op


def patch_op(fields: dict[str, Any]) -> Op:
    """A change to the run's config or whole summary."""
    return {"patch": fields}


def finish_op(exit_code: int | None, state: str | None = None) -> Op:
    """The end of the run; `state` names a final state other than the exit code's (killed)."""
    finish: dict[str, Any] = {"exit_code": exit_code}
    if state is not None:
        finish["state"] = state
    return {"finish": finish}


def row_count(op: Op) -> int:
    """How many metric rows the op carries."""
    return len(op.get("rows", ()))


def send(api: Api, run_id: int | str, op: Op, timeout: float | None = None) -> Delivered:
    """Make the op's request; SweepTrackerError when it fails."""
    if "finish" in op:
        finish = op["finish"]
        exit_code = finish.get("exit_code", 0)
        api.finish_run(
            run_id,
            None if exit_code is None else int(exit_code),
            timeout=timeout,
            state=finish.get("state"),
        )
        return Delivered()
    if "patch" in op:
        api.update_run(run_id, op["patch"], timeout=timeout)
        return Delivered()
    batch = {k: op[k] for k in ("rows", "summary", "metrics") if k in op}
    answer = api.log(run_id, batch, timeout, final=bool(op.get("final")))
    return Delivered(stored=answer.stored, should_stop=answer.should_stop)
