"""The OEE engine: feeds state changes and counts into rolling windows per machine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from edge.config import Config, MachineConfig, parse_duration
from edge.types import CountDelta, OeeUpdate, StateChange
from oee.window import RollingWindow


class OeeEngine:
    """One `RollingWindow` per machine and configured window name (e.g. `15m`, `1h`)."""

    def __init__(self, config: Config) -> None:
        self._machines = {m.id: m for m in config.machines}
        unknown = config.oee.offline_counts_as == "unknown"
        self._windows: dict[str, dict[str, RollingWindow]] = {
            m.id: {
                w: RollingWindow(parse_duration(w), m.micro_stop_s, offline_is_unknown=unknown)
                for w in config.oee.windows
            }
            for m in config.machines
        }

    def apply(self, event: StateChange | CountDelta) -> None:
        windows = self._windows[event.machine].values()
        if isinstance(event, StateChange):
            for w in windows:
                w.state(event.state, event.ts)
        else:
            ideal = ideal_cycle_s(self._machines[event.machine], event.product)
            for w in windows:
                w.count(event.ts, event.total, event.good, ideal)

    def figures(self, now: datetime, machines: Iterable[str] | None = None) -> list[OeeUpdate]:
        """Current figures of every window of the given (default: all) machines."""
        out = []
        for machine in machines if machines is not None else self._windows:
            for name, window in self._windows[machine].items():
                f = window.figures(now)
                out.append(
                    OeeUpdate(
                        machine=machine,
                        window=name,
                        ts=now,
                        availability=f.availability,
                        performance=f.performance,
                        quality=f.quality,
                        oee=f.oee,
                        run_s=f.run_s,
                        planned_s=f.planned_s,
                        unknown_s=f.unknown_s,
                        window_s=f.window_s,
                        total=f.total,
                        good=f.good,
                        reject=f.reject,
                        state_s=f.state_s,
                    )  # fmt: skip
                )
        return out


def ideal_cycle_s(machine: MachineConfig, product: str | None) -> float:
    """The product's ideal cycle time, or the machine's default."""
    p = machine.products.get(product) if product is not None else None
    return p.ideal_cycle_s if p is not None else machine.ideal_cycle_s
