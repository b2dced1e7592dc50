"""The base of every configuration model: unknown keys are errors (a typo must not be
silently ignored) and a loaded config is frozen. Also the ranges numbers are checked
against: every number of the file is finite and in a range that names its fix, so a
typo (`1e308`, `.inf`, `0.0001`) is refused at `oee-edge check` instead of stopping a
poll loop or putting a false figure on the floor."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = [
    "INT64",
    "Interval",
    "Model",
    "Offset",
    "Port",
    "Scale",
    "Timeout",
    "check_order",
    "within",
]

N = TypeVar("N", int, float)


class Model(BaseModel):
    """A section of the configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def within(low: float, high: float, unit: str = "") -> AfterValidator:
    """A number from `low` to `high` (both included; so never inf or nan). The refusal
    names the range: `1e+308 is out of range: write a number of seconds from 0.01 to 60`."""

    def check(value: N) -> N:
        if not low <= value <= high:  # False for nan too
            what = "a whole number" if isinstance(value, int) else "a number"
            what += f" of {unit}" if unit else ""
            span = f"from {_show(low)} to {_show(high)}"
            raise ValueError(f"{_show(value)} is out of range: write {what} {span}")
        return value

    return AfterValidator(check)


def check_order(low: float, low_name: str, high: float, high_name: str) -> None:
    """A minimum must not be above its maximum (a ValueError naming both, otherwise)."""
    if low > high:
        raise ValueError(
            f"{low_name} ({_show(low)}) is above {high_name} ({_show(high)}): "
            f"make {low_name} the smaller"
        )


def _show(x: float) -> str:
    """`65535`, `0.01`, `1e+308`, `inf`: a number as a user would write it."""
    return str(x) if isinstance(x, int) else f"{x:.12g}"


def _nonzero(value: float) -> float:
    if value == 0:
        raise ValueError("0 would turn every value into 0: write the factor, e.g. 0.1")
    return value


#: How often something repeats (a poll, a publish, a flush, a retry): 10 ms to an hour.
#: Faster only loads the PLC, the broker or the CPU; slower shows stale data as current.
Interval = Annotated[float, within(0.01, 3600, "seconds")]
#: How long one request may take before it counts as failed: 10 ms to a minute.
Timeout = Annotated[float, within(0.01, 60, "seconds")]
#: A TCP port to connect to or listen on (0, "any free port", is never what a user means).
Port = Annotated[int, within(1, 65535)]
#: A tag's scale: a non-zero factor within ±1e12 (so a scaled 64-bit value stays finite).
Scale = Annotated[float, within(-1e12, 1e12), AfterValidator(_nonzero)]
#: A tag's offset, added after the scale.
Offset = Annotated[float, within(-1e12, 1e12)]
#: A code a PLC or a person sends as a whole number (state map keys, reason codes): what
#: SQLite and InfluxDB store as an integer.
INT64 = Annotated[int, within(-(2**63), 2**63 - 1)]
