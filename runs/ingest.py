"""Log batches: check every row, then store the points once each, whatever is resent."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from runs.metric_definitions import (
    DefinitionError,
    merge_definitions,
    parse_metric_definitions,
)
from runs.models import MetricPoint, Run
from runs.signals import points_logged
from runs.values import json_safe, to_float
from sweeptracker import limits

MAX_KEY_LENGTH = 255
# The largest step a BigIntegerField holds.
MAX_STEP = 2**63 - 1
# Rows per INSERT statement on SQLite: 5 parameters each stays far below its limit.
INSERT_CHUNK = 1000
# Integers beyond this lose digits as a float; past 2**1024 float() cannot hold them at all.
MAX_INT_VALUE = 2**1023
BATCH_FIELDS = {"rows", "summary", "metrics"}


class BatchError(ValueError):
    """A batch that cannot be stored; `errors` maps a path to what is wrong there."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors.items()))
        self.errors = errors


class Point(NamedTuple):
    """One value to store. A NamedTuple: a batch makes up to 50,000 of them, and a frozen
    dataclass took ~1 µs each to build, four times as long."""

    key: str
    step: int
    value: float
    wall_time: float


@dataclass
class LogResult:
    stored: int
    # Whether the answer tells the run to stop (the wire's `should_stop`): it ended, or a
    # listener (early termination) pruned it.
    stop_run: bool


class ParsedRows(NamedTuple):
    points: list[Point]
    # Keys with an int (or bool) value in the batch: history gives those back as ints.
    int_keys: set[str]


def parse_rows(rows: Any) -> ParsedRows:
    """The points of `rows` ([{"step", "time", "values"}]); BatchError names every bad one."""
    if not isinstance(rows, list):
        raise BatchError({"rows": "must be a list of {step, time, values} objects"})
    errors: dict[str, str] = {}
    points: list[Point] = []
    int_keys: set[str] = set()
    now = time.time()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[f"rows[{i}]"] = "must be an object with step, time and values"
            continue
        # Any until checked just below: a client may send anything.
        step: Any = row.get("step")
        wall_time, values = row.get("time", now), row.get("values")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEP:
            errors[f"rows[{i}].step"] = f"must be a whole number from 0 to {MAX_STEP}, not {step!r}"
        if not isinstance(wall_time, int | float) or isinstance(wall_time, bool):
            errors[f"rows[{i}].time"] = f"must be unix seconds, not {wall_time!r}"
        else:
            wall_time = float(wall_time)
        if not isinstance(values, dict):
            errors[f"rows[{i}].values"] = "must be an object of metric name to number"
            continue
        for key, raw in values.items():
            # The common case first, cheaply: the error paths are built only on an error.
            if type(raw) is float and key and len(key) <= MAX_KEY_LENGTH:
                if not errors:
                    points.append(Point(key, step, raw, wall_time))
                continue
            # Ints (epochs, counters) next: remembered by key so history gives them back.
            if type(raw) is int and key and len(key) <= MAX_KEY_LENGTH and abs(raw) < MAX_INT_VALUE:
                int_keys.add(key)
                if not errors:
                    points.append(Point(key, step, float(raw), wall_time))
                continue
            path = f"rows[{i}].values.{key}"
            if not key or len(key) > MAX_KEY_LENGTH:
                errors[path] = f"metric names must have 1 to {MAX_KEY_LENGTH} characters"
                continue
            if isinstance(raw, int) and not -MAX_INT_VALUE < raw < MAX_INT_VALUE:
                errors[path] = f"metric {key!r} is too large an integer to store"
                continue
            try:
                value = to_float(raw)
            except ValueError:
                errors[path] = f"metric {key!r} must be a number, not {raw!r}"
                continue
            if isinstance(raw, int):  # bools too: they are stored as 0 and 1
                int_keys.add(key)
            if not errors:
                points.append(Point(key, step, value, wall_time))
    if len(points) > settings.MAX_POINTS_PER_BATCH:
        errors["rows"] = f"at most {settings.MAX_POINTS_PER_BATCH} points per batch"
    if errors:
        raise BatchError(errors)
    return ParsedRows(points, int_keys)


def parse_summary(summary: Any) -> dict[str, Any]:
    if summary is None:
        return {}
    if not isinstance(summary, dict):
        raise BatchError({"summary": "must be an object of key to value"})
    if (found := limits.long_string_path(summary, path="summary")) is not None:
        raise BatchError({found: limits.string_length_message()})
    safe: dict[str, Any] = json_safe(summary)
    return safe


def log_batch(run: Run, payload: Any, final: bool = False) -> LogResult:
    """Store a batch of rows, summary updates and metric definitions for `run`, all or nothing.

    `final`: the client sent it after the run's script had ended, so the script cannot
    see a stop its answer brings; the receivers of `points_logged` are told."""
    if not isinstance(payload, dict):
        raise BatchError({"body": "must be an object with rows, summary and/or metrics"})
    unknown = set(payload) - BATCH_FIELDS
    if unknown:
        raise BatchError(
            {key: "unknown field; a batch has rows, summary and metrics" for key in unknown}
        )
    points, int_keys = parse_rows(payload.get("rows", []))
    summary = parse_summary(payload.get("summary"))
    try:
        metrics = parse_metric_definitions(payload.get("metrics"))
    except DefinitionError as error:
        raise BatchError(error.errors) from error
    with transaction.atomic():
        stored = insert_points(run.pk, points)
        if summary or _news(run, int_keys, metrics):
            _update_run(run, summary, int_keys, metrics)
        run.touch_heartbeat()
    # Receivers answer anything; Django's stubs say str | None.
    answers: list[tuple[Any, Any]] = (
        points_logged.send(sender=Run, run=run, points=points, final=final) if points else []
    )
    stop_run = not run.is_running or any(answer is True for _, answer in answers)
    return LogResult(stored=stored, stop_run=stop_run)


def _news(run: Run, int_keys: set[str], metrics: dict[str, dict[str, Any]]) -> bool:
    """Whether the batch tells the run something it did not know (most batches do not)."""
    if not int_keys.issubset(run.int_keys):
        return True
    known = run.metric_definitions
    return any(known.get(name) != {**known.get(name, {}), **spec} for name, spec in metrics.items())


def _update_run(
    run: Run, summary: dict[str, Any], int_keys: set[str], metrics: dict[str, dict[str, Any]]
) -> None:
    """Merge what the batch adds into the run's row, locked against a concurrent batch."""
    fields = ["summary", "int_keys", "metric_definitions"]
    locked = Run.objects.select_for_update().only(*fields).get(pk=run.pk)
    run.summary = {**locked.summary, **summary}
    run.int_keys = sorted({*locked.int_keys, *int_keys})
    run.metric_definitions = merge_definitions(locked.metric_definitions, metrics)
    Run.objects.filter(pk=run.pk).update(**{field: getattr(run, field) for field in fields})


def insert_points(run_id: int, points: list[Point]) -> int:
    """Insert the points that are new and return how many were; repeats change nothing."""
    if not points:
        return 0
    if connection.vendor == "postgresql":
        return _copy_points(run_id, points)
    return _insert_points(run_id, points)


def _copy_points(run_id: int, points: list[Point]) -> int:
    """PostgreSQL: a batch of new points goes in by binary COPY, anything else by upsert.

    A multi-row VALUES insert spent most of a batch in psycopg, rendering 5,000
    placeholders per statement; ON CONFLICT's speculative insertion cost a third
    of the database's time. COPY has neither, but fails on a point stored before,
    so it is tried only when no stored point can be in the batch, and in a
    savepoint: a concurrent resend of the same batch, or a batch that repeats a
    point, makes it fail and the upsert take over.
    """
    if _may_be_stored(run_id, points):
        return _upsert_points(run_id, points)
    table = MetricPoint._meta.db_table
    sql = f"COPY {table} (run_id, key, step, value, wall_time) FROM STDIN (FORMAT BINARY)"
    try:
        # psycopg's own cursor, as Django's wrapper has no copy(); wrap_database_errors
        # turns its errors into Django's, as the wrapper would.
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            copy.set_types(["int8", "text", "int8", "float8", "float8"])
            for p in points:
                copy.write_row((run_id, p.key, p.step, _stored(p.value), p.wall_time))
    except IntegrityError:
        return _upsert_points(run_id, points)
    return len(points)


def _may_be_stored(run_id: int, points: list[Point]) -> bool:
    """Whether the run has a point with one of the batch's keys in its range of steps.

    The unique index on (run, key, step) answers this with one probe per key.
    """
    keys = list({p.key for p in points})
    steps = [p.step for p in points]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {MetricPoint._meta.db_table} WHERE run_id = %s "
            "AND key = ANY(%s) AND step BETWEEN %s AND %s LIMIT 1",
            [run_id, keys, min(steps), max(steps)],
        )
        return cursor.fetchone() is not None


def _upsert_points(run_id: int, points: list[Point]) -> int:
    """PostgreSQL: the points as four arrays in one INSERT … ON CONFLICT DO NOTHING."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MetricPoint._meta.db_table} (run_id, key, step, value, wall_time) "
            "SELECT %s, * FROM unnest(%s::text[], %s::bigint[], %s::float8[], %s::float8[]) "
            "ON CONFLICT (run_id, key, step) DO NOTHING",
            [
                run_id,
                [p.key for p in points],
                [p.step for p in points],
                [_stored(p.value) for p in points],
                [p.wall_time for p in points],
            ],
        )
        stored: int = cursor.rowcount
        return stored


def _insert_points(run_id: int, points: list[Point]) -> int:
    """SQLite: multi-row INSERT … ON CONFLICT DO NOTHING, INSERT_CHUNK rows at a time."""
    table = MetricPoint._meta.db_table
    stored = 0
    with connection.cursor() as cursor:
        for start in range(0, len(points), INSERT_CHUNK):
            chunk = points[start : start + INSERT_CHUNK]
            placeholders = ",".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for p in chunk:
                params += [run_id, p.key, p.step, _stored(p.value), p.wall_time]
            cursor.execute(
                f"INSERT INTO {table} (run_id, key, step, value, wall_time) "
                f"VALUES {placeholders} ON CONFLICT (run_id, key, step) DO NOTHING",
                params,
            )
            stored += cursor.rowcount
    return stored


def _stored(value: float) -> float | None:
    return None if math.isnan(value) else value
