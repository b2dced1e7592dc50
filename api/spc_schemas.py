"""The JSON of the SPC routes (docs/API.md "SPC"): a chart's state, its points, limits,
zones and violations, its capability, a Phase I baseline. Values as on MQTT
(`…/spc/{chart}`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ApiTime, Timestamp

__all__ = [
    "BaselineIn", "BaselineOut", "CapabilityOut", "ChartOut", "ChartStateOut", "ChartsOut",
    "LimitsIn", "LimitsOut", "MeasurementIn", "PointOut", "RulesOut", "SpecOut",
    "ViolationOut", "ZonesOut",
]  # fmt: skip


class LimitsOut(BaseModel):
    """A chart's limits (as in `…/spc/{chart}`): the primary chart's centre line and 3σ
    limits at subgroup size `n`, σ̂ of one reading (variables), the spread chart's (R, S,
    MR), where they came from, who froze them and when (null for trial limits), and the
    baseline they were computed from."""

    center: float
    ucl: float
    lcl: float
    sigma: float = Field(description="within-subgroup σ̂ of one reading (0 for attributes)")
    n: int | float = Field(description="the subgroup size `ucl`/`lcl` are for")
    spread_center: float | None = None
    spread_ucl: float | None = None
    spread_lcl: float | None = None
    source: Literal["computed", "manual"]
    subgroups: int = Field(0, description="subgroups the limits come from")
    frozen_by: str | None = None
    frozen_at: Timestamp | None = None
    baseline_from: Timestamp | None = None
    baseline_to: Timestamp | None = None
    excluded: list[int] = Field(default_factory=list, description="seqs left out")


class SpecOut(BaseModel):
    """Specification limits and target (any may be null)."""

    lsl: float | None = None
    usl: float | None = None
    target: float | None = None


class RulesOut(BaseModel):
    """The run rules that judge the chart, by number."""

    western_electric: list[int]
    nelson: list[int]


class ZonesOut(BaseModel):
    """The zones at the limits' `n`: C within 1σ, B 1–2σ, A 2–3σ of the centre line
    (each `[low, high]` of the upper side and its mirror below)."""

    a: list[float]
    b: list[float]
    c: list[float]


class PointOut(BaseModel):
    """One point (a subgroup judged)."""

    model_config = ConfigDict(frozen=True)

    seq: int
    ts: Timestamp
    value: float
    spread: float | None
    n: int | float
    center: float | None
    ucl: float | None
    lcl: float | None
    zone: str | None
    violations: list[str]
    phase: Literal["I", "II"]
    product: str | None = None
    held: int = 0


class ViolationOut(BaseModel):
    """A run rule broken at point `seq`, with the points that make the pattern."""

    seq: int
    ts: Timestamp
    rule: str = Field(examples=["WE2"])
    name: str = Field(examples=["2 of 3 beyond 2σ on one side"])
    points: list[int]
    side: str | None
    value: float
    phase: Literal["I", "II"]


class ChartStateOut(BaseModel):
    """A chart as it stands: the `…/spc/{chart}` payload (its latest point, nulls before
    any; the limits and phase now; the spec of the point's product) plus `machine` and
    `source`."""

    chart: str
    machine: str
    source: str = Field(description="tag, manual or counts")
    name: str
    kind: str
    unit: str | None
    tag: str | None
    ts: Timestamp | None
    seq: int | None
    value: float | None
    spread: float | None
    n: int | float | None
    center: float | None
    ucl: float | None
    lcl: float | None
    zone: str | None
    violations: list[str]
    phase: Literal["I", "II"]
    limits: LimitsOut | None
    spec: SpecOut | None
    product: str | None
    held: int


class ChartsOut(BaseModel):
    """`GET /api/v1/spc/charts`."""

    charts: list[ChartStateOut]


class ChartOut(BaseModel):
    """`GET /api/v1/spc/charts/{chart}`: the chart, its limits and phase now, the points
    of a range with the limits each was judged against, the zones, and the violations
    among them."""

    model_config = ConfigDict(populate_by_name=True)

    chart: str
    machine: str
    source: str
    name: str
    kind: str
    unit: str | None
    tag: str | None
    phase: Literal["I", "II"]
    limits: LimitsOut | None
    spec: SpecOut | None
    rules: RulesOut
    zones: ZonesOut | None
    points: list[PointOut]
    violations: list[ViolationOut]
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    count: int
    held: int = Field(description="readings held out of the points in the range")


class CapabilityFlag(BaseModel):
    """Why a capability figure deserves less trust, and by how much."""

    flag: Literal["few_subgroups", "out_of_control", "held"]
    value: int


class CapabilityOut(BaseModel):
    """`GET /api/v1/spc/charts/{chart}/capability`: docs/SPC.md "Capability"."""

    model_config = ConfigDict(populate_by_name=True)

    chart: str
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    spec: SpecOut | None
    product: str | None
    n: int
    subgroups: int
    mean: float | None
    sigma_within: float | None
    sigma_overall: float | None
    cp: float | None
    cpk: float | None
    cpu: float | None
    cpl: float | None
    pp: float | None
    ppk: float | None
    cpm: float | None
    ci: dict[str, list[float]] = Field(description="95 % intervals: cp, cpk, pp, ppk")
    below_lsl: int
    above_usl: int
    observed_ppm: float
    expected_ppm: float | None
    expected_within_ppm: float | None
    flags: list[CapabilityFlag] = Field(
        default_factory=list,
        description="few_subgroups (fewer than 25, AIAG), out_of_control (points that broke "
        "run rules), held (readings held out)",
    )


class BaselineIn(BaseModel):
    """A Phase I baseline: a range or the last N points, with points left out."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: ApiTime | None = Field(None, alias="from", description="RFC 3339 with offset")
    to: ApiTime | None = Field(None, description="RFC 3339 with offset")
    last: int | None = Field(None, ge=2, le=10_000, description="the last N points")
    exclude: list[int] = Field(default_factory=list, description="seqs with an assignable cause")
    preview: bool = Field(False, description="true: compute and show, freeze nothing")


class BaselineOut(BaseModel):
    """The limits a baseline gives, its points judged against them and the violations
    inside it; `frozen` false for a preview."""

    chart: str
    frozen: bool
    limits: LimitsOut
    points: list[PointOut]
    violations: list[ViolationOut]
    excluded: list[int]


class LimitsIn(BaseModel):
    """Limits set by hand (Phase II at once)."""

    model_config = ConfigDict(extra="forbid")

    center: float
    ucl: float
    lcl: float
    sigma: float | None = None
    spread_center: float | None = None
    spread_ucl: float | None = None
    spread_lcl: float | None = None


class MeasurementIn(BaseModel):
    """Readings entered by hand on a `source: manual` chart: one subgroup."""

    model_config = ConfigDict(extra="forbid")

    values: list[float] = Field(min_length=1, max_length=25)
    ts: ApiTime | None = Field(None, description="when measured (RFC 3339); default now")
