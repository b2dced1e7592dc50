"""What the `spc` alarm rules (oee.alarms.SpcRule) know of a machine's control charts:
the run rules each chart broke at its recent points, kept for as many points as a rule
looks back (`clear_after`). Pure: the alarm engine feeds it the SPC events."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["SpcHit", "SpcTrack"]


@dataclass(frozen=True, slots=True)
class SpcHit:
    """A run rule (`WE2`, `N3`, `SPREAD`: `rule`, named `name`) a chart broke at its point
    `seq` of `ts`, whose plotted value was `value`, judged in `phase` (`I`, `II`)."""

    seq: int
    ts: datetime
    rule: str
    name: str
    value: float
    phase: str = "II"


@dataclass(slots=True)
class SpcTrack:
    """What the SPC rules know of one chart: its name and unit (for messages), the seq of
    its latest point (0: none seen since the start), the first seen, and the violations
    of its recent points. `restored`: the machine's alarms were taken back at a restart,
    so what the chart did before its first point seen since is unknown."""

    label: str
    unit: str | None = None
    seq: int = 0
    first: int | None = None
    restored: bool = False
    hits: deque[SpcHit] = field(default_factory=deque)

    def saw(self, seq: int) -> None:
        """A point (or a violation of a point) numbered `seq`."""
        self.seq = max(self.seq, seq)
        if self.first is None:
            self.first = seq

    def forget(self, horizon: int) -> None:
        """Drop the violations `horizon` points or more behind the latest: no rule looks
        back that far (O(1) per point amortised)."""
        while self.hits and self.seq - self.hits[0].seq >= horizon:
            self.hits.popleft()
