"""The alarm events (issue 16, part 5): an `Alarm` is one occurrence of a rule's condition
on a machine, from raised to cleared, and its acknowledgement; an `AlarmChange` is one
step of it (raised, acknowledged, cleared), the event that goes through the outbox to
every sink (README "Alarms")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["Alarm", "AlarmChange", "ChangeKind", "Severity", "alarm_id"]

Severity = Literal["info", "warning", "critical"]
ChangeKind = Literal["raised", "acknowledged", "cleared"]


def alarm_id(machine: str, rule: str, raised: datetime) -> str:
    """`{machine}.{rule}.{raised as epoch ms}`: stable across restarts and stores, unique
    because one rule has at most one active alarm per machine and each is raised later
    than the previous one cleared. Machine ids and rule names hold no dots' meaning here:
    the id is opaque to clients."""
    return f"{machine}.{rule}.{round(raised.timestamp() * 1000)}"


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm as it stands: `rule` (its configured name) of `kind` (`stop`, `figure`,
    `suspect_count`, `offline`, …) raised on `machine` at `raised` with `message`; `value`
    is the figure that raised it (a ratio for figure rules), `cleared` when its condition
    ended, `acked_by`/`acked_at` who acknowledged it and when."""

    id: str
    machine: str
    rule: str
    kind: str
    severity: Severity
    message: str
    raised: datetime
    cleared: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    value: float | None = None

    @property
    def active(self) -> bool:
        """Raised and not yet cleared (acknowledged or not)."""
        return self.cleared is None


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """An alarm of `machine` was raised, acknowledged or cleared at `ts`; `alarm` is the
    alarm after the change, `active` the machine's active alarms after it (MQTT's retained
    `…/alarms`). `seq` numbers a machine's alarm changes from 1, across restarts."""

    machine: str
    ts: datetime
    change: ChangeKind
    alarm: Alarm
    active: tuple[Alarm, ...] = ()
    seq: int = 0
