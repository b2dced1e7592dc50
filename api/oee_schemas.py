"""Request and response models of the line OEE, losses, reason and product routes."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from api.schemas import DayOut, LossDetails, LossOut, Out, ParetoOut, ShiftOut, Timestamp
from oee.states import MachineState

Source = Literal["live", "history"]


class Span(Out):
    """Which figures an answer holds: a configured window's live ones, or a range's
    computed from history; `from`/`to` bound them (for a window: the machines' spans)."""

    window: str | None = Field(description="null for a `from`/`to` range")
    from_: Timestamp | None = Field(serialization_alias="from")
    to: Timestamp | None
    source: Source
    computed: bool = Field(description="false while no machine has figures of the window")
    missing: list[str] = Field(
        description="machines without figures of the window yet (left out of the sums)"
    )
    shift: ShiftOut | None = Field(
        default=None, description="the shift occurrence (`shift` window or `?shift=`)"
    )
    day: DayOut | None = Field(default=None, description="the plant day (`day` window or `?day=`)")
    planned: bool | None = Field(
        default=None,
        description="`shift` window: whether a shift is in progress (false between shifts); "
        "null for other windows",
    )
    note: str | None = Field(default=None, description='"no shift planned" between shifts')


class RatiosOut(Out):
    """One machine's ratios (0..1; null when not computable)."""

    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None


class LineOeeOut(Span, LossDetails):
    """`GET /api/v1/lines/{line}/oee` (and `/plant/oee`): the line's (or plant's) figures
    from its machines' reports.

    Times and counts are sums over the machines. In "sum" mode the ratios are those of the
    sums; in "bottleneck" mode A and P are the bottleneck's and Q the product of the
    machines' (null while the bottleneck has no figures).
    """

    line: str | None = Field(description="null for the plant (`GET /plant/oee`)")
    mode: Literal["sum", "bottleneck"]
    bottleneck: str | None
    availability: float | None = None
    performance: float | None = None
    quality: float | None = None
    oee: float | None = None
    window_s: float | None = None
    run_s: float | None = None
    planned_s: float | None = None
    unknown_s: float | None = None
    total: int | None = None
    good: int | None = None
    reject: int | None = None
    losses: list[LossOut]
    machines: dict[str, RatiosOut]


class MachineParetoOut(ParetoOut):
    """A Pareto row with the machine it belongs to."""

    machine: str


class ReliabilityOut(Out):
    """Failures (breakdowns starting in the span), MTBF = run / failures, MTTR =
    breakdown time / failures (null without a failure)."""

    failures: int
    mtbf_s: float | None
    mttr_s: float | None


class LossesOut(Span):
    """`GET /api/v1/losses`: where the planned production time of a machine or a line went.

    `points` of each loss are its seconds / `planned_s`; with `fully_productive_s` the
    losses add up to `planned_s`. A line's Pareto lists each machine's rows, biggest
    first, with shares of the line's whole downtime.
    """

    machine: str | None
    line: str | None
    planned_s: float | None
    fully_productive_s: float | None
    losses: list[LossOut]
    pareto: list[MachineParetoOut]
    reliability: ReliabilityOut | None


class ReasonOut(Out):
    """One entry of a machine's reason tree."""

    code: int
    text: str
    category: str | None = Field(description="'/'-separated path, e.g. Mechanical/Feeder")
    states: list[MachineState] = Field(description="the stop states it may be given to")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonIn(In):
    """Body of `PUT …/stops/{at}/reason`: a code of the reason tree, or null to clear.
    `code` is still accepted for `reason_code` (its name before MQTT v2)."""

    reason_code: int | None = Field(validation_alias=AliasChoices("reason_code", "code"))


class AssignmentOut(Out):
    """The reason now given to the stop that began at `start` (and the one it replaced),
    and who gave it."""

    machine: str
    start: Timestamp
    state: MachineState
    reason_code: int | None
    reason: str | None
    category: str | None
    previous_reason_code: int | None
    previous_reason: str | None
    source: str = Field(description="who gave it: the API key's name, 'loopback' without keys")


class ProductIn(In):
    """Body of `PUT /machines/{id}/product`: a configured product, or null (the default)."""

    product: str | None


class ProductOut(Out):
    """The product the machine makes from now on, and the ideal cycle time OEE uses."""

    machine: str
    product: str | None
    ideal_cycle_s: float
