"""The MQTT sink's outbox record: one MQTT message packed into `Record.data`.

Format version 1, 3 bytes of header, then the topic, then the payload:

    offset  size  field
    0       1     header: bits 7-4 format version (1), bit 3 reserved (0),
                  bit 2 retain, bits 1-0 QoS (0, 1 or 2)
    1       2     topic length in bytes, unsigned big-endian (MQTT caps a topic at 65,535)
    3       n     topic, UTF-8
    3 + n   rest  payload, raw bytes (may be empty)

Example: `pack(Message("a/b", b"x", 1, True))` is `b"\\x15\\x00\\x03a/bx"`.

The payload is whatever the sink publishes (JSON, or the `online`/`offline` strings);
nothing is re-encoded on the way out. A record that does not parse raises ValueError;
the drain reports and drops it, since no retry could ever publish it.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = ["FORMAT_VERSION", "Message", "pack", "unpack"]

FORMAT_VERSION = 1
_HEAD = struct.Struct(">BH")
_VERSION_SHIFT = 4
_RESERVED = 0x08
_RETAIN = 0x04
_QOS = 0x03
MAX_TOPIC_BYTES = 0xFFFF


class Message(NamedTuple):
    """One MQTT message as the sink publishes it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


def pack(msg: Message) -> bytes:
    """`msg` in the record format above; ValueError for what MQTT could not carry."""
    topic = msg.topic.encode("utf-8")
    if not topic or len(topic) > MAX_TOPIC_BYTES:
        raise ValueError(f"an MQTT topic has 1..65535 bytes, got {len(topic)}")
    if msg.qos not in (0, 1, 2):
        raise ValueError(f"QoS must be 0, 1 or 2, got {msg.qos}")
    head = FORMAT_VERSION << _VERSION_SHIFT | (_RETAIN if msg.retain else 0) | msg.qos
    return _HEAD.pack(head, len(topic)) + topic + msg.payload


def unpack(data: bytes) -> Message:
    """The message in `data` (from `pack`); ValueError when it is not a valid record."""
    if len(data) < _HEAD.size:
        raise ValueError(f"record of {len(data)} bytes is shorter than its header")
    head, n = _HEAD.unpack_from(data)
    version = head >> _VERSION_SHIFT
    if version != FORMAT_VERSION:
        raise ValueError(f"record format {version} is not {FORMAT_VERSION}")
    if head & _RESERVED or head & _QOS == 3:
        raise ValueError(f"invalid record header 0x{head:02x}")
    end = _HEAD.size + n
    if n == 0 or end > len(data):
        raise ValueError(f"topic length {n} does not fit a record of {len(data)} bytes")
    topic = data[_HEAD.size : end].decode("utf-8")  # UnicodeDecodeError is a ValueError
    return Message(topic, bytes(data[end:]), head & _QOS, bool(head & _RETAIN))
