"""Events of an operator's input at the line (scrap, a stop made planned, shift notes,
the product set by hand)
and the audit entry each change leaves; part of `core.types.Event`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oee.states import MachineState

__all__ = ["AuditEntry", "ProductChanged", "ScrapBooked", "ShiftNote", "StopPlanned"]


@dataclass(frozen=True, slots=True)
class ScrapBooked:
    """Someone booked `quantity` parts of `machine` as scrap by hand at `ts`, against
    `reason_code` of the machine's reject-reason tree (`reason`, `category`). The parts
    move from good to reject by the `CountDelta` numbered `count_seq` (total 0, good
    -quantity, reject +quantity) that comes with it. `by` is the API key's name; `seq`
    numbers a machine's bookings from 1 (set by the gateway)."""

    machine: str
    ts: datetime
    quantity: int
    reason_code: int
    reason: str
    by: str
    category: str | None = None
    product: str | None = None
    note: str | None = None
    count_seq: int | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class StopPlanned:
    """Someone turned the stop of `machine` that began at `stop_ts` (in `state`) into
    planned stop time (`kind`, `reason`), or undid that (`kind` None): the time model
    then counts the stop's time as a planned stop, out of planned production time. `by`
    is the API key's name, `ts` when; `previous_*` what it replaced. `seq` numbers a
    machine's such changes from 1 (set by the gateway)."""

    machine: str
    stop_ts: datetime
    state: MachineState
    ts: datetime
    by: str
    kind: str | None
    reason: str | None = None
    previous_kind: str | None = None
    previous_reason: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ShiftNote:
    """The hand-over text of a shift instance (`shift`: its id, `2026-12-06/late`) of
    `line`, written by `by` at `ts`; `previous_text` is what it replaced (None: none)."""

    line: str
    area: str
    shift: str
    text: str
    ts: datetime
    by: str
    previous_text: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One operator change, as the store keeps it: `action` (reason, scrap, planned,
    notes) by `by` at `ts` on `machine` (or `line`), `target` (a stop's start, a shift's
    id), the old and the new value (JSON objects; None: nothing before)."""

    ts: datetime
    machine: str | None
    line: str | None
    action: str
    by: str
    target: str | None
    old: dict[str, object] | None
    new: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class ProductChanged:
    """Someone (`by`, the API key's name) set the product `machine` makes from `ts` on
    (None: the machine's default), replacing `previous`; `name` is its configured name."""

    machine: str
    ts: datetime
    product: str | None
    previous: str | None
    by: str
    name: str | None = None
