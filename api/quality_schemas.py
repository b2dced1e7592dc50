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
    ideal_cycle_s: float | None = Field(
        None,
        description="its ideal cycle time (the machine's when it has none of its own): "
        "the weight of its parts in `oee_quality`; null in a line whose machines give it "
        "different ones (and in a shift report kept before it was added)",
    )
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
    InfluxDB: every reject is unassigned), `q_weighted_by_cycle` (the machine's
    `oee_quality` and `fpy` differ: it made products of different ideal cycle times
    with different yields, and Q weighs each part by its ideal cycle time while FPY
    counts every part alike; docs/SPC.md "FPY and the OEE quality factor Q")."""

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
    oee_quality: float | None = Field(
        None,
        description="the OEE quality factor Q of the same counts, as the OEE figures give "
        "it for the range: ideal time of the good parts / ideal time of all (a line's as "
        "its `rollup`: of the summed ideal times, or the product of its machines' Q); "
        "equals `fpy` when every part has the same ideal cycle time; "
        + _RATIO
        + " (null in a shift report kept before it was added)",
    )
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
