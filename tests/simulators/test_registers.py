"""Register encoding: byte orders and the fixed test pattern, decoded independently."""

from __future__ import annotations

import struct

from simulators.model import MachineState, Snapshot, extra_value, extra_values
from simulators.registers import (
    TEST_PATTERN,
    coil_word,
    live_registers,
    machine_registers,
    to_registers,
)


def regs_bytes(regs: tuple[int, ...] | list[int]) -> bytes:
    return b"".join(r.to_bytes(2, "big") for r in regs)


def at(addr: int, n: int) -> tuple[int, ...]:
    return TEST_PATTERN[addr - 100 : addr - 100 + n]


def test_byte_orders() -> None:
    raw = bytes([0xA1, 0xB2, 0xC3, 0xD4])
    assert to_registers(raw, "ABCD") == [0xA1B2, 0xC3D4]
    assert to_registers(raw, "CDAB") == [0xC3D4, 0xA1B2]
    assert to_registers(raw, "BADC") == [0xB2A1, 0xD4C3]
    assert to_registers(raw, "DCBA") == [0xD4C3, 0xB2A1]


def test_test_pattern_exact_values() -> None:
    assert len(TEST_PATTERN) == 36
    assert TEST_PATTERN[:2] == (53191, 54321)  # int16 -12345, uint16 54321
    assert struct.unpack(">i", regs_bytes(at(102, 2)))[0] == -123456789
    c, d = at(104, 2)
    assert struct.unpack(">i", regs_bytes((d, c)))[0] == -123456789  # CDAB
    assert at(102, 2) == (0xF8A4, 0x32EB)  # -123456789 is 0xF8A432EB
    assert at(106, 2) == (0xA4F8, 0xEB32)  # BADC
    assert struct.unpack("<i", regs_bytes(at(108, 2)))[0] == -123456789  # DCBA
    assert struct.unpack(">I", regs_bytes(at(110, 2)))[0] == 3000000000
    assert at(112, 2) == (0x4049, 0x0FD0)  # float32 nearest to 3.14159
    assert at(114, 2) == at(112, 2)[::-1]
    assert struct.unpack(">q", regs_bytes(at(116, 4)))[0] == -1234567890123
    assert struct.unpack(">Q", regs_bytes(at(120, 4)))[0] == 12345678901234567890
    assert struct.unpack(">d", regs_bytes(at(124, 4)))[0] == 2.718281828459045
    assert struct.unpack("<d", regs_bytes(at(128, 4)))[0] == 2.718281828459045
    assert regs_bytes(at(132, 4)) == b"OEE-SIM1"


def test_live_registers_and_coils() -> None:
    snap = Snapshot(
        sim_t=1.0,
        state=MachineState.FAULT,
        reason=12,
        product=101,
        total=0x00012345,
        good=70000,
        reject=5,
        total16=0x2345,
        reject16=5,
        parts=0,
        rejects=0,
        speed=30.0,
        temperature=41.5,
    )
    regs = live_registers(snap)
    assert regs[:4] == [3, 0b10, 12, 101]
    assert regs[4:12] == [0x0001, 0x2345, 1, 70000 - 65536, 0, 5, 0x2345, 5]
    assert struct.unpack(">f", regs_bytes(regs[12:14]))[0] == 30.0
    assert struct.unpack(">f", regs_bytes(regs[14:16][::-1]))[0] == 41.5  # CDAB
    assert coil_word(snap) == 0b0010


def test_extra_tags_follow_the_sim_second() -> None:
    # (floor(sim_t) + 1000 * i) % 65536
    assert [extra_value(0.0, i) for i in range(3)] == [0, 1000, 2000]
    assert [extra_value(59.99, i) for i in (0, 3)] == [59, 3059]
    assert extra_value(65535.9, 0) == 65535
    assert extra_value(65536.0, 0) == 0  # wraps like a uint16
    assert extra_value(1000.5, 65) == 464  # 66000 % 65536
    assert extra_values(1000.5, 66) == [extra_value(1000.5, i) for i in range(66)]
    assert extra_values(7.0, 0) == []


def test_machine_registers_append_the_extras() -> None:
    snap = Snapshot(
        sim_t=42.7,
        state=MachineState.RUNNING,
        reason=0,
        product=7,
        total=1,
        good=1,
        reject=0,
        total16=1,
        reject16=0,
        parts=1,
        rejects=0,
        speed=60.0,
        temperature=40.0,
    )
    assert machine_registers(snap) == live_registers(snap)
    assert machine_registers(snap, 3) == [*live_registers(snap), 42, 1042, 2042]
