"""Where the quality routes get their inputs: each machine's counts by product, the scrap
booked by hand by reason and the counts held as suspect, of one range, read from the
store in a history job (`api.offload`: never on the event loop)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from api.context import ApiError, from_store
from api.offload import Cpu
from core.interfaces import HistoryReader, OperatorHistory, ReportStore
from core.types import CountDelta, ScrapBooked
from oee.quality import Tally

__all__ = ["MachineInputs", "QualityQuery", "machine_inputs", "quality_job"]

_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class QualityQuery:
    """A history job's arguments: the machines' inputs of (start, end] (counts at `end`
    belong to the range, as in the OEE figures); at most `budget` stored rows."""

    machines: tuple[str, ...]
    start: datetime
    end: datetime
    budget: int


@dataclass(frozen=True)
class MachineInputs:
    """One machine's inputs: `counts` by product (None: no product known), the scrap
    booked by hand as (reason code, reason, quantity), how many counter movements were
    held as suspect, and whether the store keeps the operator's input at all (InfluxDB
    does not: no booked scrap, no suspects to tell)."""

    counts: dict[str | None, Tally] = field(default_factory=dict)
    booked: list[tuple[int, str, int]] = field(default_factory=list)
    suspects: int = 0
    operator_input: bool = True


async def quality_job(reader: HistoryReader, cpu: Cpu, q: QualityQuery) -> dict[str, MachineInputs]:
    """Each machine's inputs of the range (a history job), after the rows are counted."""
    await _within_budget(reader, q)
    return {m: await _machine(reader, q, m) for m in q.machines}


async def _within_budget(reader: HistoryReader, q: QualityQuery) -> None:
    """A 422 before any row is read when the range holds more than the budget."""
    total = 0
    for m in q.machines:
        total += await from_store(f"history of {m}", reader.history_rows(m, q.start, q.end + _MS))
    if total > q.budget:
        raise ApiError(
            422,
            f"[from, to) holds {total} stored state changes and counts of {len(q.machines)} "
            f"machine(s), more than {q.budget} (api.limits.max_history_rows): "
            "ask for a shorter range",
        )


async def _machine(reader: HistoryReader, q: QualityQuery, machine: str) -> MachineInputs:
    what = f"quality of {machine}"
    start, end = q.start, q.end
    deltas = await from_store(what, reader.count_history(machine, start, end + _MS, q.budget))
    booked = None
    if isinstance(reader, OperatorHistory):
        booked = await from_store(what, reader.scrap(machine, start, end + _MS))
    held = 0
    if isinstance(reader, ReportStore):
        held = await from_store(what, reader.suspects(machine, start + _MS, end + _MS))
    return machine_inputs(deltas, booked, held, start, end)


def machine_inputs(
    counts: Iterable[CountDelta],
    booked: Iterable[ScrapBooked] | None,
    suspects: int,
    start: datetime,
    end: datetime,
) -> MachineInputs:
    """A machine's inputs of (start, end] from the rows read (the quality routes' and the
    shift report's): the counts summed by product, the bookings as (code, reason,
    quantity); `booked` None: the store keeps no operator input. `suspects` are those
    held in (start, end]."""
    counts_by: dict[str | None, Tally] = {}
    for c in counts:
        if start < c.ts <= end:
            counts_by[c.product] = counts_by.get(c.product, Tally()).plus(c.total, c.good, c.reject)
    rows = [(b.reason_code, b.reason, b.quantity) for b in booked or () if start < b.ts <= end]
    return MachineInputs(counts_by, rows, suspects, booked is not None)
