"""An alarm as JSON, one shape on every channel (MQTT `…/alarm` and `…/alarms`, the
webhook, SSE, the API, the gateway's checkpoint): README "Alarms", docs/asyncapi.yaml."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common.oeedetails import finite
from connectors.common.timefmt import rfc3339
from core.alarms import Alarm, AlarmChange

__all__ = ["alarm_document", "alarm_from_document", "change_document"]


def _ts(ts: datetime | None) -> str | None:
    return None if ts is None else rfc3339(ts)


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def alarm_document(a: Alarm) -> dict[str, Any]:
    """`id`, `machine`, `rule`, `kind`, `severity`, `message`, `value` (4 decimals),
    `raised`, `cleared`, `active`, `acked_by`, `acked_at`."""
    value = finite(a.value)
    return {
        "id": a.id,
        "machine": a.machine,
        "rule": a.rule,
        "kind": a.kind,
        "severity": a.severity,
        "message": a.message,
        "value": None if value is None else round(value, 4),
        "raised": rfc3339(a.raised),
        "cleared": _ts(a.cleared),
        "active": a.active,
        "acked_by": a.acked_by,
        "acked_at": _ts(a.acked_at),
    }


def alarm_from_document(d: dict[str, Any]) -> Alarm:
    """The alarm of an `alarm_document` (KeyError/ValueError if it is not one)."""
    raised = _parse(d["raised"])
    assert raised is not None
    return Alarm(
        id=str(d["id"]), machine=str(d["machine"]), rule=str(d["rule"]), kind=str(d["kind"]),
        severity=d["severity"], message=str(d["message"]), raised=raised,
        cleared=_parse(d.get("cleared")), acked_by=d.get("acked_by"),
        acked_at=_parse(d.get("acked_at")), value=d.get("value"),
    )  # fmt: skip


def change_document(c: AlarmChange) -> dict[str, Any]:
    """One change: `change` (raised, acknowledged, cleared), `ts`, `seq`, then the alarm's
    fields (as `alarm_document`)."""
    return {"change": c.change, "ts": rfc3339(c.ts), "seq": c.seq, **alarm_document(c.alarm)}
