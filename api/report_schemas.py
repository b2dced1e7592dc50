"""The shift report's answer (`GET /api/v1/shifts/{date}/{name}/report`; docs/API.md
"Shift report"). Times are RFC 3339 UTC strings; ratios 0..1 (4 decimals); seconds 3."""

from __future__ import annotations

from pydantic import Field

from api.quality_schemas import MachineFpyOut, QualityFigures
from api.schemas import Out

__all__ = ["ReportOut"]


class ShiftDoc(Out):
    id: str = Field(examples=["2026-12-06/late"])
    name: str
    date: str
    start: str
    end: str
    timezone: str


class ReportOutput(Out):
    """Parts against target; `attainment` = good / target (null without a target)."""

    good: int
    reject: int
    total: int
    target: float | None
    attainment: float | None


class ReportLossOut(Out):
    name: str = Field(description="breakdowns, setup, idle, unknown, small_stops, speed, ...")
    factor: str
    seconds: float | None
    points: float | None = Field(description="the OEE it cost (0..1)")


class ReportLineQuality(QualityFigures):
    """The line's: its machines summed, and the rolled throughput yield over the machines
    that counted parts (`GET /api/v1/quality/lines/{line}?shift=`)."""

    rty: float | None = Field(description="the product of the machines' FPYs, 0..1")
    machines: list[MachineFpyOut]
    missing: list[str] = Field(description="machines without an FPY, left out of `rty`")


_OLD = "null in a report kept before version 2"


class ReportMachine(Out):
    machine: str
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    coverage: float | None = Field(description="the share of the shift with known states")
    output: ReportOutput | None
    losses: list[ReportLossOut]
    quality_figures: QualityFigures | None = Field(None, description=_OLD)


class ReportStop(Out):
    """A stop (any state but running), clipped to the shift (so far)."""

    machine: str
    start: str
    end: str
    duration_s: float | None
    state: str
    reason_code: int | None
    reason: str | None
    by: str | None = Field(description="who gave the reason (the API key's name)")
    planned: bool = Field(description="a planned stop, or a stop turned into planned time")
    planned_kind: str | None
    planned_reason: str | None


class ReportScrap(Out):
    """Scrap booked by hand per reason (`booked`), or the rejects nobody booked
    (`reason_code` null, reason "counted by the machine")."""

    machine: str
    reason_code: int | None
    reason: str
    quantity: int
    booked: bool


class ReportAlarm(Out):
    machine: str
    rule: str
    severity: str
    message: str
    raised: str
    cleared: str | None
    acked_by: str | None
    acked_at: str | None


class ReportFlag(Out):
    """`suspect_counts` (held, value: how many), `performance_above_100`, `low_coverage`
    (value: the coverage), `production_in_planned_stop` (value: parts in planned stops),
    and the quality routes' `moves_before_window` (value: parts moved between good and
    reject beyond the shift's counts: FPY null) and `no_scrap_reasons` (the store keeps
    no booked scrap)."""

    machine: str
    flag: str
    value: int | float | None


class ReportNote(Out):
    text: str
    by: str
    ts: str


_V3 = "absent from reports kept before version 3"


class ReportOrder(Out):
    """An order published on a machine in the shift: the parts it gained in the shift
    and, as last published in the shift, its progress, status and delivery."""

    machine: str
    order: str
    product: str
    quantity: int
    due: str
    customer: str | None
    good: int = Field(description="good parts made for it in the shift")
    reject: int = Field(description="rejects made for it in the shift")
    total_good: int = Field(description="its good parts so far at the shift's end")
    percent: float | None = Field(description="its progress at the shift's end, 0..100")
    status: str | None = Field(description="not_started, on_track, at_risk, late, done")
    finished: str | None = Field(description="when it was done (null: open)")
    on_time: bool | None = Field(description="complete by due (null: not done)")


class ReportChangeover(Out):
    """A changeover that started in the shift (`…/changeover`)."""

    machine: str
    from_product: str
    to_product: str
    from_order: str | None
    to_order: str | None
    start: str
    end: str
    duration_s: float | None = Field(description="less planned stop time inside it")
    standard_s: float | None = Field(description="the pair's standard (null: none)")
    loss_s: float | None = Field(description="time over the standard (null: none)")
    reason: str | None


class ReportPlanOrder(Out):
    order: str
    planned: float | None = Field(description="its quantity planned in the shift")
    produced: int = Field(description="its good parts counted in the shift")


class ReportPlan(Out):
    """Plan versus actual of the shift (docs/OEE.md, `oee.plan.plan_actual`): planned and
    produced quantity, attainment, schedule adherence (volume and mix, sequence, in
    window) and on-time delivery by count and quantity; ratios null without orders."""

    planned: float | None
    produced: int
    attainment: float | None
    volume_mix: float | None
    sequence: float | None
    sequence_orders: int
    in_window: float | None
    window_orders: int
    otd_count: float | None
    otd_quantity: float | None
    delivered_orders: int
    on_time_orders: int
    delivered_quantity: int
    on_time_quantity: int
    orders: list[ReportPlanOrder]


class ReportOut(Out):
    """A line's report of one shift: the line's roll-up, each machine, every stop, scrap
    by reason, the quality figures (FPY, scrap rate, defect Pareto, RTY), the alarms,
    the orders and changeovers, plan versus actual, the notes and the flags."""

    v: int = Field(
        description="3 (2: kept before `orders`, `changeovers` and `plan`; 1: before "
        "`quality_figures`)"
    )
    line: str
    area: str
    shift: ShiftDoc
    timezone: str
    final: bool = Field(description="the shift has ended (false: the current one so far)")
    until: str = Field(description="the figures cover [shift.start, until)")
    built_at: str
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    coverage: float | None
    output: ReportOutput | None
    losses: list[ReportLossOut]
    quality_figures: ReportLineQuality | None = Field(None, description=_OLD)
    machines: list[ReportMachine]
    stops: list[ReportStop]
    scrap: list[ReportScrap]
    alarms: list[ReportAlarm]
    flags: list[ReportFlag]
    orders: list[ReportOrder] = Field(default_factory=list, description=_V3)
    changeovers: list[ReportChangeover] = Field(default_factory=list, description=_V3)
    plan: ReportPlan | None = Field(None, description="null without a calendar; " + _V3)
    notes: ReportNote | None
