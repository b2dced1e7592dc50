"""connectors.common.jsonbytes: orjson's speed, the standard library's answers."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.common.jsonbytes import dumps, dumps_text


class Q(StrEnum):
    GOOD = "good"


class Code(IntEnum):
    RUN = 3


def _stdlib(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_payload_is_written_byte_for_byte_as_the_standard_library_writes_it() -> None:
    doc = {
        "v": 2, "machine": "press-1", "ts": "2026-12-07T03:02:34.614Z",
        "tags": {"temp": {"value": 71.25, "quality": Q.GOOD}, "code": {"value": Code.RUN},
                 "on": {"value": True}, "name": {"value": "Größe \"A\"\n"}, "x": {"value": None}},
        "list": [1, -2, 0.5, []],
    }  # fmt: skip
    assert dumps(doc) == _stdlib(doc)
    assert dumps(doc).startswith(b'{"v":2,"machine":"press-1",')
    assert dumps_text({"ü": 1}) == '{"ü":1}'


def test_what_orjson_refuses_goes_through_the_standard_library() -> None:
    assert dumps({"big": 2**70}) == b'{"big":1180591620717411303424}'  # beyond 64 bits
    assert dumps({1: 2, None: 3}) == b'{"1":2,"null":3}'  # keys that are not str


def test_a_non_finite_float_is_null_not_the_invalid_NaN() -> None:
    assert dumps({"v": float("nan"), "w": float("inf")}) == b'{"v":null,"w":null}'


def test_datetimes_and_dataclasses_are_refused_as_by_the_standard_library() -> None:
    @dataclasses.dataclass
    class D:
        a: int = 1

    for doc in ({"t": datetime(2026, 12, 7, tzinfo=UTC)}, {"d": D()}):
        with pytest.raises(TypeError, match="not JSON serializable"):
            dumps(doc)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_DOCS)
def test_any_document_reads_back_as_the_standard_library_reads_it(doc: object) -> None:
    # Only a float's exponent may be spelled differently (1e-07 / 1e-7): the values agree.
    assert json.loads(dumps(doc)) == json.loads(_stdlib(doc))
