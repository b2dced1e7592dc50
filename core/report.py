"""The shift report kept at a shift's end (issue 16, part 6): `ShiftReportDone` carries
a line's report of one shift occurrence, its headline figures for MQTT's retained
`…/_line/report` and InfluxDB, and the whole report (`document`, JSON) for the store;
part of `core.types.Event`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.output import ShiftRef

__all__ = ["ReportLoss", "ShiftReportDone"]


@dataclass(frozen=True, slots=True)
class ReportLoss:
    """One of the shift's biggest losses: `seconds` of planned time, `points` of OEE."""

    name: str
    seconds: float
    points: float | None


@dataclass(frozen=True, slots=True)
class ShiftReportDone:
    """The report of `line` for `shift`, built at `ts` (after the shift's end). Ratios are
    None where nothing was planned; `stop_s` the stops' seconds; `scrap` the parts booked
    as scrap by hand; `alarms` how many were active in the shift; `document` the whole
    report as `GET /api/v1/shifts/{date}/{name}/report` answers it (JSON). Orders
    (issue 19): how many ran in the shift and how many of them were late at its end,
    the changeovers that started in it and their loss against standard (seconds), the
    plan's attainment and on-time delivery by count (None: nothing planned, delivered)."""

    line: str
    area: str
    shift: ShiftRef
    ts: datetime
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    good: int
    reject: int
    total: int
    target: float | None
    attainment: float | None
    top_losses: tuple[ReportLoss, ...]
    stops: int
    stop_s: float
    scrap: int
    alarms: int
    document: str
    orders: int = 0
    orders_late: int = 0
    changeovers: int = 0
    changeover_loss_s: float = 0.0
    plan_attainment: float | None = None
    otd_count: float | None = None
