"""The events of work orders (issue 19): an operator's command on an order, an order put
or deleted through the API, an order's progress on a machine, and a changeover once it
completed; part of `core.types.Event`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from oee.changeovers import Changeover
from oee.orders import OrderRun, Progress, WorkOrder

# (`Changeover` and `WorkOrder` too: the connectors take oee's types from core.)
__all__ = [
    "Changeover", "ChangeoverDone", "OrderAction", "OrderCommand", "OrderEdit", "OrderEdited",
    "OrderProgress", "OrderSource", "OrderTrack", "WorkOrder",
]  # fmt: skip

OrderAction = Literal["start", "pause", "resume", "end"]
#: Why the order runs: its machine's order tag, an operator's start, or the queue.
OrderSource = Literal["tag", "operator", "queue"]
#: What became of an order sent through the API (`OrderEdited.edit`).
OrderEdit = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class OrderCommand:
    """Someone (`by`, the API key's name) starts, pauses, resumes or ends `order` on
    `machine` at `ts`. Starting (or resuming) an order pauses the one that ran."""

    machine: str
    ts: datetime
    order: str
    action: OrderAction
    by: str


@dataclass(frozen=True, slots=True)
class OrderEdited:
    """Someone (`by`, the API key's name) created, updated or deleted `order` (of
    `machine`) through the API at `ts`: `old` is the order before (None: new), `new` the
    order after (None: deleted). The store's audit keeps it (as the operator's other
    changes); no other channel carries it."""

    machine: str
    ts: datetime
    order: str
    edit: OrderEdit
    by: str
    old: WorkOrder | None = None
    new: WorkOrder | None = None


@dataclass(frozen=True, slots=True)
class OrderProgress:
    """The order `machine` runs (or would run next: `progress.status` `not_started`) at
    `ts`, with what happened to it (`run`), its figures (`progress`, `oee.orders`), why
    it runs (`source`), its seconds by machine state while it ran (`state_s`) and its
    OEE then (None without the time or an ideal cycle). `order` None: none runs."""

    machine: str
    ts: datetime
    order: WorkOrder | None = None
    run: OrderRun | None = None
    progress: Progress | None = None
    source: OrderSource | None = None
    state_s: Mapping[str, float] = field(default_factory=dict)
    oee: float | None = None


@dataclass(frozen=True, slots=True)
class ChangeoverDone:
    """A changeover of `machine` (`oee.changeovers.Changeover`) that has completed: the
    machine is at rate again, or the ramp window passed (twice) without it. `ts` is
    when that was known; `standard_s` the configured standard of its product pair and
    `loss_s` the time over it (None without one). `seq` numbers a machine's changeovers."""

    machine: str
    ts: datetime
    changeover: Changeover
    standard_s: float | None = None
    loss_s: float | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class OrderTrack:
    """What the store kept of one order on `machine` over a range [start, end): the good
    parts so far at each publication of its progress in the range (`points`, oldest
    first), its last `…/order` document in the range (`last`) and its last one before
    the range (`before`: None when it was never published before)."""

    machine: str
    order: str
    points: tuple[tuple[datetime, int], ...]
    last: Mapping[str, Any]
    before: Mapping[str, Any] | None = None
