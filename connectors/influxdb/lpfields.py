"""The pieces of a line-protocol line (`connectors.influxdb.lineprotocol`): escaping of
measurements, keys and string fields, exact nanosecond timestamps, a machine's tag set
(cached), and fields that are left out when missing (None, NaN, infinite)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from core.types import MachineRef

__all__ = [
    "escape_key", "escape_measurement", "escape_string", "fields", "finite_float",
    "opt_float", "opt_int", "opt_ms", "opt_string", "tagset", "timestamp_ns",
]  # fmt: skip

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

# Newlines would end the line; line protocol has no escape for them in keys, so they
# become spaces (escaped). Backslashes are left alone, as InfluxDB reads them literally.
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\ "})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\ "})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\"})


def escape_measurement(name: str) -> str:
    """Escape a measurement name (commas, spaces)."""
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_key(text: str) -> str:
    """Escape a tag key, tag value or field key (commas, equals signs, spaces)."""
    return text.translate(_KEY_ESCAPES)


def escape_string(text: str) -> str:
    """A string field value, quoted, with double quotes and backslashes escaped."""
    return '"' + text.translate(_STRING_ESCAPES) + '"'


def timestamp_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch, exact (float seconds would lose the microseconds)."""
    if ts.tzinfo is None:  # the pipeline uses aware UTC; treat a stray naive time as UTC
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _US * 1000


@lru_cache(maxsize=4096)
def tagset(ref: MachineRef) -> str:
    """`area=…,line=…,machine=…,site=…` of a machine (sorted, escaped; cached)."""
    return (
        f"area={escape_key(ref.area)},line={escape_key(ref.line)},"
        f"machine={escape_key(ref.machine)},site={escape_key(ref.site)}"
    )


def finite_float(value: float) -> str | None:
    """A float field value; None (left out) for NaN and infinities."""
    # NaN and infinities are not representable in line protocol: the point would be rejected.
    f = float(value)
    return repr(f) if math.isfinite(f) else None


def fields(pairs: list[tuple[str, str | None]]) -> str:
    """`k=v,…` of the pairs whose value is not None."""
    return ",".join(f"{k}={v}" for k, v in pairs if v is not None)


def opt_float(value: float | None) -> str | None:
    """A float field, or None when missing or not finite."""
    return None if value is None else finite_float(value)


def opt_string(value: str | None) -> str | None:
    """A string field, or None when missing or empty."""
    return escape_string(value) if value else None


def opt_int(value: int | None) -> str | None:
    """An integer field, or None when missing."""
    return None if value is None else f"{value}i"


def opt_ms(ts: datetime | None) -> str | None:
    """Milliseconds since the epoch as an integer field (None: left out)."""
    return None if ts is None else f"{round(ts.timestamp() * 1000)}i"
