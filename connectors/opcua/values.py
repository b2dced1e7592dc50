"""DataValue -> Sample: status code to quality, which timestamp, arrays and structures.

Nothing here raises for what a server sends: a value that does not fit the tag
becomes a bad-quality sample and a problem text that the source logs once.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, Literal

from asyncua import ua

from connectors.opcua.client import describe_status
from connectors.opcua.config import OpcUaTag
from core.types import Quality, Sample, TagValue

__all__ = ["ValueReader", "quality_of", "status_problem"]

_NUMERIC = {
    ua.VariantType.Boolean, ua.VariantType.SByte, ua.VariantType.Byte,
    ua.VariantType.Int16, ua.VariantType.UInt16, ua.VariantType.Int32,
    ua.VariantType.UInt32, ua.VariantType.Int64, ua.VariantType.UInt64,
    ua.VariantType.Float, ua.VariantType.Double,
}  # fmt: skip


_SEVERITY = (Quality.GOOD, Quality.UNCERTAIN, Quality.BAD, Quality.BAD)
# What a plain scalar of a numeric variant may be in Python (not a subclass such as an
# IntEnum, which `_scalar` turns into its int).
_PLAIN = frozenset({bool, int, float})
_NO_TIME_YEAR = 1601  # 1601-01-01 is OPC UA's "no time"


def quality_of(status: ua.StatusCode | None) -> Quality:
    """Good, uncertain or bad from the severity bits of an OPC UA StatusCode."""
    if status is None:
        return Quality.GOOD
    return _SEVERITY[(status.value >> 30) & 0b11]


def status_problem(status: ua.StatusCode | None) -> str:
    """Why a value with this status is unusable, in words an engineer can act on."""
    if status is None or status.is_good():
        return "has no value"
    name = describe_status(status)
    if status.value in (ua.StatusCodes.BadNodeIdUnknown, ua.StatusCodes.BadNodeIdInvalid):
        return f"does not exist on the server ({name})"
    return f"reads {name}"


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@dataclasses.dataclass(frozen=True)
class ValueReader:
    """Converts one tag's DataValues into Samples.

    `numeric`: the tag feeds a state rule or counter, so a non-number is an error,
    reported by name instead of silently never matching.
    """

    name: str
    tag: OpcUaTag
    timestamp: Literal["source", "server", "gateway"] = "source"
    numeric: bool = False
    # A scalar taken as it is (no index, field, scale or offset): the hot path's case.
    plain: bool = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t = self.tag
        plain = t.index is None and t.field is None and t.scale == 1.0 and t.offset == 0.0
        object.__setattr__(self, "plain", plain)

    def sample(self, dv: ua.DataValue, now: datetime) -> tuple[Sample, str | None]:
        """The sample and, when it is bad for a reason worth a log line, that reason."""
        return self.sample_at(dv, self.time(dv, now))

    def sample_at(self, dv: ua.DataValue, ts: datetime) -> tuple[Sample, str | None]:
        """`sample` with its time already chosen (`time`)."""
        status = dv.StatusCode
        variant = dv.Value
        if self.plain and (status is None or status.value >> 30 == 0) and variant is not None:
            # Good and a plain number of a numeric type: nearly every value a PLC sends.
            raw = variant.Value
            if type(raw) in _PLAIN and variant.VariantType in _NUMERIC:
                return Sample(self.name, raw, Quality.GOOD, ts), None
        quality = quality_of(status)
        if quality is Quality.BAD or variant is None or variant.Value is None:
            return Sample(self.name, None, Quality.BAD, ts), status_problem(status)
        value, problem = self._pick(variant)
        if problem is not None:
            return Sample(self.name, None, Quality.BAD, ts), problem
        return Sample(self.name, value, quality, ts), None

    def time(self, dv: ua.DataValue, now: datetime) -> datetime:
        """The sample's time: the source's (or server's) timestamp as configured, in UTC,
        or `now` when the server gave none."""
        ts: datetime | None
        if self.timestamp == "source":
            source: datetime | None = dv.SourceTimestamp
            if source is not None and source.tzinfo is UTC and source.year > _NO_TIME_YEAR:
                return source  # asyncua's own: aware UTC already
            ts = _aware(source)
            if ts is not None and ts.year > _NO_TIME_YEAR:
                return ts
            ts = _aware(dv.ServerTimestamp)
        elif self.timestamp == "server":
            ts = _aware(dv.ServerTimestamp)
        else:
            return now
        if ts is not None and ts.year > _NO_TIME_YEAR:
            return ts
        return now

    def _pick(self, variant: ua.Variant) -> tuple[TagValue, str | None]:
        raw: Any = variant.Value
        vtype = variant.VariantType
        if isinstance(raw, list | tuple):
            if self.tag.index is None:
                return None, (
                    f"is an array ({vtype.name}[{len(raw)}]); choose an element with `index:`"
                )
            if self.tag.index >= len(raw):
                return None, f"has no element {self.tag.index} (array of {len(raw)})"
            raw = raw[self.tag.index]
        elif self.tag.index is not None:
            return None, f"is not an array ({vtype.name}), but `index` is set"
        if self.tag.field is not None or vtype is ua.VariantType.ExtensionObject:
            raw, problem = self._field(raw)
            if problem is not None:
                return None, problem
            return self._scalar(raw, None)
        return self._scalar(raw, vtype)

    def _field(self, raw: Any) -> tuple[Any, str | None]:
        type_name = type(raw).__name__
        if not dataclasses.is_dataclass(raw):
            return None, f"is {type_name}, not a structure, but `field` is set"
        names = [f.name for f in dataclasses.fields(raw)]
        if self.tag.field is None:
            return None, (
                f"is a structure ({type_name}); choose a field with `field:` "
                f"(one of {', '.join(names)})"
            )
        if self.tag.field not in names:
            return (
                None,
                f"structure {type_name} has no field '{self.tag.field}' ({', '.join(names)})",
            )
        return getattr(raw, self.tag.field), None

    def _scalar(self, raw: Any, vtype: ua.VariantType | None) -> tuple[TagValue, str | None]:
        if isinstance(raw, bool | int | float) and (vtype is None or vtype in _NUMERIC):
            if self.tag.scale != 1.0 or self.tag.offset != 0.0:
                return float(raw) * self.tag.scale + self.tag.offset, None
            if isinstance(raw, bool):
                return raw, None
            return (int(raw) if isinstance(raw, int) else float(raw)), None  # IntEnum -> int
        if self.numeric:
            kind = vtype.name if vtype is not None else type(raw).__name__
            return None, f"is {kind}, but a state rule or counter needs a number"
        if isinstance(raw, str):
            return raw, None
        if isinstance(raw, datetime):
            return raw.isoformat(), None
        if isinstance(raw, ua.LocalizedText):
            return raw.Text or "", None
        return str(raw), None
