"""Decode Modbus registers into tag values.

Byte orders name the bytes of a value from the most significant (A) and say in which
order they travel on the wire, i.e. in register-address order, high byte first:

- ``ABCD`` big-endian: words in address order, high byte first in each word.
- ``DCBA`` little-endian: the whole byte string reversed.
- ``BADC`` word order kept, bytes swapped within each word.
- ``CDAB`` word order reversed, bytes big-endian within each word.

For 64-bit values the same rules hold (``CDAB`` of ``ABCDEFGH`` is ``GH EF CD AB``);
for 16-bit values ``CDAB`` equals ``ABCD`` and ``DCBA`` equals ``BADC``. A ``bit`` tag
takes its bit from the 16-bit value decoded in the tag's order. Strings advance with
the register address; only the byte order inside a register applies (``BADC``/``DCBA``
put the first character in the low byte).

Every order reduces to two struct endiannesses: how words are packed to bytes and how
the value is unpacked from them, so decoding is one ``unpack_from`` per tag.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connectors.modbus.config import DataType, ModbusTag, WordOrder
from core.types import TagValue

__all__ = [
    "ENDIAN",
    "STRUCT_CODE",
    "DecodeError",
    "Decoder",
    "RegisterBlock",
    "decode",
    "make_decoder",
]


class DecodeError(ValueError):
    """No usable value: NaN or infinity, or too few registers for the tag; its sample
    is bad. The only exception a decoder raises, whatever the registers hold."""


@dataclass(frozen=True, slots=True)
class RegisterBlock:
    """The words of one read, packed once in both byte orders so tags can unpack slices.

    ``be`` holds each word high byte first, ``le`` low byte first. For coils and
    discrete inputs ``words`` holds the bits and the byte strings stay empty.
    """

    words: Sequence[int]
    be: bytes = b""
    le: bytes = b""

    @classmethod
    def from_registers(cls, words: Sequence[int]) -> RegisterBlock:
        """Pack 16-bit register values (one read response) for decoding."""
        n = len(words)
        return cls(words, struct.pack(f">{n}H", *words), struct.pack(f"<{n}H", *words))

    @classmethod
    def from_bits(cls, bits: Sequence[int]) -> RegisterBlock:
        """Wrap the bits of a coil / discrete-input read."""
        return cls(bits)


Decoder = Callable[[RegisterBlock, int], TagValue]
"""Decodes one tag from a block, given the tag's offset (in words) inside the block."""

# (pack words with, unpack value with): see the module docstring.
ENDIAN: dict[WordOrder, tuple[str, str]] = {
    WordOrder.ABCD: ("be", ">"),
    WordOrder.DCBA: ("be", "<"),
    WordOrder.BADC: ("le", ">"),
    WordOrder.CDAB: ("le", "<"),
}

STRUCT_CODE = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.INT64: "q",
    DataType.UINT64: "Q",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
    DataType.BIT: "H",
}


def make_decoder(tag: ModbusTag) -> Decoder:
    """Build the decoder of one tag (once, at start-up: it precomputes the struct)."""
    if tag.table.is_bit:
        return _bit_table
    if tag.type is DataType.STRING:
        assert tag.length is not None
        swapped = tag.order in (WordOrder.BADC, WordOrder.DCBA)
        return _string_decoder("le" if swapped else "be", tag.length)
    buf, end = ENDIAN[tag.order]
    unpack = struct.Struct(end + STRUCT_CODE[tag.type]).unpack_from
    if tag.type is DataType.BIT:
        assert tag.bit is not None
        return _bit_decoder(buf, unpack, tag.bit)
    if tag.type in (DataType.FLOAT32, DataType.FLOAT64):
        return _float_decoder(buf, unpack, tag.scale, tag.offset)
    return _int_decoder(buf, unpack, tag.scale, tag.offset)


def decode(tag: ModbusTag, registers: Sequence[int]) -> TagValue:
    """Decode one tag from its own registers (or bits). Convenient, not the hot path."""
    if tag.table.is_bit:
        block = RegisterBlock.from_bits([bool(b) for b in registers])
    else:
        block = RegisterBlock.from_registers(registers)
    return make_decoder(tag)(block, 0)


def _bit_table(block: RegisterBlock, offset: int) -> TagValue:
    try:
        return bool(block.words[offset])
    except IndexError:
        raise DecodeError(f"{len(block.words)} bits, none at {offset}") from None


_Unpack = Callable[[bytes, int], tuple[int | float, ...]]


def _raw(unpack: _Unpack, data: bytes, at: int) -> int | float:
    """The number that starts `at` registers into `data`."""
    try:
        return unpack(data, at * 2)[0]
    except struct.error:
        raise DecodeError(f"{len(data) // 2} registers, too few for a value at {at}") from None


def _int_decoder(buf: str, unpack: _Unpack, scale: float, offset: float) -> Decoder:
    if scale == 1 and offset == 0:

        def plain(block: RegisterBlock, at: int) -> TagValue:
            return _raw(unpack, getattr(block, buf), at)

        return plain

    def scaled(block: RegisterBlock, at: int) -> TagValue:
        return _finite(_raw(unpack, getattr(block, buf), at) * scale + offset)

    return scaled


def _float_decoder(buf: str, unpack: _Unpack, scale: float, offset: float) -> Decoder:
    def dec(block: RegisterBlock, at: int) -> TagValue:
        return _finite(float(_raw(unpack, getattr(block, buf), at)) * scale + offset)

    return dec


def _bit_decoder(buf: str, unpack: _Unpack, bit: int) -> Decoder:
    mask = 1 << bit

    def dec(block: RegisterBlock, at: int) -> TagValue:
        return bool(int(_raw(unpack, getattr(block, buf), at)) & mask)

    return dec


def _string_decoder(buf: str, length: int) -> Decoder:
    size = 2 * length

    def dec(block: RegisterBlock, at: int) -> TagValue:
        data: bytes = getattr(block, buf)
        if at * 2 + size > len(data):
            raise DecodeError(f"{len(data) // 2} registers, too few for {length} at {at}")
        raw = data[at * 2 : at * 2 + size]
        # PLCs leave garbage after a NUL terminator, so the text ends at the first NUL.
        return raw.split(b"\0", 1)[0].decode("ascii", "replace").rstrip(" ")

    return dec


def _finite(value: float) -> float:
    # A float register that holds NaN/Inf (uninitialised, sensor fault) is no reading.
    if not math.isfinite(value):
        raise DecodeError(f"raw value is {value}")
    return float(value)
