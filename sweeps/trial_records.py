"""What a suggestion reads of its sweep's trials, kept in this process between suggestions.

A complete or failed trial never changes again (`sweeps.state_machine.TRANSITIONS` has no
event from either), so once read it is kept; a later suggestion reads only the trials that
were still open (running, pruned) at the last read and those numbered after the last one
read. Trials are numbered in the order they are stored, each under the sweep's lock, so a
read that sees trial n sees every trial before it. A trial can still disappear (its run
deleted): a count of the sweep's trials, read with the changes, catches that, and the
rows are read whole again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from sweeps.models import Trial, TrialState
from sweeps.sampling import RECORD_COLUMNS, TrialRecord

_FINAL = (TrialState.COMPLETE, TrialState.FAILED)
MAX_KEPT_SWEEPS = 32


@dataclass
class _Kept:
    rows: dict[int, TrialRecord] = field(default_factory=dict)  # by number, in number order
    open: set[int] = field(default_factory=set)
    next_unread: int = 0


_KEPT: OrderedDict[str, _Kept] = OrderedDict()
# A worker's threads share the kept rows.
_LOCK = threading.Lock()


def read(sweep_id: str) -> list[TrialRecord]:
    """The sweep's trials as a suggestion reads them, by number."""
    with _LOCK:
        kept = _KEPT.pop(sweep_id, None)
    trials = Trial.objects.filter(sweep_id=sweep_id).order_by("number")
    if kept is not None:
        changed = trials.filter(Q(number__gte=kept.next_unread) | Q(number__in=kept.open))
        kept = _brought_up_to_date(kept, changed)
        if len(kept.rows) != trials.count():
            kept = None  # a trial was deleted
    if kept is None:
        kept = _brought_up_to_date(_Kept(), trials)
    with _LOCK:
        _KEPT[sweep_id] = kept
        while len(_KEPT) > MAX_KEPT_SWEEPS:
            _KEPT.popitem(last=False)
    return list(kept.rows.values())


def _brought_up_to_date(kept: _Kept, rows: QuerySet[Trial]) -> _Kept:
    for row in rows.values_list(*RECORD_COLUMNS):
        record = TrialRecord(*row)
        kept.rows[record.number] = record
        if record.state in _FINAL:
            kept.open.discard(record.number)
        else:
            kept.open.add(record.number)
        kept.next_unread = max(kept.next_unread, record.number + 1)
    return kept


def forget(sweep_id: str) -> None:
    """Drop the kept rows of a sweep (its trials were changed in a way a read cannot see)."""
    with _LOCK:
        _KEPT.pop(sweep_id, None)
