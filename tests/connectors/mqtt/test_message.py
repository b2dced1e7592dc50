"""The MQTT sink's outbox record format (`connectors.mqtt.message`): exact bytes, round
trips (unicode topics, empty and binary payloads), limits, and corrupt records."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.mqtt.message import Message, pack, unpack
from edge.outbox import Outbox, Priority, Record

TOPICS = [
    "a",
    "oee/Köln/Halle 1/Linie Ä/Presse-Ω/state",
    "工厂/车间/产线/机器/state",
    "oee/🙂/x y/…/tags",
    "/leading/and/trailing/",
]
PAYLOADS = [b"", b"\x00\xff\x00", '{"v":1,"reason":"Störung"}'.encode(), b"x" * 70_000]


def test_the_bytes_are_as_documented() -> None:
    # header 0x15: format 1 (high nibble), retain (bit 2), QoS 1; topic length 3, big-endian.
    assert pack(Message("a/b", b"x", 1, True)) == b"\x15\x00\x03a/bx"
    assert pack(Message("t", b"", 0, False)) == b"\x10\x00\x01t"
    assert pack(Message("t", b"p", 2, False)) == b"\x12\x00\x01tp"
    assert pack(Message("ä", b"", 1, False)) == b"\x11\x00\x02\xc3\xa4"  # length in bytes


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=["empty", "binary", "json", "70k"])
@pytest.mark.parametrize(("qos", "retain"), [(0, False), (1, True), (2, False), (2, True)])
def test_round_trip(topic: str, payload: bytes, qos: int, retain: bool) -> None:
    msg = Message(topic, payload, qos, retain)
    data = pack(msg)
    assert len(data) == 3 + len(topic.encode()) + len(payload)
    got = unpack(data)
    assert got == msg
    assert type(got.payload) is bytes and type(got.retain) is bool


def test_round_trip_through_the_outbox_file(tmp_path: Path) -> None:
    msgs = [Message(t, PAYLOADS[i % len(PAYLOADS)], 1, i % 2 == 0) for i, t in enumerate(TOPICS)]
    with Outbox(tmp_path / "o.sqlite", max_bytes=1_000_000) as box:
        box.append([Record("mqtt", Priority.EVENTS, pack(m)) for m in msgs])
    with Outbox(tmp_path / "o.sqlite", max_bytes=1_000_000) as box:
        assert [unpack(e.data) for e in box.peek("mqtt", 100)] == msgs


def test_the_longest_topic_fits_and_one_byte_more_does_not() -> None:
    longest = "t" * 65_535
    assert unpack(pack(Message(longest, b"", 1, False))).topic == longest
    with pytest.raises(ValueError, match="1..65535 bytes"):
        pack(Message(longest + "t", b"", 1, False))
    with pytest.raises(ValueError, match="1..65535 bytes"):
        pack(Message("", b"x", 1, False))
    with pytest.raises(ValueError, match="QoS"):
        pack(Message("t", b"", 3, False))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "shorter than its header"),
        (b"\x11\x00", "shorter than its header"),
        (b"\x21\x00\x01t", "format 2"),  # a future format
        (b"\x01\x00\x01t", "format 0"),
        (b"\x19\x00\x01t", "header 0x19"),  # reserved bit
        (b"\x13\x00\x01t", "header 0x13"),  # QoS 3
        (b"\x11\x00\x05abc", "topic length 5"),
        (b"\x11\x00\x00abc", "topic length 0"),
        (b"\x11\x00\x02\xc3(", "utf-8"),  # not UTF-8
    ],
)
def test_corrupt_records_raise_value_error(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        unpack(data)
