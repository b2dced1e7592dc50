"""The canonical machine states (DESIGN.md, "Canonical machine states")."""

from enum import StrEnum


class MachineState(StrEnum):
    """A machine's state; the value is the wire name used on MQTT, in stores and the API."""

    RUNNING = "running"
    IDLE = "idle"
    SETUP = "setup"
    FAULT = "fault"
    PLANNED_STOP = "planned_stop"
    OFFLINE = "offline"

    @property
    def code(self) -> int:
        """Stable integer code, written as the `code` field of `machine_state` points."""
        return _CODES[self]


_CODES = {
    MachineState.RUNNING: 1,
    MachineState.IDLE: 2,
    MachineState.SETUP: 3,
    MachineState.FAULT: 4,
    MachineState.PLANNED_STOP: 5,
    MachineState.OFFLINE: 0,
}
