"""connectors.modbus.blockdecode: a request's tags decoded at once give exactly what each
tag's own decoder (connectors.modbus.decode, with its worked examples) gives, BAD where
that raises DecodeError, for any layout: every type and byte order, gaps, overlaps,
bits of one word, scale and offset, NaN and infinity, strings."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.modbus.blockdecode import BAD, BlockDecoder
from connectors.modbus.config import DataType, ModbusTag, RegisterTable, WordOrder
from connectors.modbus.decode import DecodeError, RegisterBlock, make_decoder
from connectors.modbus.plan import PlannedTag, ReadRequest

WORDS = {"int16": 1, "uint16": 1, "bit": 1, "int32": 2, "uint32": 2, "float32": 2,
         "int64": 4, "uint64": 4, "float64": 4}  # fmt: skip


def one_by_one(req: ReadRequest, block: RegisterBlock) -> list[Any]:
    out: list[Any] = []
    for p in req.tags:
        try:
            out.append(make_decoder(p.tag)(block, p.offset))
        except DecodeError:
            out.append(BAD)
    return out


def request(
    tags: list[tuple[str, ModbusTag, int]], table: RegisterTable, count: int
) -> ReadRequest:
    planned = tuple(PlannedTag(name, tag, offset) for name, tag, offset in tags)
    return ReadRequest(table, 0, count, planned)


def words_of(be: bytes) -> list[int]:
    return list(struct.unpack(f">{len(be) // 2}H", be))


def test_a_typical_poll_unpacks_as_each_tag_would() -> None:
    # Registers 0..5: 0x0102, 0xFFFE, float32 1.5 (0x3FC0 0x0000), float32 CDAB 2.25
    # (0x4010 0x0000 sent low word first), so: 258, -2 as int16, 1.5, 2.25, and bit 1 of
    # 0x0102 (0b1_0000_0010) is set.
    words = [0x0102, 0xFFFE, 0x3FC0, 0x0000, 0x0000, 0x4010]
    tags = [
        ("a", ModbusTag(address=0), 0),
        ("b", ModbusTag(address=1, type=DataType.INT16), 1),
        ("c", ModbusTag(address=2, type=DataType.FLOAT32), 2),
        ("d", ModbusTag(address=4, type=DataType.FLOAT32, order=WordOrder.CDAB), 4),
        ("e", ModbusTag(address=0, type=DataType.BIT, bit=1), 0),  # shares register 0
        ("f", ModbusTag(address=1, scale=0.5, offset=1), 1),  # 65534 * 0.5 + 1
    ]
    req = request(tags, RegisterTable.HOLDING, len(words))
    block = RegisterBlock.from_registers(words)
    assert BlockDecoder(req).values(block) == [258, -2, 1.5, 2.25, True, 32768.0]
    assert BlockDecoder(req).names == ("a", "b", "c", "d", "e", "f")


def test_nan_and_infinity_are_bad_as_from_their_own_decoder() -> None:
    nan, inf = struct.pack(">f", float("nan")), struct.pack(">f", float("inf"))
    words = words_of(nan + inf + struct.pack(">f", 0.5))
    tags = [
        (n, ModbusTag(address=2 * i, type=DataType.FLOAT32), 2 * i) for i, n in enumerate("xyz")
    ]
    req = request(tags, RegisterTable.HOLDING, 6)
    assert BlockDecoder(req).values(RegisterBlock.from_registers(words)) == [BAD, BAD, 0.5]


def test_an_answer_too_short_for_a_tag_makes_only_that_tag_bad() -> None:
    tags = [("u", ModbusTag(address=0), 0), ("v", ModbusTag(address=1, type=DataType.UINT32), 1)]
    req = request(tags, RegisterTable.HOLDING, 3)
    assert BlockDecoder(req).values(RegisterBlock.from_registers([7, 8])) == [7, BAD]


def test_coils_keep_their_own_decoder() -> None:
    tags = [(f"c{i}", ModbusTag(address=i, table=RegisterTable.COIL), i) for i in range(3)]
    req = request(tags, RegisterTable.COIL, 3)
    assert BlockDecoder(req).values(RegisterBlock.from_bits([1, 0, 1])) == [True, False, True]


@st.composite
def layouts(draw: st.DrawFn) -> tuple[ReadRequest, list[int]]:
    tags = []
    for i in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from([*WORDS, "string"]))
        order = draw(st.sampled_from(list(WordOrder)))
        offset = draw(st.integers(0, 20))
        extra: dict[str, Any] = {}
        if kind == "bit":
            extra["bit"] = draw(st.integers(0, 15))
        if kind == "string":
            extra["length"] = draw(st.integers(1, 4))
        if kind != "string" and draw(st.booleans()):
            extra["scale"] = draw(st.sampled_from([0.1, 2.0, -1.0, 1e12]))
            extra["offset"] = draw(st.sampled_from([0.0, 5.0, -273.15]))
        tag = ModbusTag(address=offset, type=DataType(kind), order=order, **extra)
        tags.append((f"t{i}", tag, offset))
    count = draw(st.integers(1, 28))
    words = draw(st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count))
    return request(tags, RegisterTable.HOLDING, count), words


@settings(max_examples=400, deadline=None)
@given(layouts())
def test_any_layout_decodes_as_each_tag_would_alone(layout: tuple[ReadRequest, list[int]]) -> None:
    req, words = layout
    block = RegisterBlock.from_registers(words)
    assert BlockDecoder(req).values(block) == one_by_one(req, block)
