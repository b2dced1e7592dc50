"""DataValue -> Sample: quality from status codes, timestamps, arrays, structures, types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from asyncua import ua

from connectors.opcua.values import ValueReader, quality_of
from core.types import Quality
from edge.config import OpcUaTag

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SOURCE = datetime(2026, 11, 25, 11, 59, 58, 500000)  # asyncua hands out naive UTC
SERVER = datetime(2026, 11, 25, 11, 59, 59, 0)


def dv(
    value: object, vtype: ua.VariantType, status: int = ua.StatusCodes.Good, **ts: datetime
) -> ua.DataValue:
    return ua.DataValue(
        ua.Variant(value, vtype),
        StatusCode=ua.StatusCode(status),
        SourceTimestamp=ts.get("source"),
        ServerTimestamp=ts.get("server"),
    )


def reader(node: str = "ns=2;s=x", **kw: object) -> ValueReader:
    numeric = bool(kw.pop("numeric", False))
    timestamp = kw.pop("timestamp", "source")
    return ValueReader("t", OpcUaTag(node=node, **kw), timestamp, numeric)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "quality"),
    [
        (ua.StatusCodes.Good, Quality.GOOD),
        (ua.StatusCodes.GoodClamped, Quality.GOOD),
        (ua.StatusCodes.UncertainLastUsableValue, Quality.UNCERTAIN),
        (ua.StatusCodes.UncertainSensorNotAccurate, Quality.UNCERTAIN),
        (ua.StatusCodes.BadSensorFailure, Quality.BAD),
        (ua.StatusCodes.BadNodeIdUnknown, Quality.BAD),
    ],
)
def test_quality_from_status_severity(status: int, quality: Quality) -> None:
    assert quality_of(ua.StatusCode(status)) is quality


def test_uncertain_keeps_its_value() -> None:
    s, problem = reader().sample(
        dv(7.0, ua.VariantType.Double, ua.StatusCodes.UncertainLastUsableValue), NOW
    )
    assert (s.value, s.quality, problem) == (7.0, Quality.UNCERTAIN, None)


def test_bad_status_is_a_bad_sample_with_the_status_named() -> None:
    s, problem = reader().sample(
        dv(None, ua.VariantType.Null, ua.StatusCodes.BadSensorFailure), NOW
    )
    assert (s.value, s.quality) == (None, Quality.BAD)
    assert problem == "reads BadSensorFailure"
    _, problem = reader().sample(
        dv(None, ua.VariantType.Null, ua.StatusCodes.BadNodeIdUnknown), NOW
    )
    assert problem == "does not exist on the server (BadNodeIdUnknown)"


@pytest.mark.parametrize(
    ("mode", "stamps", "expected"),
    [
        ("source", {"source": SOURCE, "server": SERVER}, SOURCE.replace(tzinfo=UTC)),
        ("source", {"server": SERVER}, SERVER.replace(tzinfo=UTC)),
        ("source", {}, NOW),
        ("server", {"source": SOURCE, "server": SERVER}, SERVER.replace(tzinfo=UTC)),
        ("server", {"source": SOURCE}, NOW),
        ("gateway", {"source": SOURCE, "server": SERVER}, NOW),
    ],
)
def test_timestamp_choice_and_fallback(
    mode: str, stamps: dict[str, datetime], expected: datetime
) -> None:
    s, _ = reader(timestamp=mode).sample(dv(1, ua.VariantType.UInt16, **stamps), NOW)
    assert s.ts == expected
    assert s.ts.tzinfo is not None


def test_opc_ua_min_date_means_no_timestamp() -> None:
    s, _ = reader().sample(dv(1, ua.VariantType.UInt16, source=datetime(1601, 1, 1)), NOW)
    assert s.ts == NOW


def test_array_needs_an_index() -> None:
    value = dv([1.5, 2.5, 3.5], ua.VariantType.Double)
    s, problem = reader().sample(value, NOW)
    assert (s.quality, problem) == (
        Quality.BAD,
        "is an array (Double[3]); choose an element with `index:`",
    )
    s, problem = reader(index=2).sample(value, NOW)
    assert (s.value, s.quality, problem) == (3.5, Quality.GOOD, None)
    _, problem = reader(index=3).sample(value, NOW)
    assert problem == "has no element 3 (array of 3)"
    _, problem = reader(index=0).sample(dv(1.0, ua.VariantType.Double), NOW)
    assert problem == "is not an array (Double), but `index` is set"


@dataclass
class Status:
    State: int
    Seconds: float


def test_structure_needs_a_field() -> None:
    value = dv(Status(3, 1.5), ua.VariantType.ExtensionObject)
    _, problem = reader().sample(value, NOW)
    assert (
        problem == "is a structure (Status); choose a field with `field:` (one of State, Seconds)"
    )
    s, problem = reader(field="State").sample(value, NOW)
    assert (s.value, problem) == (3, None)
    _, problem = reader(field="Nope").sample(value, NOW)
    assert problem == "structure Status has no field 'Nope' (State, Seconds)"


def test_numeric_role_refuses_text() -> None:
    s, problem = reader(numeric=True).sample(dv("RUN", ua.VariantType.String), NOW)
    assert (s.quality, problem) == (
        Quality.BAD,
        "is String, but a state rule or counter needs a number",
    )
    s, problem = reader().sample(dv("RUN", ua.VariantType.String), NOW)
    assert (s.value, s.quality, problem) == ("RUN", Quality.GOOD, None)


def test_scale_and_offset_and_int_types() -> None:
    s, _ = reader(scale=0.1, offset=-40).sample(dv(650, ua.VariantType.Int16), NOW)
    assert s.value == pytest.approx(25.0)
    s, _ = reader().sample(dv(4294967295, ua.VariantType.UInt32), NOW)
    assert (s.value, type(s.value)) == (4294967295, int)
    s, _ = reader().sample(dv(True, ua.VariantType.Boolean), NOW)
    assert s.value is True
