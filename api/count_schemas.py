"""Request and response models of the routes on counts: held suspect counts, decisions on
them, and counts corrected by hand."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from api.oee_schemas import In
from api.schemas import Out, Timestamp

# The most parts one correction may count: beyond it is a typo, not a shift's output.
MAX_CORRECTION = 1_000_000


class SuspectOut(Out):
    """A counter movement held out of every figure until someone decides (MQTT
    `…/suspect`): `counter` moved by more than `allowed` parts in `elapsed_s`."""

    seq: int
    ts: Timestamp = Field(description="when the counters were read")
    total: int
    good: int
    reject: int
    product: str | None
    counter: str
    allowed: int
    elapsed_s: float


class DecisionIn(In):
    """Body of `POST …/suspects/{seq}/accept` and `…/discard` (optional)."""

    note: str | None = Field(default=None, max_length=500, description="why, for the record")


class CorrectionIn(In):
    """Body of `POST /machines/{id}/counts`: parts the PLC did not count, counted now.
    Give `good` and `reject`; `total`, when given, must be their sum."""

    good: int = Field(ge=0, le=MAX_CORRECTION)
    reject: int = Field(ge=0, le=MAX_CORRECTION)
    total: int | None = Field(default=None, ge=0, le=2 * MAX_CORRECTION)
    note: str | None = Field(default=None, max_length=500, description="why, for the record")

    @model_validator(mode="after")
    def _adds_up(self) -> CorrectionIn:
        if self.total is not None and self.total != self.good + self.reject:
            raise ValueError(f"total {self.total} is not good + reject ({self.good + self.reject})")
        if self.good + self.reject == 0:
            raise ValueError("a correction counts at least one part")
        return self


class DecisionOut(Out):
    """A hand decision on a machine's counts (MQTT `…/decision`): `count_seq` is the
    `…/count` that counted its parts (null for a discard)."""

    machine: str
    action: Literal["accept", "discard", "correct"]
    by: str = Field(description="the name of the API key ('loopback' without keys)")
    ts: Timestamp
    total: int
    good: int
    reject: int
    suspect_seq: int | None
    count_seq: int | None
    note: str | None
    seq: int
