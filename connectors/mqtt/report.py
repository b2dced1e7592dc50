"""The retained shift report summary `…/_line/report` (README "MQTT", docs/asyncapi.yaml):
the headline of a line's report of a finished shift; the whole report is
`GET /api/v1/shifts/{date}/{name}/report`."""

from __future__ import annotations

from connectors.common.outputdoc import shift_document
from connectors.common.timefmt import rfc3339
from connectors.mqtt.payloads import LineTopics
from core.report import ShiftReportDone

__all__ = ["report_payload", "report_topic"]


def report_topic(t: LineTopics) -> str:
    """`{prefix}/{site}/{area}/{line}/_line/report`."""
    return f"{t.root}/report"


def report_payload(t: LineTopics, ev: ShiftReportDone) -> bytes:
    """The shift, its figures (ratios 0..1), output against target, the three biggest
    losses, the stops' count and minutes, the scrap booked, the alarms' count, the
    orders (and late ones), changeovers and their loss, plan attainment and OTD."""
    return t.payload(
        {
            "shift": shift_document(ev.shift),
            "oee": ev.oee,
            "availability": ev.availability,
            "performance": ev.performance,
            "quality": ev.quality,
            "good": ev.good,
            "reject": ev.reject,
            "total": ev.total,
            "target": ev.target,
            "attainment": ev.attainment,
            "top_losses": [
                {"name": x.name, "seconds": x.seconds, "points": x.points} for x in ev.top_losses
            ],
            "stops": ev.stops,
            "stop_min": round(ev.stop_s / 60, 2),
            "scrap": ev.scrap,
            "alarms": ev.alarms,
            "orders": ev.orders,
            "orders_late": ev.orders_late,
            "changeovers": ev.changeovers,
            "changeover_loss_s": ev.changeover_loss_s,
            "plan_attainment": ev.plan_attainment,
            "otd_count": ev.otd_count,
            "ts": rfc3339(ev.ts),
        }
    )
