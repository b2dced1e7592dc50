"""Response models of the quality routes (`GET /api/v1/quality/machines/{id}`,
`GET /api/v1/quality/lines/{line}`; docs/API.md "Quality", docs/SPC.md "Quality
figures"). Ratios are 0..1 with 4 decimals; null where there are no parts to divide by."""

from __future__ import annotations

from pydantic import Field

from api.schemas import DayOut, Out, ShiftOut, Timestamp

_RATIO = "0..1, 4 decimals; null without parts (or when `flags` says the window's counts "
_RATIO += "cannot give one)"


class ProductQualityOut(Out):
    """One product's figures (`product` null: counted while no product was known)."""

    product: str | None
    name: str | None = Field(description="the product's configured name")
    total: int
    good: int
    reject: int
    fpy: float | None = Field(description="first-pass yield good / total; " + _RATIO)
    scrap_rate: float | None = Field(description="reject / total; " + _RATIO)


class ParetoReasonOut(Out):
    """One reject reason, most first; `reason_code` null: the rejects nobody booked a
    reason for ("counted by the machine"), always last."""

    reason_code: int | None
    reason: str
    count: int
    share: float = Field(description="of all the window's rejects, 0..1")
    cumulative: float = Field(description="this and the reasons above, 0..1")


class QualityFlagOut(Out):
    """What makes a figure doubtful or incomplete: `suspect_counts` (counter movements
    held out of the figures until someone decides; `value`: how many),
    `moves_before_window` (more parts moved between good and reject than the window
    counted: parts of an earlier window booked in it; `value`: by how many; FPY and
    scrap rate null), `no_scrap_reasons` (the store keeps no booked scrap, e.g.
    InfluxDB: every reject is unassigned)."""

    machine: str
    flag: str
    value: int | None = None


class QualityFigures(Out):
    """The figures of a range: the quality routes' answers and the shift report's
    `quality_figures` (there, the range is the shift's)."""

    total: int = Field(description="parts counted in (from, to]")
    good: int
    reject: int = Field(description="rejects, the scrap booked by hand included")
    scrap_booked: int = Field(description="of `reject`, the parts booked as scrap by hand")
    fpy: float | None = Field(description="first-pass yield good / total; " + _RATIO)
    scrap_rate: float | None = Field(description="scrap rate reject / total; " + _RATIO)
    products: list[ProductQualityOut]
    pareto: list[ParetoReasonOut]
    flags: list[QualityFlagOut]


class QualityRange(Out):
    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    shift: ShiftOut | None = Field(description="the shift occurrence asked for (or default)")
    day: DayOut | None = Field(description="the plant day asked for (or default between shifts)")


class QualityBase(QualityFigures, QualityRange):  # (pydantic: the range's fields first)
    pass


class MachineQualityOut(QualityBase):
    """A machine's quality figures of one range, shift or day."""

    machine: str


class MachineFpyOut(Out):
    """A machine's share of the line's rolled throughput yield."""

    machine: str
    total: int
    fpy: float | None


class LineQualityOut(QualityBase):
    """A line's quality figures: its machines' counts summed (a part passing two
    machines is counted at each), and `rty`, the product of the machines' FPYs in line
    order, over the machines that counted parts; `missing` counted none (left out of
    `rty`, not taken as 1)."""

    line: str
    rty: float | None = Field(description="rolled throughput yield, 0..1, 4 decimals")
    machines: list[MachineFpyOut]
    missing: list[str]
