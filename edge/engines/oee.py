"""The OEE engine: one `oee.MachineTracker` per machine, fed by the pipeline's events
(a `core.interfaces.Engine`, the first of `edge.pipeline.components.ENGINES`).

Windows come from `oee.windows`: durations (`15m`, `1h`, `8h`) slide; `shift` and `day`
follow the machine's calendar (`Config.calendar_for`). At start the engine replays the
stored history of the longest window, so a restart keeps the shift's and the day's
figures (the time the gateway was down is unknown time).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from connectors.common.aio import gather_limited
from core.interfaces import HistoryReader, MachineEvent
from core.types import (
    CountDelta,
    LineOeeUpdate,
    MachineState,
    OeeUpdate,
    StateChange,
    StateRecord,
    StopPlanned,
)
from edge.config import Config, MachineConfig, window_seconds
from edge.engines.lines import line_specs, tick_lines
from oee.tracker import MachineTracker, WindowSpec

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.engine")

OFFLINE = MachineState.OFFLINE
# A shift or a plant day (25 h on a DST night) never reaches further back than this.
_CALENDAR_LOOKBACK = timedelta(hours=26)
# Machines whose history is read at once (the start-up replay, the API's ranges): one
# per machine would swamp the database.
HISTORY_QUERIES_AT_ONCE = 8
# A sliding window keeps its counts in this many steps (oee.countlog): 1.5 s for 15m,
# 6 s for 1h, at most ~52 KB a machine and window; its edge is off by one step's counts.
COUNT_STEPS = 600
FIGURES_PER_EMIT = 20  # machines whose OEE figures go out in one emit


def window_spec(name: str) -> WindowSpec:
    """`shift`, `day`, or a sliding window of a duration like `15m`."""
    length = window_seconds(name)
    if length is None:
        return WindowSpec(name, "shift" if name == "shift" else "day")
    return WindowSpec(name, "sliding", length, count_step_s=length / COUNT_STEPS)


class OeeEngine:
    """Every machine's OEE over every configured window, updated event by event."""

    name = "OEE"

    def __init__(self, config: Config) -> None:
        self._machines = {m.id: m for m in config.machines}
        self._lines = line_specs(config)
        self._windows = list(config.oee.windows)
        specs = [window_spec(w) for w in config.oee.windows]
        self.lookback = max(
            (
                timedelta(seconds=s.length_s) if s.kind == "sliding" else _CALENDAR_LOOKBACK
                for s in specs
            ),
            default=timedelta(0),
        )
        self._trackers = {
            m.id: MachineTracker(
                specs,
                calendar=config.calendar_for(m.id),
                micro_stop_s=m.micro_stop_s,
                startup_s=m.startup_s,
                offline_counts_as=config.oee.offline_counts_as,
            )
            for m in config.machines
        }

    def apply(self, event: MachineEvent) -> None:
        """Feed one event of a configured machine (in time order per machine)."""
        tracker = self._trackers.get(event.machine)
        if tracker is None:
            return
        if isinstance(event, StateChange):
            tracker.state(event.ts, event.state, event.reason_code, event.reason)
        elif isinstance(event, CountDelta):
            ideal = ideal_cycle_s(self._machines[event.machine], event.product)
            tracker.count(event.ts, event.total, event.good, ideal, event.reject)
        elif isinstance(event, StopPlanned):
            tracker.set_planned(event.stop_ts, event.kind is not None)
        else:
            tracker.set_reason(event.stop_ts, event.reason_code, event.reason)

    def figures(self, now: datetime, machines: Iterable[str] | None = None) -> list[OeeUpdate]:
        """Every window of the given (default: all) machines at `now`; a shift or day that
        has just ended comes first, once, with its final figures dated at its end."""
        out = []
        for machine in machines if machines is not None else self._trackers:
            for r in self._trackers[machine].reports(now):
                out.append(
                    OeeUpdate.of(
                        machine, r.name, r.start, r.end, r.report, r.pareto, r.shift, r.day
                    )
                )
        return out

    def line_figures(self, updates: Sequence[OeeUpdate]) -> list[LineOeeUpdate]:
        """Every line's figures from the machine updates of one `figures()` call (a line
        of one machine too): see `edge.engines.lines.tick_lines`."""
        return tick_lines(self._lines, self._windows, updates)

    def publications(self, now: datetime) -> Iterator[list[OeeUpdate] | list[LineOeeUpdate]]:
        """What the gateway publishes every interval: the machines' figures at `now`, a
        few machines at a time (hundreds of machines' figures take tens of ms, which the
        polls must not wait for: jitter), then their lines'."""
        machines = list(self._trackers)
        updates: list[OeeUpdate] = []
        for i in range(0, len(machines), FIGURES_PER_EMIT):
            chunk = self.figures(now, machines[i : i + FIGURES_PER_EMIT])
            updates += chunk
            yield chunk
        yield self.line_figures(updates)

    def tick(
        self, now: datetime, machines: Iterable[str] | None = None
    ) -> list[OeeUpdate | LineOeeUpdate]:
        """The machines' figures at `now`, followed by their lines': what `publications`
        yields, in one list."""
        updates = self.figures(now, machines)
        return [*updates, *self.line_figures(updates)]

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None = None
    ) -> int:
        """Replay each machine's stored states and counts of the last `lookback`; returns
        how many events were replayed. A store that fails is logged and skipped; the
        machines are fetched a few at a time, side by side.

        `last_alive` is when the gateway last ran (it may have been killed without storing
        `offline`): from then on the machines' states are unknown, not what was stored last.
        """
        start = now - self.lookback

        async def fetch(machine: str) -> tuple[list[StateRecord], list[CountDelta]] | None:
            try:
                states = await history.state_history(machine, start, now)
                counts = await history.count_history(machine, start, now)
            except Exception as exc:  # external store: the gateway runs without history
                why = f"{type(exc).__name__}: {exc}".rstrip(": ")
                log.warning("OEE history of %s not loaded: %s", machine, why)
                return None
            return states, counts

        machines = list(self._trackers)
        fetched = await gather_limited(HISTORY_QUERIES_AT_ONCE, fetch, machines)
        return sum(
            self._replay(m, *got, last_alive)
            for m, got in zip(machines, fetched, strict=True)
            if got is not None
        )

    def _replay(
        self,
        machine: str,
        states: list[StateRecord],
        counts: list[CountDelta],
        last_alive: datetime | None,
    ) -> int:
        events: list[MachineEvent] = []
        for s in states:
            events.append(
                StateChange(machine, s.state, None, s.ts, None, None, 0, s.reason_code, s.reason)
            )
            if s.planned_kind:  # an operator turned the stop into planned time
                events.append(
                    StopPlanned(machine, s.ts, s.state, s.ts, "", s.planned_kind, s.planned_reason)
                )
        events += counts
        events.sort(key=lambda e: e.ts)  # stable: a state before a count at one instant
        for e in events:
            self.apply(e)
        last = states[-1] if states else None
        if _killed(last, last_alive):
            assert last_alive is not None
            self.apply(StateChange(machine, MachineState.OFFLINE, None, last_alive, None, None, 0))
        return len(events)


def _killed(last: StateRecord | None, last_alive: datetime | None) -> bool:
    """Whether the gateway stopped without storing `offline` after `last`."""
    if last is None or last_alive is None:
        return False
    return last_alive > last.ts and last.state is not MachineState.OFFLINE


def ideal_cycle_s(machine: MachineConfig, product: str | None) -> float:
    """The product's ideal cycle time, or the machine's default."""
    p = machine.products.get(product) if product is not None else None
    return p.ideal_cycle_s if p is not None else machine.ideal_cycle_s
