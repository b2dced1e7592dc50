"""The counts a window holds, packed: a bounded log of (instant, nine sums).

An exact sliding window must remember when every count happened until it leaves the
window, so its memory grows with the window's length times the count rate (an hour of
one count a second is 3,600 entries per machine and window). `CountLog` merges counts
that share a *cell* into one entry, stored in two flat integer arrays (80 bytes an entry
instead of ~140 for an object), so a window holds at most one entry per cell:

- a sliding window's cells are `step`-long slices of time, so it holds at most
  `length / step + 1` entries. Its count is resolved to one cell at its trailing edge
  (a cell leaves when its last count does), an error of at most one cell's counts;
- a shift or day window's cell is the period itself, so it holds one entry per period
  and stays exact.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

__all__ = ["WIDTH", "CountLog", "micros"]

WIDTH = 9  # the `Counts` fields (oee.timemodel.count_values)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# Shift the arrays down once this many entries are dropped at the head and they are an
# eighth of the arrays, so the arrays stay within ~1.15x the entries they hold.
_COMPACT_AT = 32


def micros(at: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    return (at - _EPOCH) // _US


class CountLog:
    """Count entries in time order; `sums` always holds the total of those kept."""

    __slots__ = ("_at", "_head", "_last_cell", "_values", "sums")

    def __init__(self) -> None:
        self._at = array("q")
        self._values = array("q")
        self._head = 0
        self._last_cell: int | None = None
        self.sums = [0] * WIDTH

    def __len__(self) -> int:
        return len(self._at) - self._head

    def add(self, at_us: int, values: Sequence[int], cell: int | None) -> None:
        """Add counts made at `at_us`; merged into the last entry when `cell` is its cell
        (None: never merged). Entries must come in time order."""
        sums = self.sums
        for i, v in enumerate(values):
            sums[i] += v
        if cell is not None and cell == self._last_cell and len(self):
            base = len(self._values) - WIDTH
            for i, v in enumerate(values):
                self._values[base + i] += v
            self._at[-1] = at_us
            return
        self._at.append(at_us)
        self._values.extend(values)
        self._last_cell = cell

    def evict(self, start_us: int) -> None:
        """Forget the entries at or before `start_us`."""
        at, values, head, sums = self._at, self._values, self._head, self.sums
        while head < len(at) and at[head] <= start_us:
            base = head * WIDTH
            for i in range(WIDTH):
                sums[i] -= values[base + i]
            head += 1
        self._head = head
        if head >= _COMPACT_AT and head * 8 >= len(at):
            del at[:head]
            del values[: head * WIDTH]
            self._head = 0
        if not len(self):
            self._last_cell = None

    def after(self, end_us: int) -> list[int]:
        """The sums of the entries after `end_us` (a period that has already ended)."""
        out = [0] * WIDTH
        at, values = self._at, self._values
        i = len(at) - 1
        while i >= self._head and at[i] > end_us:
            base = i * WIDTH
            for k in range(WIDTH):
                out[k] += values[base + k]
            i -= 1
        return out
