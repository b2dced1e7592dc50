"""One publish response -> batches (`MonitoredTags.apply`): every change in one batch,
each sample with its own source time and quality, one time object per PLC scan."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from asyncua import ua

from connectors.mqtt.payloads import MachineTopics, tags_payload
from connectors.opcua.config import OpcUaConnection, OpcUaTag
from connectors.opcua.monitoring import MonitoredTags
from connectors.opcua.subscription import (
    BatchingSubscription,
    DataChanges,
    StatusChange,
    subscription_params,
)
from connectors.opcua.tags import TagTable
from connectors.sqlite.schema import tags_json
from connectors.sqlite.times import to_ms
from core.types import MachineRef, Quality

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
SCAN = datetime(2026, 12, 7, 11, 59, 59, 250000, tzinfo=UTC)


def dv(value: object, vtype: ua.VariantType, ts: datetime, status: int = 0) -> ua.DataValue:
    return ua.DataValue(
        ua.Variant(value, vtype),
        StatusCode=ua.StatusCode(status),
        # A new object per value, as asyncua decodes them.
        SourceTimestamp=datetime.fromtimestamp(ts.timestamp(), UTC),
        ServerTimestamp=datetime.fromtimestamp((ts + timedelta(seconds=1)).timestamp(), UTC),
    )


def notice(*items: tuple[int, ua.DataValue]) -> DataChanges:
    return DataChanges([ua.MonitoredItemNotification(ClientHandle=h, Value=v) for h, v in items])


def monitored(n: int) -> tuple[MonitoredTags, TagTable]:
    conn = OpcUaConnection(endpoint="opc.tcp://127.0.0.1:4840")
    tags = {f"t{i}": OpcUaTag(node=f"ns=2;s=m.t{i}") for i in range(n)}
    table = TagTable("m1", conn, tags, numeric=["t0"])
    return MonitoredTags(None, table, conn, lambda: NOW), table  # type: ignore[arg-type]


def test_one_publish_of_n_changes_is_one_batch_with_their_own_times_and_qualities() -> None:
    items, table = monitored(6)
    earlier = SCAN - timedelta(milliseconds=500)
    changes = notice(
        (1, dv(3, ua.VariantType.UInt32, SCAN)),
        (2, dv(1.5, ua.VariantType.Double, SCAN)),
        (3, dv(True, ua.VariantType.Boolean, earlier)),
        (4, dv(7.0, ua.VariantType.Float, SCAN, ua.StatusCodes.UncertainLastUsableValue)),
        (5, dv(None, ua.VariantType.Null, SCAN, ua.StatusCodes.BadSensorFailure)),
        (6, dv("A-100", ua.VariantType.String, earlier)),
        (99, dv(1, ua.VariantType.UInt32, SCAN)),  # not ours
    )
    batches, ours = items.apply(changes)
    assert ours == 6 and len(batches) == 1
    (batch,) = batches
    got = {s.tag: (s.value, s.quality, s.ts) for s in batch.samples}
    assert got == {
        "t0": (3, Quality.GOOD, SCAN),
        "t1": (1.5, Quality.GOOD, SCAN),
        "t2": (True, Quality.GOOD, earlier),
        "t3": (7.0, Quality.UNCERTAIN, SCAN),
        "t4": (None, Quality.BAD, SCAN),
        "t5": ("A-100", Quality.GOOD, earlier),
    }
    assert type(got["t0"][0]) is int and type(got["t2"][0]) is bool
    assert batch.ts == SCAN  # the latest change
    assert "t4" in table.problems and set(table.problems) == {"t4"}
    # One time object per scan: the batch's is its samples', so it is formatted once.
    assert all(s.ts is batch.ts for s in batch.samples if s.ts == SCAN)


def test_the_samples_times_in_the_payload_and_the_stored_row() -> None:
    items, _ = monitored(3)
    first = notice(*[(h, dv(h, ua.VariantType.UInt16, SCAN)) for h in (1, 2, 3)])
    later = SCAN + timedelta(seconds=1)
    second = notice((2, dv(20, ua.VariantType.UInt16, later)))
    items.apply(first)
    (batch,), _ = items.apply(second)
    assert batch.ts == later
    topics = MachineTopics("oee", MachineRef("s", "a", "l", "m1"))
    tags = json.loads(tags_payload(topics, batch))["tags"]
    assert {n: v["ts"] for n, v in tags.items()} == {
        "t0": "2026-12-07T11:59:59.250Z",
        "t1": "2026-12-07T12:00:00.250Z",
        "t2": "2026-12-07T11:59:59.250Z",
    }
    row = json.loads(tags_json(batch, to_ms(batch.ts)))
    assert row == {"t0": [1, 192, to_ms(SCAN)], "t1": [20, 192], "t2": [3, 192, to_ms(SCAN)]}


def test_a_tag_twice_in_one_publish_closes_a_batch_first() -> None:
    items, _ = monitored(2)
    later = SCAN + timedelta(milliseconds=100)
    changes = notice(
        (1, dv(1, ua.VariantType.UInt16, SCAN)),
        (2, dv(5, ua.VariantType.UInt16, SCAN)),
        (1, dv(2, ua.VariantType.UInt16, later)),
    )
    batches, ours = items.apply(changes)
    assert ours == 3
    assert [[(s.value, s.ts) for s in b.samples] for b in batches] == [
        [(1, SCAN), (5, SCAN)],
        [(2, later), (5, SCAN)],
    ]


def test_a_publish_response_is_one_notice_of_all_its_changes_in_order() -> None:
    got: list[object] = []
    sub = BatchingSubscription(None, subscription_params(1.0, 60.0), got.append)
    first = [
        ua.MonitoredItemNotification(ClientHandle=h, Value=dv(h, ua.VariantType.UInt16, SCAN))
        for h in (1, 2)
    ]
    second = [
        ua.MonitoredItemNotification(ClientHandle=3, Value=dv(3, ua.VariantType.UInt16, SCAN))
    ]
    result = ua.PublishResult()
    result.NotificationMessage.NotificationData = [
        ua.DataChangeNotification(MonitoredItems=first),
        ua.StatusChangeNotification(
            Status=ua.StatusCode(ua.StatusCodes.GoodSubscriptionTransferred)
        ),
        ua.DataChangeNotification(MonitoredItems=second),
    ]
    asyncio.run(sub.publish_callback(result))
    status, changes = got
    assert isinstance(status, StatusChange) and status.status.is_good()
    assert isinstance(changes, DataChanges)
    assert [m.ClientHandle for m in changes.items] == [1, 2, 3]
    # One notification, as nearly every publish carries: asyncua's own list, not copied.
    got.clear()
    result.NotificationMessage.NotificationData = [ua.DataChangeNotification(MonitoredItems=first)]
    asyncio.run(sub.publish_callback(result))
    assert [type(n) for n in got] == [DataChanges] and got[0].items is first  # type: ignore[attr-defined]
    # A keep-alive delivers nothing.
    got.clear()
    result.NotificationMessage.NotificationData = []
    asyncio.run(sub.publish_callback(result))
    assert got == []
