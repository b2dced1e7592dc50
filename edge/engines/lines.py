"""Line OEE from the machines' OEE updates: the one roll-up behind the published line
figures (engine -> MQTT `…/_line/oee/{window}`, InfluxDB `line_oee`, SQLite `line_oee`)
and the API's line and plant routes.

Sums of times and ideal-time-weighted counts ("sum"), or the bottleneck's A and P with
the line's rolled quality ("bottleneck"), as `oee.rollup` defines them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from core.types import LineOeeUpdate, MachineRatios, OeeUpdate
from edge.config import Config
from oee.calendar import PlantDay, ShiftInstance
from oee.losses import LossReport
from oee.rollup import LineOee, RollupMode, combine, rollup

__all__ = ["LineSpec", "line_rollup", "line_specs", "line_update", "tick_lines"]


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line of the configuration: its machines (in config order) and its roll-up.

    `area` is the area of its first machine (a machine may override the area; a line
    whose machines sit in different areas is published under the first one's)."""

    line: str
    area: str
    machines: tuple[str, ...]
    mode: RollupMode = "sum"
    bottleneck: str | None = None

    @classmethod
    def of(cls, config: Config, line: str) -> LineSpec:
        """The spec of `line` (no machines if no machine sits on it)."""
        machines = config.line_machines(line)
        area = (config.machine(machines[0]).area if machines else None) or config.area
        cfg = config.lines.get(line)
        if cfg is None:
            return cls(line, area, tuple(machines))
        return cls(line, area, tuple(machines), cfg.rollup, cfg.bottleneck)

    @classmethod
    def plant(cls, config: Config) -> LineSpec:
        """Every machine of the gateway, summed: the plant (never published, so its
        `line` is empty)."""
        return cls("", config.area, tuple(m.id for m in config.machines))


def line_specs(config: Config) -> list[LineSpec]:
    """Every line in use, in the order of `machines`."""
    return [LineSpec.of(config, line) for line in config.lines_in_use()]


def line_rollup(
    reports: Mapping[str, LossReport], mode: RollupMode, bottleneck: str | None
) -> LineOee | None:
    """`oee.rollup` of the machines that have figures; None if none has. In bottleneck mode
    without the bottleneck's figures, the sums stand and the ratios are null."""
    if not reports:
        return None
    if mode == "bottleneck" and bottleneck not in reports:
        return LineOee(mode, bottleneck, combine(reports.values()), None, None, None, None)
    return rollup(reports, mode=mode, bottleneck=bottleneck)


_P = TypeVar("_P", ShiftInstance, PlantDay)


def line_update(
    spec: LineSpec,
    window: str,
    updates: Mapping[str, OeeUpdate],
    missing: Iterable[str] = (),
) -> LineOeeUpdate | None:
    """The line's figures from its machines' updates of one window (keyed by machine id,
    in the order they are listed). Updates without a loss report count as missing; None
    when no machine has figures. The line's window spans the machines' windows: `start`
    is the earliest start, `ts` the latest end."""
    reported = {m: u for m, u in updates.items() if u.report is not None}
    reports = {m: u.report for m, u in reported.items() if u.report is not None}
    lo = line_rollup(reports, spec.mode, spec.bottleneck)
    if lo is None:
        return None
    end = max(u.ts for u in reported.values())
    start = min((u.start for u in reported.values() if u.start is not None), default=end)
    absent = [*missing, *(m for m in updates if m not in reported)]
    return LineOeeUpdate(
        line=spec.line,
        area=spec.area,
        window=window,
        ts=end,
        start=start,
        mode=lo.mode,
        bottleneck=lo.bottleneck,
        availability=lo.availability,
        performance=lo.performance,
        quality=lo.quality,
        oee=lo.oee,
        performance_flagged=lo.performance_flagged,
        report=lo.total,
        machines=tuple(
            MachineRatios(m, u.availability, u.performance, u.quality, u.oee)
            for m, u in reported.items()
        ),
        missing=tuple(m for m in spec.machines if m in absent),
        shift=_shared(u.shift for u in reported.values()),
        day=_shared(u.day for u in reported.values()),
    )


def _shared(values: Iterable[_P | None]) -> _P | None:
    """The one shift (or day) all the machines' figures are of; None if they differ (a
    machine with a calendar of its own) or have none."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


def tick_lines(
    specs: Iterable[LineSpec], windows: Iterable[str], updates: Sequence[OeeUpdate]
) -> list[LineOeeUpdate]:
    """The line updates of one tick's machine updates (`OeeEngine.figures`), per line and
    window, from each machine's latest update of the window.

    A shift or day that has just ended gives a machine two updates of the window in one
    tick, the final one first: when every machine with figures has two, the line's final
    update (of the first ones) comes first too, then the latest.
    """
    by_machine: dict[tuple[str, str], list[OeeUpdate]] = defaultdict(list)
    for u in updates:
        by_machine[u.machine, u.window].append(u)
    out: list[LineOeeUpdate] = []
    windows = list(windows)
    for spec in specs:
        for window in windows:
            per = {m: us for m in spec.machines if (us := by_machine.get((m, window)))}
            if not per:
                continue
            missing = [m for m in spec.machines if m not in per]
            if all(len(us) > 1 for us in per.values()):
                final = line_update(spec, window, {m: us[0] for m, us in per.items()}, missing)
                if final is not None:
                    out.append(final)
            latest = line_update(spec, window, {m: us[-1] for m, us in per.items()}, missing)
            if latest is not None:
                out.append(latest)
    return out
