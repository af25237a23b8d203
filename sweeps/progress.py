"""How far a sweep has come, as its stat card and its row in the list show it: a grid
sweep's points done out of the grid's size, any other sweep's trials handed out out of its
run cap (or no bound at all)."""

from __future__ import annotations

from dataclasses import dataclass

from sweeps.config import SweepConfig
from sweeps.distributions import space_size
from sweeps.models import Method, Sweep


@dataclass(frozen=True)
class Progress:
    count: int  # what the bar counts: points done, or trials handed out
    bound: int | None  # what it counts towards; None when nothing bounds the sweep
    label: str  # what `count / bound` means, for the card and the bar's aria-label

    @property
    def percent(self) -> int:
        if not self.bound:
            return 0
        return min(round(100 * self.count / self.bound), 100)


def progress_of(sweep: Sweep, total: int, done: int, config: SweepConfig | None = None) -> Progress:
    """`total` trials handed out, `done` of them complete or pruned (a failed grid point is
    handed out again, so it is not done). A grid counts done points towards the grid's
    size, or towards the run cap when that is smaller."""
    cap = sweep.run_cap
    if sweep.method == Method.GRID:
        size = space_size((config or SweepConfig.from_dict(sweep.config)).parameters)
        if size is not None and not (cap and cap < size):
            return Progress(done, size, "grid points done")
        return Progress(done, cap, "grid points done, of the run cap")
    if cap:
        return Progress(total, cap, "trials handed out, of the run cap")
    return Progress(total, None, "no run cap")
