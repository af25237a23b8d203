"""The query parameters of the sweeps app's lists, declared once (sweeptracker/list_filters.py)
for the API, which reads them strictly, and the pages, which read them leniently: the sweeps
list, and a sweep's trials and runs (by trial state)."""

from __future__ import annotations

from sweeps.models import Method, SweepState, TrialState
from sweeptracker.list_filters import ListFilter, ListFilters

SWEEP_LIST = ListFilters(
    ListFilter("project", "project__slug", description="Project slug"),
    ListFilter.of("state", "state", SweepState.values),
    ListFilter.of("method", "method", Method.values),
    ListFilter("search", "name__icontains", description="Part of the sweep name"),
)
TRIAL_LIST = ListFilters(ListFilter.of("state", "state", TrialState.values))
