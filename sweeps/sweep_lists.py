"""The query parameters of the sweeps app's lists, declared once (sweeptracker/list_filters.py)
for the API, which reads them strictly, and the pages, which read them leniently: the sweeps
list, and a sweep's trials and runs (by trial state)."""

from __future__ import annotations

from django.db.models import F, OrderBy

from sweeps.models import Method, SweepState, TrialState
from sweeptracker.list_filters import ListFilter, ListFilters

SWEEP_LIST = ListFilters(
    ListFilter("project", "project__slug", description="Project slug"),
    ListFilter.of("state", "state", SweepState.values),
    ListFilter.of("method", "method", Method.values),
    ListFilter("search", "name__icontains", description="Part of the sweep name"),
)
TRIAL_LIST = ListFilters(ListFilter.of("state", "state", TrialState.values))

# The sweeps list page's sorts: each column's name, ascending; "-name" descends. The counts
# and the best value are annotations of the page's query; sweeps without a best go last.
DEFAULT_SWEEP_SORT = "-created"
SWEEP_SORT_COLUMNS = {
    "name": ("Name", "name"),
    "state": ("State", "state"),
    "method": ("Method", "method"),
    "trials": ("Trials", "trial_count"),
    "best": ("Best", "best_trial__value"),
    "created": ("Created", "created_at"),
}
SWEEP_SORTS = {*SWEEP_SORT_COLUMNS, *(f"-{column}" for column in SWEEP_SORT_COLUMNS)}


def sweep_ordering(sort: str) -> list[OrderBy]:
    """ORDER BY for one of SWEEP_SORTS; ties go newest first, then by id."""
    descending = sort.startswith("-")
    field = F(SWEEP_SORT_COLUMNS[sort.removeprefix("-")][1])
    first = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    return [first, F("created_at").desc(), F("id").asc()]
