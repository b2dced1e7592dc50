"""The JSON of the alarm routes (docs/API.md "Alarms"): an alarm as on MQTT and SSE."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import Timestamp
from core.alarms import Alarm

__all__ = ["AlarmOut", "AlarmsOut"]


class AlarmOut(BaseModel):
    """One alarm as it stands (as `…/alarm` on MQTT, without `change`/`seq`)."""

    id: str = Field(description="`{machine}.{rule}.{raised epoch ms}`: opaque, stable")
    machine: str
    rule: str = Field(description="the rule's name in `alarms.rules`")
    kind: str = Field(description="stop, figure, suspect_count, offline, spc")
    severity: Literal["info", "warning", "critical"]
    message: str = Field(examples=["Press 1: fault (Die jam) for 10 min"])
    value: float | None = Field(description="what raised it: seconds, a ratio, a count")
    raised: Timestamp
    cleared: Timestamp | None = Field(description="null while active")
    active: bool
    acked_by: str | None = Field(description="the key's name that acknowledged it")
    acked_at: Timestamp | None = None

    @classmethod
    def of(cls, a: Alarm) -> AlarmOut:
        value = None if a.value is None else round(a.value, 4)
        return cls(
            id=a.id, machine=a.machine, rule=a.rule, kind=a.kind, severity=a.severity,
            message=a.message, value=value, raised=a.raised, cleared=a.cleared,
            active=a.active, acked_by=a.acked_by, acked_at=a.acked_at,
        )  # fmt: skip


class AlarmsOut(BaseModel):
    """`GET /api/v1/alarms`: oldest first."""

    alarms: list[AlarmOut]
