"""What the pages of every app share: sort links, list filters, menus and durations.

The filters' declaration (parameters, lookups, choices) is sweeptracker/list_filters.py's,
shared with the API. The templates that go with these live in templates/includes/:
sort_header.html (a SortLink), filter_form.html (the Menus), list_table.html,
pagination.html and state_badge.html. sweeptracker/htmx.py answers htmx with a page
or one region of it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict

from sweeptracker.list_filters import ListFilters

M = TypeVar("M", bound=Model)


# Sorting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortLink:
    label: str
    sort: str  # the sort this header's link asks for
    direction: str  # "ascending", "descending" or "" when the table is sorted by another column


def sort_link(current: str, column: str, label: str, first: str = "") -> SortLink:
    """A sortable column's header link: a click on the sorted column flips it; on another
    column it asks for `first` (the column ascending unless given, e.g. "-created")."""
    if current == column:
        return SortLink(label, f"-{column}", "ascending")
    if current == f"-{column}":
        return SortLink(label, column, "descending")
    return SortLink(label, first or column, "")


# Filters from the query string -----------------------------------------------------------


def choice(query: QueryDict, name: str, choices: Collection[str], default: str) -> str:
    """A setting of the page (a sort, a page size) if it is one of `choices`, else `default`."""
    value = query.get(name, "")
    return value if value in choices else default


@dataclass(frozen=True)
class PageFilters:
    """A list page's filters: the `values` set of FILTERS (sweeptracker/list_filters.py,
    the declaration the API reads too), by query parameter. Subclasses add the page's
    own settings (a sort, a page size) as fields.

    A page reads them leniently: it shows everything for a value it does not know,
    where the API answers 400.
    """

    FILTERS: ClassVar[ListFilters]
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, query: QueryDict) -> dict[str, str]:
        return cls.FILTERS.read(query, strip=True)

    def without(self, name: str) -> Self:
        """The same filters but `name` (a filter the page sets itself, say)."""
        values = {key: value for key, value in self.values.items() if key != name}
        return replace(self, values=values)

    @property
    def active(self) -> bool:
        return bool(self.values)

    def filter(self, rows: QuerySet[M]) -> QuerySet[M]:
        return self.FILTERS.apply(rows, self.values)


@dataclass(frozen=True)
class Menu:
    """One menu of a list's filter form (templates/includes/filter_form.html)."""

    id: str
    label: str
    name: str  # the query parameter it sets
    options: list[tuple[Any, str]]  # (value, label)
    current: Any
    # Whether it offers "all" (All states, All job types...) as its empty choice; a menu
    # without it (a page size) is narrow.
    all: bool = True


def menu(values: Iterable[str], current: str) -> list[tuple[str, str]]:
    """A filter menu's (value, label) options; a value chosen by a link but no longer
    among `values` stays in the menu, selected, so the form does not drop it."""
    options = [(value, value) for value in values]
    if current and (current, current) not in options:
        options.append((current, current))
    return options


# Durations -------------------------------------------------------------------------------


def format_duration(delta: timedelta) -> str:
    """A duration as a person reads it: 2d 3h, 1h 05m, 4m 09s, 12s, 0.4s, 42 ms."""
    total = max(delta.total_seconds(), 0.0)
    # Trials of a quick sweep end within a second: "0s" would say they took no time,
    # and so would "0.0s" for a 40 ms one.
    if total < 0.095:
        return f"{total * 1000:.0f} ms"
    if total < 1:
        return f"{total:.1f}s"
    hours, rest = divmod(int(total), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def duration_text(start: datetime, end: datetime | None, now: datetime) -> str:
    """From `start` to `end`, or to `now` while it is still going."""
    return format_duration((end or now) - start)
