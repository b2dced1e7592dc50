"""The output engine: every machine's and line's parts in the shift in progress against
its target, the rate, and whether the shift will reach its target at that rate (figures:
`oee.targets`). A `core.interfaces.Engine` of `edge.pipeline.components.ENGINES`.

It publishes with the OEE figures, every `oee.publish_interval_s`: an `OutputUpdate` per
machine inside a shift and a `LineOutputUpdate` per line; when a shift ends, its final
figures once (`final`), dated at its end. A calendar without shifts (24/7) has no shift
instance and so no output.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connectors.common.aio import gather_limited
from core.interfaces import HistoryReader, MachineEvent
from core.types import CountDelta, LineOutputUpdate, OutputUpdate, ShiftRef
from edge.config import Config
from edge.engines.lines import LineSpec, line_specs
from edge.engines.oee import HISTORY_QUERIES_AT_ONCE, ideal_cycle_s
from oee.calendar import Calendar, ShiftInstance
from oee.targets import RATE_WINDOW_S, Made, Output, combine_outputs, output, planned_spans
from oee.targets import rate_start as rate_from

__all__ = ["LOOKBACK", "OutputEngine", "line_output", "shift_ref"]

log = logging.getLogger("edge.engine.output")

_MICRO = timedelta(microseconds=1)
# A shift never lasts longer than a day and a DST hour: its counts are in this much history.
LOOKBACK = timedelta(hours=26)


def shift_ref(shift: ShiftInstance, calendar: Calendar) -> ShiftRef:
    """How every channel names a shift occurrence."""
    return ShiftRef(
        shift.id, shift.name, shift.id.split("/")[0], shift.start, shift.end, calendar.tz
    )


@dataclass
class _Tally:
    """A machine's counts in one shift occurrence."""

    shift: ShiftInstance | None = None
    made: dict[str | None, list[int]] = field(default_factory=dict)  # product: [good, reject]
    recent: deque[tuple[datetime, int]] = field(default_factory=deque)  # (ts, good)
    product: str | None = None


class OutputEngine:
    """Parts against target per machine and line in the shift in progress."""

    name = "output"
    lookback = LOOKBACK

    def __init__(self, config: Config) -> None:
        self._config = config
        self._machines = {m.id: m for m in config.machines}
        self._calendars = {m.id: config.calendar_for(m.id) for m in config.machines}
        self._tallies = {m.id: _Tally() for m in config.machines}
        self._lines = line_specs(config)
        self._finals: list[OutputUpdate] = []  # of shifts that ended, until published

    def apply(self, event: MachineEvent) -> None:
        """Count a machine's parts into the shift they fall in (start < ts <= end)."""
        tally = self._tallies.get(event.machine)
        if tally is None or not isinstance(event, CountDelta):
            return
        tally.product = event.product or tally.product
        shift = self._calendars[event.machine].shift_at(event.ts - _MICRO)
        if shift is None:
            return  # outside every shift: no shift's output
        if shift != tally.shift:
            self._roll(event.machine, tally, shift)
        counts = tally.made.setdefault(event.product, [0, 0])
        counts[0] += event.good
        counts[1] += event.reject
        if event.good:
            tally.recent.append((event.ts, event.good))

    def publications(self, now: datetime) -> Iterator[list[OutputUpdate] | list[LineOutputUpdate]]:
        """Finished shifts' final figures first (machines, then lines), then the
        current ones."""
        current: list[OutputUpdate] = []
        for machine, tally in self._tallies.items():
            shift = self._calendars[machine].shift_at(now)
            if shift != tally.shift:
                self._roll(machine, tally, shift)
            if tally.shift is not None:
                current.append(self._update(machine, tally, now))
                self._prune(machine, tally, now)
        finals, self._finals = self._finals, []
        for batch in (finals, self.lines(finals), current, self.lines(current)):
            if batch:  # an empty emit would still cost a journal transaction
                yield batch  # type: ignore[misc]

    def lines(self, updates: list[OutputUpdate]) -> list[LineOutputUpdate]:
        """Each line's output from its machines' updates (of one shift occurrence: the
        first machine's)."""
        out = []
        for spec in self._lines:
            found = line_output(self._config, spec, updates)
            if found is not None:
                out.append(found)
        return out

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None = None
    ) -> int:
        """Replay the counts of the last `lookback`; the final figures of shifts that
        ended while the gateway was down (after `last_alive`) are kept for publishing."""

        async def fetch(machine: str) -> list[CountDelta]:
            try:
                return await history.count_history(machine, now - self.lookback, now)
            except Exception as exc:  # external store: the gateway runs without history
                log.warning("output history of %s not loaded: %s", machine, exc)
                return []

        machines = list(self._tallies)
        fetched = await gather_limited(HISTORY_QUERIES_AT_ONCE, fetch, machines)
        for counts in fetched:
            for c in counts:
                self.apply(c)
        self._finals = [f for f in self._finals if last_alive is not None and f.ts > last_alive]
        return sum(len(c) for c in fetched)

    def _roll(self, machine: str, tally: _Tally, shift: ShiftInstance | None) -> None:
        """Close the tally's shift (its final figures) and start `shift`'s."""
        if tally.shift is not None:
            self._finals.append(self._update(machine, tally, tally.shift.end, final=True))
        tally.shift, tally.made, tally.recent = shift, {}, deque()

    def _update(
        self, machine: str, tally: _Tally, at: datetime, final: bool = False
    ) -> OutputUpdate:
        assert tally.shift is not None
        m, cal = self._machines[machine], self._calendars[machine]
        targets = m.targets
        products = {*tally.made, tally.product}
        figures = output(
            tally.shift, cal, at,
            [Made(p, g, r) for p, (g, r) in tally.made.items()], list(tally.recent),
            ideal_s={p: ideal_cycle_s(m, p) for p in products}, current=tally.product,
            per_hour=targets.per_hour if targets else None,
            per_shift=targets.per_shift if targets else None,
        )  # fmt: skip
        product = m.products.get(tally.product) if tally.product is not None else None
        return OutputUpdate(
            machine, figures.at, shift_ref(tally.shift, cal), figures, tally.product,
            product.name if product is not None else None, final,
        )  # fmt: skip

    def _prune(self, machine: str, tally: _Tally, now: datetime) -> None:
        """Forget the counts before the rate window (they are in `made` already)."""
        assert tally.shift is not None
        spans = planned_spans(
            self._calendars[machine], tally.shift.start, min(now, tally.shift.end)
        )
        since = rate_from(spans, RATE_WINDOW_S)
        while tally.recent and since is not None and tally.recent[0][0] <= since:
            tally.recent.popleft()


def line_output(
    config: Config, spec: LineSpec, updates: list[OutputUpdate]
) -> LineOutputUpdate | None:
    """A line's output from its machines' updates: the sum (or the bottleneck's in
    "bottleneck" mode) of those in the same shift occurrence as its first machine with one,
    against `lines.{line}.targets.per_shift` when configured. None without updates."""
    by_machine = {u.machine: u for u in updates if u.machine in spec.machines}
    if not by_machine:
        return None
    first = next(by_machine[m] for m in spec.machines if m in by_machine)
    same = [u for m in spec.machines if (u := by_machine.get(m)) and u.shift.id == first.shift.id]
    if spec.mode == "bottleneck":
        same = [u for u in same if u.machine == spec.bottleneck]
    line_cfg = config.lines.get(spec.line)
    per_shift = line_cfg.targets.per_shift if line_cfg and line_cfg.targets else {}
    figures: Output | None = combine_outputs(
        [u.output for u in same], per_shift.get(first.shift.name)
    )
    if figures is None:
        return None
    return LineOutputUpdate(
        spec.line, spec.area, figures.at, first.shift, figures,
        tuple(u.machine for u in same), first.final,
    )  # fmt: skip
