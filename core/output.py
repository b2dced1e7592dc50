"""A machine's and a line's output in a shift against its target (`oee.targets.Output`),
as the output engine publishes it; part of `core.types.Event`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oee.targets import Output

__all__ = ["LineOutputUpdate", "OutputUpdate", "ShiftRef"]


@dataclass(frozen=True, slots=True)
class ShiftRef:
    """One shift occurrence as every channel names it: `id` is `{date}/{name}`, `date`
    the plant-local date it starts on; [start, end) in UTC; `timezone` the plant's."""

    id: str
    name: str
    date: str
    start: datetime
    end: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class OutputUpdate:
    """A machine's output in the shift `shift` at `ts` (`oee.targets.Output`), with the
    product it makes and its configured name. `final`: the shift has ended."""

    machine: str
    ts: datetime
    shift: ShiftRef
    output: Output
    product: str | None = None
    product_name: str | None = None
    final: bool = False


@dataclass(frozen=True, slots=True)
class LineOutputUpdate:
    """A line's output in `shift` at `ts`: its machines' sum ("sum" roll-up) or its
    bottleneck's ("bottleneck"), against the line's configured target if any."""

    line: str
    area: str
    ts: datetime
    shift: ShiftRef
    output: Output
    machines: tuple[str, ...] = ()
    final: bool = False
