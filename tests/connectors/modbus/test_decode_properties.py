"""Properties of `connectors.modbus.decode` over arbitrary register blocks and tags.

Whatever the registers hold and however a tag is configured (every data type, word
order, bit, string length, scale and offset), decoding returns a value of the tag's
kind or raises our `DecodeError`, nothing else; and values encoded independently
(struct, then permuted per the order's definition in test_decode) decode back to
themselves.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.modbus.decode import DecodeError, RegisterBlock, make_decoder
from edge.config import DataType, ModbusTag, RegisterTable, WordOrder

from .fuzz import fuzz
from .test_decode import STRUCT, encode, str_regs

WORD = st.integers(0, 0xFFFF)
ORDER = st.sampled_from([o.value for o in WordOrder])
NUMERIC = [t for t in DataType if t not in (DataType.BIT, DataType.STRING)]
# What the configuration accepts: a scale non-zero, both within +-1e12.
OFFSET = st.one_of(st.just(1.0), st.floats(-1e12, 1e12), st.integers(-1000, 1000))
SCALE = OFFSET.filter(lambda x: x != 0)


@st.composite
def tags(draw: st.DrawFn) -> ModbusTag:
    """Any register tag the configuration accepts."""
    dtype = draw(st.sampled_from(list(DataType)))
    fields: dict[str, Any] = {"address": 0, "type": dtype.value, "order": draw(ORDER)}
    if dtype is DataType.BIT:
        fields["bit"] = draw(st.integers(0, 15))
    if dtype is DataType.STRING:
        fields["length"] = draw(st.integers(1, 123))
    if draw(st.booleans()):
        fields |= {"scale": draw(SCALE), "offset": draw(OFFSET)}
    return ModbusTag.model_validate(fields)


def kind(tag: ModbusTag) -> type:
    """The Python type a good value of `tag` has."""
    if tag.type is DataType.BIT:
        return bool
    if tag.type is DataType.STRING:
        return str
    plain_int = tag.type not in (DataType.FLOAT32, DataType.FLOAT64)
    return int if plain_int and tag.scale == 1 and tag.offset == 0 else float


@fuzz
@given(tag=tags(), words=st.lists(WORD, max_size=130), offset=st.integers(0, 135))
def test_any_block_decodes_or_is_a_decode_error(
    tag: ModbusTag, words: list[int], offset: int
) -> None:
    decoder = make_decoder(tag)
    try:
        value = decoder(RegisterBlock.from_registers(words), offset)
    except DecodeError:
        # Too few registers for the tag, or a number that is not finite.
        return
    assert offset + tag.words <= len(words)
    assert type(value) is kind(tag)
    if isinstance(value, float):
        assert math.isfinite(value)


@fuzz
@given(tag=tags(), words=st.lists(WORD, min_size=130, max_size=130), offset=st.integers(0, 7))
def test_a_block_long_enough_fails_only_on_a_number_that_is_no_reading(
    tag: ModbusTag, words: list[int], offset: int
) -> None:
    assume(tag.type is not DataType.STRING or offset + tag.words <= 130)
    try:
        make_decoder(tag)(RegisterBlock.from_registers(words), offset)
    except DecodeError:
        assert kind(tag) is float  # NaN or infinity after scaling, never anything else


@st.composite
def integers(draw: st.DrawFn) -> tuple[DataType, int]:
    dtype = draw(st.sampled_from([t for t in NUMERIC if STRUCT[t] in "hHiIqQ"]))
    bits = struct.calcsize(STRUCT[dtype]) * 8
    signed = STRUCT[dtype].islower()
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return dtype, draw(st.integers(low, high))


@fuzz
@given(case=integers(), order=ORDER, pad=st.lists(WORD, max_size=4))
def test_integers_round_trip(case: tuple[DataType, int], order: str, pad: list[int]) -> None:
    dtype, value = case
    tag = ModbusTag(address=0, type=dtype, order=WordOrder(order))
    block = RegisterBlock.from_registers([*pad, *encode(dtype, value, order), *pad])
    got = make_decoder(tag)(block, len(pad))
    assert (got, type(got)) == (value, int)


@fuzz
@given(
    dtype=st.sampled_from([DataType.FLOAT32, DataType.FLOAT64]),
    value=st.floats(allow_nan=False, allow_infinity=False),
    order=ORDER,
)
def test_finite_floats_round_trip(dtype: DataType, value: float, order: str) -> None:
    fmt = ">" + STRUCT[dtype]
    try:
        stored = struct.unpack(fmt, struct.pack(fmt, value))[0]  # what a float32 can hold
    except OverflowError:
        return  # beyond float32: no register pair holds it
    tag = ModbusTag(address=0, type=dtype, order=WordOrder(order))
    got = make_decoder(tag)(RegisterBlock.from_registers(encode(dtype, value, order)), 0)
    assert got == stored


@fuzz
@given(
    dtype=st.sampled_from([DataType.FLOAT32, DataType.FLOAT64]),
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
    order=ORDER,
)
def test_nan_and_infinity_are_no_reading(dtype: DataType, value: float, order: str) -> None:
    tag = ModbusTag(address=0, type=dtype, order=WordOrder(order))
    try:
        make_decoder(tag)(RegisterBlock.from_registers(encode(dtype, value, order)), 0)
    except DecodeError:
        return
    raise AssertionError(f"{value} decoded as a reading")


@fuzz
@given(word=WORD, bit=st.integers(0, 15), order=ORDER)
def test_a_bit_is_the_bit_of_the_word_in_its_order(word: int, bit: int, order: str) -> None:
    swapped = order in ("BADC", "DCBA")  # for one register these swap the two bytes
    value = ((word & 0xFF) << 8 | word >> 8) if swapped else word
    tag = ModbusTag(address=0, type=DataType.BIT, order=WordOrder(order), bit=bit)
    assert make_decoder(tag)(RegisterBlock.from_registers([word]), 0) is bool(value >> bit & 1)


@fuzz
@given(
    text=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
    spaces=st.integers(0, 3),
    extra=st.integers(0, 3),
    order=ORDER,
)
def test_ascii_strings_round_trip(text: str, spaces: int, extra: int, order: str) -> None:
    """Text, a few inner spaces, NUL padding (then garbage) up to the tag's length."""
    text = " " * spaces + text if text else text
    raw = text.encode("ascii")
    length = max(1, (len(raw) + 1) // 2 + extra)
    padded = raw + b"\0" + b"\xff" * (2 * length)
    regs = str_regs(padded[: 2 * length], swap=order in ("BADC", "DCBA"))
    tag = ModbusTag(address=0, type=DataType.STRING, order=WordOrder(order), length=length)
    assert make_decoder(tag)(RegisterBlock.from_registers(regs), 0) == text


@fuzz
@given(bits=st.lists(st.booleans(), max_size=40), offset=st.integers(0, 45))
def test_coils_decode_their_bit_or_fail_cleanly(bits: list[bool], offset: int) -> None:
    decoder = make_decoder(ModbusTag(table=RegisterTable.COIL, address=0))
    try:
        got = decoder(RegisterBlock.from_bits(bits), offset)
    except DecodeError:
        assert offset >= len(bits)
        return
    assert got is bits[offset]
