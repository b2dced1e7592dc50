"""Every tag of one read request decoded at once: one precompiled `struct` unpack per
byte order instead of a decoder call per tag (issue 17: 30 tags of a poll took ~30 µs
one by one, the largest share of the gateway's own work per sample).

At start-up the tags of a request are sorted into groups by how their bytes are read
(`connectors.modbus.decode`: the packed words and the struct endianness). Each group's
tags that do not overlap become one `struct.Struct` with pad bytes for the gaps; a
tag that shares registers with another of its group (bits of one word, a value read
twice in two types), a string, and every coil or discrete input keep their own decoder.
After the unpack a float is checked for NaN/infinity and scale and offset are applied,
with the same results and the same `DecodeError`s as `decode.make_decoder` gives.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Mapping

from connectors.modbus.config import DataType, ModbusTag
from connectors.modbus.decode import (
    ENDIAN,
    STRUCT_CODE,
    DecodeError,
    Decoder,
    RegisterBlock,
    make_decoder,
)
from connectors.modbus.plan import ReadRequest
from core.types import TagValue

__all__ = ["BAD", "Bad", "BlockDecoder", "Value"]


class Bad(enum.Enum):
    """In `BlockDecoder.values`: the tag has no usable value (a bad sample)."""

    BAD = 0


BAD = Bad.BAD
Value = TagValue | Bad

# What follows the unpack, per tag: nothing, a float's check, scale/offset, a bit's mask.
_PLAIN, _FLOAT, _SCALED, _BIT = range(4)


class BlockDecoder:
    """Decodes the tags of `request` (in its order) from one answer's words."""

    def __init__(self, request: ReadRequest, decoders: Mapping[str, Decoder] | None = None):
        self.names = tuple(p.name for p in request.tags)
        self._bits = request.table.is_bit
        own = decoders or {}
        # Every tag's own decoder too: for an answer too short for the groups' structs.
        self._each = [(own.get(p.name) or make_decoder(p.tag), p.offset) for p in request.tags]
        self._alone: list[tuple[int, Decoder, int]] = []  # (slot, decoder, offset)
        self._groups: list[tuple[struct.Struct, str, tuple[int, ...]]] = []
        self._post: list[tuple[int, int, float, float]] = []  # (slot, kind, a, b)
        groups: dict[tuple[str, str], list[tuple[int, int, ModbusTag]]] = {}
        for slot, p in enumerate(request.tags):
            if self._bits or p.tag.type is DataType.STRING:
                self._alone.append((slot, *self._each[slot]))
            else:
                groups.setdefault(ENDIAN[p.tag.order], []).append((slot, p.offset, p.tag))
        for (buf, end), members in groups.items():
            self._compile(buf, end, members)

    def _compile(
        self,
        buf: str,
        end: str,
        members: list[tuple[int, int, ModbusTag]],
    ) -> None:
        fmt, at, slots = end, 0, []
        for slot, offset, tag in sorted(members, key=lambda m: m[1]):
            code = STRUCT_CODE[tag.type]
            size = struct.calcsize(end + code)
            if offset * 2 < at:  # overlaps the one before: decoded on its own
                self._alone.append((slot, *self._each[slot]))
                continue
            fmt += f"{offset * 2 - at}x" * (offset * 2 > at) + code
            at = offset * 2 + size
            slots.append(slot)
            self._post_of(slot, tag)
        if slots:
            self._groups.append((struct.Struct(fmt), buf, tuple(slots)))

    def _post_of(self, slot: int, tag: ModbusTag) -> None:
        if tag.type is DataType.BIT:
            assert tag.bit is not None
            self._post.append((slot, _BIT, 1 << tag.bit, 0.0))
        elif tag.type in (DataType.FLOAT32, DataType.FLOAT64):
            self._post.append((slot, _FLOAT, tag.scale, tag.offset))
        elif tag.scale != 1 or tag.offset != 0:
            self._post.append((slot, _SCALED, tag.scale, tag.offset))

    def values(self, block: RegisterBlock) -> list[Value]:
        """Each tag's value, in the request's order; `BAD` where there is none."""
        out: list[Value] = [BAD] * len(self.names)
        for unpacker, buf, slots in self._groups:
            data = getattr(block, buf)
            if len(data) < unpacker.size:  # a short answer: each tag on its own
                return self._one_by_one(block)
            for slot, value in zip(slots, unpacker.unpack_from(data), strict=True):
                out[slot] = value
        for slot, kind, a, b in self._post:
            out[slot] = _finish(out[slot], kind, a, b)
        for slot, decoder, offset in self._alone:
            out[slot] = _decoded(decoder, block, offset)
        return out

    def _one_by_one(self, block: RegisterBlock) -> list[Value]:
        return [_decoded(decoder, block, offset) for decoder, offset in self._each]


def _decoded(decoder: Decoder, block: RegisterBlock, offset: int) -> Value:
    try:
        return decoder(block, offset)
    except DecodeError:
        return BAD


def _finish(raw: Value, kind: int, a: float, b: float) -> Value:
    assert isinstance(raw, (int, float))  # noqa: UP038 - what a struct unpacks; a tuple is faster
    if kind == _BIT:
        return bool(int(raw) & int(a))
    value = float(raw) * a + b if kind == _FLOAT else raw * a + b
    return float(value) if math.isfinite(value) else BAD
