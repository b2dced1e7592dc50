"""Simulated time for the servers: from their start, or from a wall-clock epoch.

Without an epoch, sim time 0 is when the server starts (monotonic clock). With one,
``sim_t = (time.time() - epoch) * time_scale``: a simulator killed and started again
with the same epoch serves what the first one would have served at that moment, as
if the PLC had kept running while it was unreachable.
"""

from __future__ import annotations

import time

__all__ = ["SimClock", "sim_time_at"]


def sim_time_at(wall: float, epoch: float, time_scale: float) -> float:
    """Simulated seconds at wall time `wall` (Unix seconds) of a run started at `epoch`.

    Never negative: before the epoch it is 0.
    """
    return max(0.0, (wall - epoch) * time_scale)


class SimClock:
    """Simulated seconds since the start (or the epoch); never decreasing."""

    def __init__(self, time_scale: float, epoch: float | None = None) -> None:
        self.time_scale = time_scale
        self.epoch = epoch
        self._start = time.monotonic()
        self._last = 0.0

    def restart(self) -> None:
        """Without an epoch, make sim time 0 now; with one, nothing changes."""
        if self.epoch is None:
            self._start = time.monotonic()
            self._last = 0.0

    def __call__(self) -> float:
        """The current sim time."""
        if self.epoch is None:
            now = (time.monotonic() - self._start) * self.time_scale
        else:
            now = sim_time_at(time.time(), self.epoch, self.time_scale)
        # The wall clock can be stepped back (NTP); a model cannot go back in time,
        # so hold still until the wall clock has caught up again.
        self._last = max(self._last, now)
        return self._last
