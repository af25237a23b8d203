"""The query parameters of a list, declared once: each narrows by one ORM lookup, and those
with choices take only them.

The API reads a list's filters strictly (`ListFilters.values`: an unknown choice is a 400
naming the valid ones); a page reads the same declaration leniently (`ListFilters.read`
drops what it does not know, so the page shows everything). The schema's query parameters
come from the declaration too (`parameters`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter

from sweeptracker.errors import Invalid, Problem

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ListFilter:
    """One query parameter: `name`, the lookup it narrows by, and its allowed values.

    `choices` maps each allowed value to what the lookup compares with (the value itself
    for a plain list); empty means any text.
    """

    name: str
    lookup: str
    choices: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def of(cls, name: str, lookup: str, choices: Any = (), description: str = "") -> ListFilter:
        """A filter whose choices are given as a list (values compared as they are)."""
        return cls(name, lookup, {value: value for value in choices}, description)

    def problem(self, value: str) -> str | None:
        if not self.choices or value in self.choices:
            return None
        return f"Unknown {self.name} {value!r}; use one of: {', '.join(self.choices)}."

    def condition(self, value: str) -> dict[str, Any]:
        return {self.lookup: self.choices[value] if self.choices else value}


class ListFilters:
    """A list's filters in the order they are declared."""

    def __init__(self, *filters: ListFilter) -> None:
        self.filters = {f.name: f for f in filters}

    def read(self, query: Mapping[str, str], strip: bool = False) -> dict[str, str]:
        """The filters the query sets, leniently: unknown choices and empty values dropped."""
        found = {}
        for name, spec in self.filters.items():
            value = query.get(name) or ""
            value = value.strip() if strip else value
            if value and spec.problem(value) is None:
                found[name] = value
        return found

    def problems(self, query: Mapping[str, str]) -> list[Problem]:
        """(name, why) for each set filter whose value is not one of its choices."""
        found = []
        for name, spec in self.filters.items():
            value = query.get(name) or ""
            if value and (why := spec.problem(value)):
                found.append((name, why))
        return found

    def values(self, query: Mapping[str, str]) -> dict[str, str]:
        """The filters the query sets; Invalid (400) naming the valid choices otherwise."""
        if problems := self.problems(query):
            raise Invalid(problems)
        return self.read(query)

    def apply(self, rows: QuerySet[M], values: Mapping[str, str]) -> QuerySet[M]:
        for name, value in values.items():
            rows = rows.filter(**self.filters[name].condition(value))
        return rows

    def filter(self, rows: QuerySet[M], query: Mapping[str, str]) -> QuerySet[M]:
        """`rows` narrowed as the query asks, strictly (the API's way)."""
        return self.apply(rows, self.values(query))

    def renamed(self, **names: str) -> ListFilters:
        """The same filters with some query names changed, e.g. `renamed(search="q")`."""
        return ListFilters(*(replace(f, name=names.get(f.name, f.name)) for f in self))

    def only(self, *names: str) -> ListFilters:
        return ListFilters(*(f for f in self if f.name in names))

    @property
    def lookups(self) -> dict[str, str]:
        """name -> ORM lookup (what a page's filter dataclass declares)."""
        return {name: spec.lookup for name, spec in self.filters.items()}

    def parameters(self) -> list[OpenApiParameter]:
        """The schema's query parameters for these filters."""
        return [
            OpenApiParameter(
                spec.name, str, enum=list(spec.choices) or None, description=spec.description
            )
            for spec in self
        ]

    def __iter__(self) -> Iterator[ListFilter]:
        return iter(self.filters.values())
