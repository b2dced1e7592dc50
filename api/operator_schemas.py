"""Request and response models of the operator's input: scrap booked by hand, a stop
turned into planned time, a shift's notes and the audit of every such change."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.oee_schemas import In
from api.schemas import Out, ShiftOut, Timestamp
from edge.config import NOTE_MAX_CHARS
from oee.states import MachineState

#: What a stop turned into planned time was (the calendar's planned kinds, and a meeting).
PlannedKind = Literal["meeting", "maintenance", "no_order", "other", "break"]


class ScrapIn(In):
    """Body of `POST /machines/{id}/scrap`."""

    quantity: int = Field(ge=1, le=1_000_000, description="parts found bad")
    reason_code: int = Field(description="a code of the machine's reject-reason tree")
    product: str | None = Field(default=None, description="default: the current product")
    note: str | None = Field(default=None, max_length=500)


class ScrapOut(Out):
    """The scrap booked: `quantity` parts moved from good to reject by the count delta
    `count_seq` (`…/count`); `seq` numbers the machine's bookings (`…/scrap`)."""

    machine: str
    ts: Timestamp
    quantity: int
    reason_code: int
    reason: str
    category: str | None
    product: str | None
    note: str | None
    by: str
    count_seq: int | None
    seq: int


class ScrapReasonOut(Out):
    """One entry of a machine's reject-reason tree."""

    reason_code: int
    text: str
    category: str | None


class PlannedIn(In):
    """Body of `PUT …/stops/{at}/planned`: the stop counts as planned stop time."""

    kind: PlannedKind = "other"
    reason: str = Field(min_length=1, max_length=200, description="e.g. 'Shift meeting'")


class PlannedOut(Out):
    """The stop that began at `start` and how it counts now (`kind` null: as itself)."""

    machine: str
    start: Timestamp
    state: MachineState
    kind: PlannedKind | None
    reason: str | None
    previous_kind: str | None
    previous_reason: str | None
    by: str


class NoteIn(In):
    """Body of `PUT /shifts/{date}/{name}/notes`."""

    text: str = Field(max_length=NOTE_MAX_CHARS)


class NoteOut(Out):
    """The hand-over text of a shift of a line ("" and `by` null: none written)."""

    line: str
    shift: ShiftOut
    timezone: str = Field(description="the calendar's IANA time zone")
    text: str
    by: str | None
    ts: Timestamp | None
    previous_text: str | None


class AuditOut(Out):
    """One operator change: who (`by`: the API key's name), when, on what, old and new."""

    ts: Timestamp
    machine: str | None
    line: str | None
    action: Literal["reason", "scrap", "planned", "notes", "product", "order", "order_command"]
    by: str
    target: str | None = Field(description="a stop's start, a shift's id, or an order's id")
    old: dict[str, Any] | None
    new: dict[str, Any] | None
