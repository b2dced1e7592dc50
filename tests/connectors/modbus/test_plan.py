"""Request coalescing: exact request lists for representative layouts."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.modbus.plan import PlanError, ReadRequest, plan_reads
from edge.config import ModbusConnection, ModbusTag


def conn(**kw: Any) -> ModbusConnection:
    return ModbusConnection(host="plc", **kw)


def tags(**specs: dict[str, Any]) -> dict[str, ModbusTag]:
    return {name: ModbusTag.model_validate(spec) for name, spec in specs.items()}


def shape(plan: tuple[ReadRequest, ...]) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
    return [(r.table.value, r.start, r.count, [(p.name, p.offset) for p in r.tags]) for r in plan]


def test_gap_is_filled() -> None:
    t = tags(a={"address": 0}, b={"address": 5, "type": "uint32"})
    assert shape(plan_reads(t, conn(max_gap=16))) == [("holding", 0, 7, [("a", 0), ("b", 5)])]


def test_gap_limit_is_inclusive() -> None:
    t = tags(a={"address": 0}, b={"address": 4}, c={"address": 9})
    # a ends at 1: b's gap is 3 (joins), c's gap from b's end (5) is 4 (too large).
    assert shape(plan_reads(t, conn(max_gap=3))) == [
        ("holding", 0, 5, [("a", 0), ("b", 4)]),
        ("holding", 9, 1, [("c", 0)]),
    ]


def test_zero_gap_joins_only_adjacent() -> None:
    t = tags(a={"address": 0}, b={"address": 1, "type": "int32"}, c={"address": 4})
    assert shape(plan_reads(t, conn(max_gap=0))) == [
        ("holding", 0, 3, [("a", 0), ("b", 1)]),
        ("holding", 4, 1, [("c", 0)]),
    ]


def test_125_register_boundary() -> None:
    fits = tags(a={"address": 0}, b={"address": 123, "type": "uint32"})
    assert shape(plan_reads(fits, conn(max_gap=200))) == [
        ("holding", 0, 125, [("a", 0), ("b", 123)])
    ]
    over = tags(a={"address": 0}, b={"address": 124, "type": "uint32"})
    assert shape(plan_reads(over, conn(max_gap=200))) == [
        ("holding", 0, 1, [("a", 0)]),
        ("holding", 124, 2, [("b", 0)]),
    ]


def test_2000_bit_boundary() -> None:
    fits = tags(a={"table": "coil", "address": 0}, b={"table": "coil", "address": 1999})
    assert shape(plan_reads(fits, conn(max_gap=5000))) == [
        ("coil", 0, 2000, [("a", 0), ("b", 1999)])
    ]
    over = tags(a={"table": "coil", "address": 0}, b={"table": "coil", "address": 2000})
    assert shape(plan_reads(over, conn(max_gap=5000))) == [
        ("coil", 0, 1, [("a", 0)]),
        ("coil", 2000, 1, [("b", 0)]),
    ]


def test_one_based_addressing() -> None:
    t = tags(
        a={"address": 1},
        b={"address": 3, "type": "float32"},
        c={"table": "discrete", "address": 1},
        d={"address": 65536},
    )
    assert shape(plan_reads(t, conn(addressing=1))) == [
        ("holding", 0, 4, [("a", 0), ("b", 2)]),
        ("holding", 65535, 1, [("d", 0)]),
        ("discrete", 0, 1, [("c", 0)]),
    ]


def test_address_zero_with_one_based_addressing_is_an_error() -> None:
    t = tags(ok={"address": 1}, bad={"table": "input", "address": 0})
    with pytest.raises(PlanError) as err:
        plan_reads(t, conn(addressing=1))
    assert str(err.value) == (
        "tag 'bad' (input 0): address 0 does not exist with 1-based addressing (addressing: 1)"
    )


def test_every_error_is_reported() -> None:
    t = tags(
        past={"address": 65535, "type": "uint32"},
        wide={"address": 0, "type": "string", "length": 20},
    )
    with pytest.raises(PlanError) as err:
        plan_reads(t, conn(max_registers_per_read=10))
    assert str(err.value) == (
        "tag 'past' (holding 65535): a uint32 at 65535 spans 2 registers, past the last "
        "Modbus address 65535: its address can be 65534 at most; "
        "tag 'wide' (holding 0): spans 20 registers, more than one read allows (10)"
    )


def test_shared_registers() -> None:
    t = tags(
        run={"address": 10, "type": "bit", "bit": 0},
        fault={"address": 10, "type": "bit", "bit": 15},
        word={"address": 10},
        pair={"address": 9, "type": "int32"},
    )
    assert shape(plan_reads(t, conn())) == [
        ("holding", 9, 2, [("pair", 0), ("fault", 1), ("run", 1), ("word", 1)])
    ]


def test_smaller_device_limits() -> None:
    t = tags(
        a={"address": 0}, b={"address": 4}, c={"address": 8, "type": "uint32"}, d={"address": 9}
    )
    assert shape(plan_reads(t, conn(max_registers_per_read=10))) == [
        ("holding", 0, 10, [("a", 0), ("b", 4), ("c", 8), ("d", 9)])
    ]
    t["e"] = ModbusTag(address=10)
    assert shape(plan_reads(t, conn(max_registers_per_read=10))) == [
        ("holding", 0, 10, [("a", 0), ("b", 4), ("c", 8), ("d", 9)]),
        ("holding", 10, 1, [("e", 0)]),
    ]
    bits = tags(**{f"c{i}": {"table": "coil", "address": i} for i in range(5)})
    assert shape(plan_reads(bits, conn(max_bits_per_read=2))) == [
        ("coil", 0, 2, [("c0", 0), ("c1", 1)]),
        ("coil", 2, 2, [("c2", 0), ("c3", 1)]),
        ("coil", 4, 1, [("c4", 0)]),
    ]


def test_a_tag_is_never_split() -> None:
    t = tags(a={"address": 0}, s={"address": 120, "type": "string", "length": 10})
    assert shape(plan_reads(t, conn(max_gap=200))) == [
        ("holding", 0, 1, [("a", 0)]),
        ("holding", 120, 10, [("s", 0)]),
    ]


def test_tables_are_planned_apart_in_a_fixed_order() -> None:
    t = tags(
        d={"table": "discrete", "address": 0},
        c={"table": "coil", "address": 0},
        i={"table": "input", "address": 0},
        h={"address": 0},
    )
    assert shape(plan_reads(t, conn())) == [
        ("holding", 0, 1, [("h", 0)]),
        ("input", 0, 1, [("i", 0)]),
        ("coil", 0, 1, [("c", 0)]),
        ("discrete", 0, 1, [("d", 0)]),
    ]


def test_unsorted_input_and_long_chains() -> None:
    t = tags(**{f"t{a}": {"address": a} for a in (300, 0, 150, 10, 140, 20)})
    assert shape(plan_reads(t, conn(max_gap=10))) == [
        ("holding", 0, 21, [("t0", 0), ("t10", 10), ("t20", 20)]),
        ("holding", 140, 11, [("t140", 0), ("t150", 10)]),
        ("holding", 300, 1, [("t300", 0)]),
    ]


def test_no_tags_no_requests() -> None:
    assert plan_reads({}, conn()) == ()
