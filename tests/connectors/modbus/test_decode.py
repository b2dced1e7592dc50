"""Decoding against values encoded independently: struct big-endian, then permuted."""

from __future__ import annotations

import math
import struct

import pytest

from connectors.modbus.decode import DecodeError, RegisterBlock, decode, make_decoder
from edge.config import DataType, ModbusTag, WordOrder

STRUCT = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.INT64: "q",
    DataType.UINT64: "Q",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}


def wire(big_endian: bytes, order: str) -> list[int]:
    """Registers as the device sends them, per the order definitions (bytes A.. = MSB..)."""
    pairs = [big_endian[i : i + 2] for i in range(0, len(big_endian), 2)]
    if order == "ABCD":
        out = pairs
    elif order == "DCBA":  # every byte reversed
        out = [p[::-1] for p in reversed(pairs)]
    elif order == "BADC":  # words kept, bytes swapped in each
        out = [p[::-1] for p in pairs]
    elif order == "CDAB":  # words reversed, bytes kept
        out = list(reversed(pairs))
    else:
        raise AssertionError(order)
    return [p[0] << 8 | p[1] for p in out]


def encode(dtype: DataType, value: float, order: str) -> list[int]:
    return wire(struct.pack(">" + STRUCT[dtype], value), order)


INT_CASES = {
    DataType.INT16: [0, 1, -1, 12345, -32768, 32767],
    DataType.UINT16: [0, 1, 0x1234, 65535],
    DataType.INT32: [0, -1, 0x12345678, -(2**31), 2**31 - 1, -123456789],
    DataType.UINT32: [0, 0x12345678, 2**32 - 1, 0x00010000],
    DataType.INT64: [0, -1, 0x0102030405060708, -(2**63), 2**63 - 1],
    DataType.UINT64: [0, 0x0102030405060708, 2**64 - 1, 2**32],
}
FLOAT_CASES = {
    DataType.FLOAT32: [0.0, 1.5, -123.25, 3.4028234663852886e38, -1.1754943508222875e-38],
    DataType.FLOAT64: [0.0, math.pi, -2.5e-300, 1.7976931348623157e308, -1.0],
}
ORDERS = [o.value for o in WordOrder]


def tag(dtype: DataType | str, order: str = "ABCD", **kw: object) -> ModbusTag:
    return ModbusTag.model_validate({"address": 0, "type": dtype, "order": order, **kw})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("dtype", "value"), [(t, v) for t, vs in INT_CASES.items() for v in vs])
def test_integers_every_order(dtype: DataType, value: int, order: str) -> None:
    got = decode(tag(dtype, order), encode(dtype, value, order))
    assert got == value
    assert type(got) is int


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("dtype", "value"), [(t, v) for t, vs in FLOAT_CASES.items() for v in vs])
def test_floats_every_order(dtype: DataType, value: float, order: str) -> None:
    got = decode(tag(dtype, order), encode(dtype, value, order))
    assert got == value
    assert type(got) is float


def test_orders_on_known_registers() -> None:
    """A hand-written anchor for 0x11223344 and 0x1122334455667788."""
    regs32 = {
        "ABCD": [0x1122, 0x3344],
        "DCBA": [0x4433, 0x2211],
        "BADC": [0x2211, 0x4433],
        "CDAB": [0x3344, 0x1122],
    }
    for order, regs in regs32.items():
        assert decode(tag("uint32", order), regs) == 0x11223344
    regs64 = {
        "ABCD": [0x1122, 0x3344, 0x5566, 0x7788],
        "DCBA": [0x8877, 0x6655, 0x4433, 0x2211],
        "BADC": [0x2211, 0x4433, 0x6655, 0x8877],
        "CDAB": [0x7788, 0x5566, 0x3344, 0x1122],
    }
    for order, regs in regs64.items():
        assert decode(tag("uint64", order), regs) == 0x1122334455667788
    assert decode(tag("uint16", "BADC"), [0x1122]) == 0x2211
    assert decode(tag("uint16", "CDAB"), [0x1122]) == 0x1122


def test_scale_and_offset() -> None:
    assert decode(tag("int16", scale=0.5, offset=10), encode(DataType.INT16, -100, "ABCD")) == -40.0
    got = decode(tag("uint16", scale=2), [21])
    assert (got, type(got)) == (42.0, float)
    got = decode(tag("int32", "CDAB", offset=-1), encode(DataType.INT32, -5, "CDAB"))
    assert (got, type(got)) == (-6.0, float)
    got = decode(tag("float32", scale=0.25, offset=1), encode(DataType.FLOAT32, 8.0, "ABCD"))
    assert got == 3.0


@pytest.mark.parametrize(
    ("register", "bit", "expected"),
    [
        (0x0001, 0, True),
        (0x0001, 1, False),
        (0x8000, 15, True),
        (0x7FFF, 15, False),
        (0xFFFE, 0, False),
        (0x0010, 4, True),
    ],
)
def test_bit_in_register(register: int, bit: int, expected: bool) -> None:
    got = decode(tag("bit", table="holding", bit=bit), [register])
    assert got is expected


def test_bit_follows_byte_order() -> None:
    # BADC swaps the bytes of the word first: 0x0100 on the wire is the value 0x0001.
    assert decode(tag("bit", "BADC", bit=0), [0x0100]) is True
    assert decode(tag("bit", "BADC", bit=8), [0x0100]) is False


def test_coil_and_discrete() -> None:
    assert decode(ModbusTag(table="coil", address=3), [True]) is True
    assert decode(ModbusTag(table="discrete", address=3), [False]) is False


def str_regs(data: bytes, swap: bool = False) -> list[int]:
    pairs = [data[i : i + 2] for i in range(0, len(data), 2)]
    return [(p[1] << 8 | p[0]) if swap else (p[0] << 8 | p[1]) for p in pairs]


@pytest.mark.parametrize(
    ("raw", "length", "expected"),
    [
        (b"HELLO\0", 3, "HELLO"),  # odd number of characters
        (b"ABCDE\0", 3, "ABCDE"),  # odd register count, odd characters, NUL padded
        (b"AB  ", 2, "AB"),
        (b"A\0GARBAGE\0", 5, "A"),
        (b"\0\0", 1, ""),
        (b"XYZW", 2, "XYZW"),
    ],
)
def test_strings(raw: bytes, length: int, expected: str) -> None:
    for order, swap in (("ABCD", False), ("CDAB", False), ("BADC", True), ("DCBA", True)):
        got = decode(tag("string", order, length=length), str_regs(raw, swap))
        assert got == expected


def test_string_inside_a_block() -> None:
    block = RegisterBlock.from_registers([0xFFFF, *str_regs(b"OK\0\0"), 0xFFFF])
    assert make_decoder(tag("string", length=2))(block, 1) == "OK"


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", [DataType.FLOAT32, DataType.FLOAT64])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_bad(dtype: DataType, value: float, order: str) -> None:
    with pytest.raises(DecodeError):
        decode(tag(dtype, order), encode(dtype, value, order))


def test_offsets_inside_a_block() -> None:
    regs = [0] + encode(DataType.INT32, -7, "CDAB") + encode(DataType.FLOAT64, 2.5, "DCBA")
    block = RegisterBlock.from_registers(regs)
    assert make_decoder(tag("int32", "CDAB"))(block, 1) == -7
    assert make_decoder(tag("float64", "DCBA"))(block, 3) == 2.5
