"""The runs list's query: W&B's MongoDB-style `filters` and `order`, evaluated in the database.

`{"config.lr": {"$gt": 0.01}, "state": "finished"}` becomes one WHERE clause of Django
lookups that both SQLite and PostgreSQL run: column lookups for the run's own fields, an
EXISTS for tags, the `trial` relation (defined by sweeps) for the sweep, and JSON key
transforms for `config.*` and `summary_metrics.*`. Comparisons keep to MongoDB's rule that
only values of the same type compare (a string is never greater than a number), which
neither database's JSON ordering does by itself; negations ($ne, $nin, $not) also match
runs that lack the key, as MongoDB's do.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import (  # type: ignore[attr-defined]  # compile_json_path: not in the stubs
    KeyTransform,
    compile_json_path,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from runs.models import Run, RunState, RunTag
from sweeptracker import limits
from sweeptracker.list_filters import ListFilter, ListFilters

COMPARISONS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
OPERATORS = {"$eq", "$ne", *COMPARISONS, "$in", "$nin", "$regex", "$exists", "$not"}
LOGICAL = {"$and", "$or"}
ALIASES = {"display_name": "name", "jobType": "job_type", "createdAt": "created_at"}
TEXT_COLUMNS = {"state", "name", "group", "job_type"}
FIELDS = [*sorted(TEXT_COLUMNS), "tags", "sweep", "created_at", "config.<key>"]
FIELDS += ["summary_metrics.<key>"]
ORDER_COLUMNS = {"created_at", "name", "state", "group", "job_type"}
JSON_ROOTS = {"config": "config", "summary_metrics": "summary"}
# A list an $in may hold, and a regex's length: enough for any script, not for a flood.
MAX_LIST = 1000
MAX_PATTERN = 1000


class FilterError(ValueError):
    """A query the list cannot run; `errors` maps where (`filters.config.lr.$foo`) to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors.items()))
        self.errors = errors


# The runs list's plain query parameters, for the API and the runs page (which reads them
# leniently); `filters` and `order` below are W&B's richer language, for the API.
RUN_LIST = ListFilters(
    ListFilter("project", "project__slug", description="Project slug"),
    ListFilter.of("state", "state", RunState.values),
    # (run, name) is unique, so this join never repeats a run.
    ListFilter("tag", "tags__name"),
    ListFilter("search", "name__icontains", description="Part of the run name"),
    ListFilter("group", "group", description="Runs of this group"),
    ListFilter("job_type", "job_type", description="Runs of this job type"),
    ListFilter("sweep", "trial__sweep_id", description="Runs of this sweep (its id)"),
)


def filter_runs(runs: QuerySet[Run], params: Mapping[str, str]) -> QuerySet[Run]:
    """`runs` narrowed and ordered as the list's query parameters ask."""
    if problems := RUN_LIST.problems(params):
        raise FilterError(dict(problems))
    runs = RUN_LIST.apply(runs, RUN_LIST.read(params))
    if params.get("filters"):
        condition, aliases = parse_filters(params["filters"])
        runs = runs.alias(**aliases).filter(condition)
    return runs.order_by(*order_by(params.get("order") or "-created_at"))


# Filters -------------------------------------------------------------------------


# JSON keys are compared through query aliases (`_json_0__gt=1`): a lookup then gets its
# value encoded for the database as Django does for `config__lr__gt=1`, while the key is
# never parsed from a lookup string (where "in" or "a__b" would be read as lookups).
Aliases = dict[str, KeyTransform]


def parse_filters(text: str) -> tuple[Q, Aliases]:
    """The condition a `filters` JSON object stands for, and the aliases it uses."""
    if limits.text_too_deep(text):
        raise FilterError({"filters": limits.json_depth_message()})
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FilterError({"filters": f"is not valid JSON: {error}"}) from error
    if not isinstance(document, dict):
        raise FilterError({"filters": "must be a JSON object of field to condition"})
    aliases: Aliases = {}
    return _document(document, "filters", aliases), aliases


def _document(document: dict[str, Any], path: str, aliases: Aliases) -> Q:
    condition = Q()
    for key, value in document.items():
        where = f"{path}.{key}"
        if key in LOGICAL:
            parts = _documents(value, where, aliases)
            if key == "$and":
                condition &= _all(parts)
            else:
                condition &= _any(parts)
        elif key.startswith("$"):
            raise FilterError({where: f"unknown operator {key!r} here; use $and or $or"})
        else:
            condition &= _condition(target(key, where, aliases), value, where)
    return condition


def _documents(value: Any, path: str, aliases: Aliases) -> list[Q]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise FilterError({path: "must be a non-empty list of filter objects"})
    return [_document(item, f"{path}[{i}]", aliases) for i, item in enumerate(value)]


def _all(parts: list[Q]) -> Q:
    result = Q()
    for part in parts:
        result &= part
    return result


def _any(parts: list[Q]) -> Q:
    result = parts[0]
    for part in parts[1:]:
        result |= part
    return result


def _condition(field: Target, value: Any, path: str) -> Q:
    """A field's condition: {"$op": operand, ...} (all must hold), or a bare value ($eq)."""
    if not (isinstance(value, dict) and any(str(key).startswith("$") for key in value)):
        return field.eq(value, path)
    result = Q()
    for op, operand in value.items():
        result &= _operator(field, op, operand, f"{path}.{op}")
    return result


def _operator(field: Target, op: str, operand: Any, path: str) -> Q:
    if op not in OPERATORS:
        known = ", ".join(sorted(OPERATORS))
        raise FilterError({path: f"unknown operator {op!r}; the operators are {known}"})
    if op == "$eq":
        return field.eq(operand, path)
    if op == "$ne":
        return negate(field.eq(operand, path))
    if op in COMPARISONS:
        return field.compare(COMPARISONS[op], operand, path)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list) or len(operand) > MAX_LIST:
            raise FilterError({path: f"must be a list of at most {MAX_LIST} values"})
        matches = field.any_of(operand, path) if operand else Q(pk__in=[])
        return matches if op == "$in" else negate(matches)
    if op == "$regex":
        return field.regex(_pattern(operand, path), path)
    if op == "$exists":
        if not isinstance(operand, bool):
            raise FilterError({path: "must be true or false"})
        return field.exists(operand)
    # $not: the opposite of an operator object, as MongoDB's.
    if not isinstance(operand, dict) or not operand:
        raise FilterError({path: 'must be an operator object, e.g. {"$gt": 1}'})
    return negate(_condition(field, operand, path))


def negate(condition: Q) -> Q:
    """NOT `condition`, where unknown (SQL NULL: a missing key) counts as false first."""
    return ~Q(Case(When(condition, then=Value(True)), default=Value(False)))


def _pattern(operand: Any, path: str) -> str:
    if not isinstance(operand, str) or len(operand) > MAX_PATTERN:
        raise FilterError({path: f"must be a regular expression of at most {MAX_PATTERN} chars"})
    try:
        re.compile(operand)
    except re.error as error:
        raise FilterError({path: f"is not a valid regular expression: {error}"}) from error
    return operand


# Fields --------------------------------------------------------------------------


class Target(ABC):
    """A field the filters may name; each answers the operators that make sense for it."""

    name = ""

    @abstractmethod
    def eq(self, value: Any, path: str) -> Q:
        """The condition `field == value`; every field has one."""

    def any_of(self, values: list[Any], path: str) -> Q:
        return _any([self.eq(value, path) for value in values])

    def compare(self, lookup: str, value: Any, path: str) -> Q:
        raise FilterError({path: f"{self.name} cannot be compared with <, >, <= or >="})

    def regex(self, pattern: str, path: str) -> Q:
        raise FilterError({path: f"{self.name} cannot be matched with $regex"})

    def exists(self, present: bool) -> Q:
        return Q() if present else Q(pk__in=[])


def target(name: str, path: str, aliases: Aliases) -> Target:
    """The field a filter key names; FilterError for one the runs do not have."""
    name = ALIASES.get(name, name)
    if name in TEXT_COLUMNS:
        return TextColumn(name)
    if name == "created_at":
        return DateColumn(name)
    if name == "tags":
        return Tags()
    if name == "sweep":
        return SweepOf()
    root, _, rest = name.partition(".")
    if root in JSON_ROOTS and rest:
        return JSONKey(name, JSON_ROOTS[root], json_keys(root, rest, path), aliases)
    known = ", ".join(FIELDS)
    raise FilterError({path: f"unknown field {name!r}; the fields are {known}"})


def json_keys(root: str, rest: str, path: str) -> list[str]:
    """`model.layers` as ["model", "layers"]; W&B's `config.lr.value` form drops the "value"."""
    keys = rest.split(".")
    if not all(keys):
        raise FilterError({path: "names an empty key (two dots in a row, or a trailing dot)"})
    if root == "config" and len(keys) > 1 and keys[1] == "value":
        del keys[1]
    return keys


class TextColumn(Target):
    def __init__(self, name: str) -> None:
        self.name = name

    def _text(self, value: Any, path: str) -> str:
        if value is None and self.name in ("group", "job_type"):
            return ""  # unset is stored blank
        if not isinstance(value, str):
            raise FilterError({path: f"{self.name} is text; compare it with a string"})
        return value

    def eq(self, value: Any, path: str) -> Q:
        return Q(**{self.name: self._text(value, path)})

    def any_of(self, values: list[Any], path: str) -> Q:
        return Q(**{f"{self.name}__in": [self._text(value, path) for value in values]})

    def compare(self, lookup: str, value: Any, path: str) -> Q:
        return Q(**{f"{self.name}__{lookup}": self._text(value, path)})

    def regex(self, pattern: str, path: str) -> Q:
        return Q(**{f"{self.name}__regex": pattern})

    def exists(self, present: bool) -> Q:
        blank = Q(**{self.name: ""})
        return ~blank if present else blank


class DateColumn(Target):
    def __init__(self, name: str) -> None:
        self.name = name

    def _when(self, value: Any, path: str) -> datetime:
        parsed = None
        if isinstance(value, str):
            day = parse_date(value) if len(value) == 10 else None
            parsed = datetime.combine(day, time()) if day else parse_datetime(value)
        if parsed is None:
            raise FilterError({path: f"must be an ISO 8601 date or time, not {value!r}"})
        return timezone.make_aware(parsed, UTC) if timezone.is_naive(parsed) else parsed

    def eq(self, value: Any, path: str) -> Q:
        return Q(**{self.name: self._when(value, path)})

    def compare(self, lookup: str, value: Any, path: str) -> Q:
        return Q(**{f"{self.name}__{lookup}": self._when(value, path)})


class Tags(Target):
    """`tags` holds a list: a value means "has this tag", as in MongoDB."""

    name = "tags"

    def _has(self, condition: Q) -> Q:
        return Q(Exists(RunTag.objects.filter(condition, run=OuterRef("pk"))))

    def _tag(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise FilterError({path: "tags are strings; use $in for several"})
        return value

    def eq(self, value: Any, path: str) -> Q:
        return self._has(Q(name=self._tag(value, path)))

    def any_of(self, values: list[Any], path: str) -> Q:
        return self._has(Q(name__in=[self._tag(value, path) for value in values]))

    def regex(self, pattern: str, path: str) -> Q:
        return self._has(Q(name__regex=pattern))

    def exists(self, present: bool) -> Q:
        any_tag = self._has(Q())
        return any_tag if present else ~any_tag


class SweepOf(Target):
    """The sweep a run is a trial of, through the `trial` relation the sweeps app defines."""

    name = "sweep"

    def _id(self, value: Any, path: str) -> str | None:
        if value is not None and not isinstance(value, str):
            raise FilterError({path: "a sweep id is a string"})
        return value

    def eq(self, value: Any, path: str) -> Q:
        sweep_id = self._id(value, path)
        return Q(trial__isnull=True) if sweep_id is None else Q(trial__sweep_id=sweep_id)

    def regex(self, pattern: str, path: str) -> Q:
        return Q(trial__sweep_id__regex=pattern)

    def exists(self, present: bool) -> Q:
        return Q(trial__isnull=not present)


class JSONTypeIs(Func):
    """Whether a JSON key holds a number or a string: SQLite's JSON_TYPE or PostgreSQL's
    jsonb_typeof, named differently by each, so that comparisons stay within a type."""

    output_field = BooleanField()
    SQLITE = {"number": "('integer', 'real')", "string": "('text')"}

    def __init__(self, key: KeyTransform, kind: str) -> None:
        super().__init__(key)
        self.kind = kind

    def _parts(self, compiler: Any, connection: Any) -> tuple[str, list[Any], list[str]]:
        # KeyTransform.preprocess_lhs (not in Django's stubs) gives the column and the key path.
        key: Any = self.source_expressions[0]
        lhs, params, keys = key.preprocess_lhs(compiler, connection)
        return lhs, list(params), keys

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        lhs, params, keys = self._parts(compiler, connection)
        return f"JSON_TYPE({lhs}, %s) IN {self.SQLITE[self.kind]}", [
            *params,
            compile_json_path(keys),
        ]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        lhs, params, keys = self._parts(compiler, connection)
        return f"jsonb_typeof({lhs} #> %s) = %s", [*params, keys, self.kind]


class JSONKey(Target):
    """A key of the run's config or summary, at any depth."""

    def __init__(
        self, name: str, column: str, keys: list[str], aliases: Aliases | None = None
    ) -> None:
        self.name, self.column, self.keys = name, column, keys
        self.aliases = {} if aliases is None else aliases

    def transform(self) -> KeyTransform:
        expression = KeyTransform(self.keys[0], self.column)
        for key in self.keys[1:]:
            expression = KeyTransform(key, expression)
        return expression

    def _lookup(self, lookup: str, value: Any) -> Q:
        alias = f"_json_{len(self.aliases)}"
        self.aliases[alias] = self.transform()
        return Q(**{f"{alias}__{lookup}": value})

    def _typed(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise FilterError({path: "compare with a number or a string"})
        return "string" if isinstance(value, str) else "number"

    def eq(self, value: Any, path: str) -> Q:
        if isinstance(value, bool | int | float | str) or value is None:
            return self._lookup("exact", value)
        raise FilterError({path: "compare with a number, string, boolean or null"})

    def compare(self, lookup: str, value: Any, path: str) -> Q:
        kind = self._typed(value, path)
        return Q(JSONTypeIs(self.transform(), kind)) & self._lookup(lookup, value)

    def regex(self, pattern: str, path: str) -> Q:
        return Q(JSONTypeIs(self.transform(), "string")) & self._lookup("regex", pattern)

    def exists(self, present: bool) -> Q:
        return self._lookup("isnull", not present)


# Order ---------------------------------------------------------------------------


def order_by(order: str) -> list[OrderBy]:
    """W&B's order string (`-created_at`, `+config.lr`, `summary_metrics.loss`) as ORDER BY;
    runs lacking the key go last either way, and the run's pk breaks ties the same way."""
    descending = order.startswith("-")
    name = ALIASES.get(order.lstrip("+-"), order.lstrip("+-"))
    root, _, rest = name.partition(".")
    expression: F | KeyTransform
    if name in ORDER_COLUMNS:
        expression = F(name)
    elif root in JSON_ROOTS and rest:
        expression = JSONKey(name, JSON_ROOTS[root], json_keys(root, rest, "order")).transform()
    else:
        known = ", ".join([*sorted(ORDER_COLUMNS), "config.<key>", "summary_metrics.<key>"])
        raise FilterError({"order": f"cannot order by {name!r}; use one of {known}"})
    return [
        OrderBy(expression, descending=descending, nulls_last=True),
        OrderBy(F("pk"), descending=descending),
    ]
