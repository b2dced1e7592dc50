"""The demo's plant calendar, moved to the demo's start.

demo.yaml describes a plant that works three eight-hour shifts around the clock (early,
late, night), its day starting with the early shift, and a short break in the early
shift. A real plant pins them to the clock (06:00, 14:00, 22:00); the demo pins them to
the second it starts, so that the current shift (early) begins then and the `shift` and
`day` windows hold data from the first minute instead of starting hours before the
demo did. `shift_times` fills demo.yaml's `${EARLY}` … `${BREAK_END}`; `order_env` the
due times of its orders, so many minutes after the start (`ORDER_DUE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "BREAK_AFTER", "BREAK_LENGTH", "ORDER_DUE", "SHIFT_LENGTH", "DemoShifts", "shift_times",
]  # fmt: skip

SHIFT_LENGTH = timedelta(hours=8)
#: The early shift's break begins this long after the demo's start, so planned stop time
#: shows within the first minutes.
BREAK_AFTER = timedelta(minutes=3)
BREAK_LENGTH = timedelta(minutes=2)
#: demo.yaml's `${DUE_…}` of its orders: this long after the start (in simulated time).
#: press1's 1001 (1,000 parts at 2 s) cannot make 20 min: late at its first rate;
#: press2's 2002 (120 parts at 3 s after 2001's 40, a setup and stops) is expected about
#: 10 min in, within the 5 min at-risk margin of its 15 min.
ORDER_DUE = {
    "DUE_1001": timedelta(minutes=20),
    "DUE_2001": timedelta(minutes=10),
    "DUE_2002": timedelta(minutes=15),
}


@dataclass(frozen=True)
class DemoShifts:
    """When the demo's early shift and its break begin, in the calendar's zone."""

    start: datetime  # aware, local, whole seconds: the demo's start
    zone: str

    @property
    def env(self) -> dict[str, str]:
        """demo.yaml's `${EARLY}`, `${LATE}`, `${NIGHT}`, `${BREAK_START}`, `${BREAK_END}`
        as local times of day (`HH:MM:SS`)."""
        # Wall-clock arithmetic on the local time (not UTC): the shifts are written as
        # times of day, and a DST change only makes the shift that spans it an hour
        # shorter or longer, as in a real plant.
        wall = self.start.replace(tzinfo=None)
        at = {
            "EARLY": wall,
            "LATE": wall + SHIFT_LENGTH,
            "NIGHT": wall + 2 * SHIFT_LENGTH,
            "BREAK_START": wall + BREAK_AFTER,
            "BREAK_END": wall + BREAK_AFTER + BREAK_LENGTH,
        }
        return {name: t.strftime("%H:%M:%S") for name, t in at.items()}

    def order_env(self, time_scale: float = 1.0) -> dict[str, str]:
        """demo.yaml's `${PLANNED}` (the start) and `${DUE_…}` (`ORDER_DUE` after it, in
        simulated time: `time_scale` times faster on the wall clock), RFC 3339."""
        out = {"PLANNED": self.start.isoformat()}
        for name, after in ORDER_DUE.items():
            out[name] = (self.start + after / time_scale).isoformat()
        return out

    def describe(self) -> str:
        """`early since 2026-12-07 01:12:34 Europe/Berlin (8 h; a 2 min break at 01:15:34)`."""
        minutes = int(BREAK_LENGTH.total_seconds() // 60)
        return (
            f"early since {self.start:%Y-%m-%d %H:%M:%S} {self.zone} "
            f"(8 h; a {minutes} min break at {self.env['BREAK_START']})"
        )


def shift_times(now: datetime, zone: str) -> DemoShifts:
    """The demo's shifts for a start at `now` (aware): the early shift begins at `now`
    in `zone`, to the whole second (a shift's times of day have no fractions)."""
    local = now.astimezone(ZoneInfo(zone)).replace(microsecond=0)
    return DemoShifts(local, zone)
