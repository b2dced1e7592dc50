"""The simulator's Modbus register map, as pure functions of a model snapshot.

Documented in docs/simulator.md; the example gateway configuration is written
against it, so every address and byte order here is a contract.
"""

from __future__ import annotations

import struct

from simulators.model import MachineState, Snapshot, extra_values

LIVE_COUNT = 16  # holding/input registers 0..15
TEST_PATTERN_START = 100
# A machine's `extra_tags` sit in registers 16.. and must end before the test pattern.
MAX_EXTRA_TAGS = TEST_PATTERN_START - LIVE_COUNT
# Holding registers 136-139: the part record, after the test pattern, so the extras
# (16..99) keep their addresses: 136-137 the last part's fill weight (float32 CDAB, as
# the temperature), 138-139 the total count (uint32, as 4-5) from the same snapshot, so
# one read of 136..139 gets a part's weight and its number together (a PLC's "part
# record": a counter read in another request may already count the next part).
FILL_WEIGHT_START = 136
PART_RECORD_START = FILL_WEIGHT_START
PART_RECORD_COUNT = 4
PART_TOTAL_START = 138
COIL_COUNT = 4  # coils / discrete inputs 0..3

# Status word (holding register 1) and coils 0..3, by state.
STATUS_BIT = {
    MachineState.RUNNING: 1 << 0,
    MachineState.FAULT: 1 << 1,
    MachineState.SETUP: 1 << 2,
    MachineState.PLANNED_STOP: 1 << 3,
    MachineState.IDLE: 1 << 4,
}
COIL_STATES = (
    MachineState.RUNNING,
    MachineState.FAULT,
    MachineState.SETUP,
    MachineState.PLANNED_STOP,
)


def to_registers(raw: bytes, order: str = "ABCD") -> list[int]:
    """Split big-endian `raw` bytes into 16-bit registers in the given order.

    ABCD: big-endian words and bytes; CDAB: word order reversed (low word first);
    BADC: bytes swapped inside each word; DCBA: fully little-endian.
    """
    if order in ("BADC", "DCBA"):
        raw = b"".join(raw[i : i + 2][::-1] for i in range(0, len(raw), 2))
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    return [int.from_bytes(w, "big") for w in words]


def _pack(fmt: str, value: int | float, order: str = "ABCD") -> list[int]:
    return to_registers(struct.pack(">" + fmt, value), order)


def live_registers(snap: Snapshot) -> list[int]:
    """Holding (and input) registers 0..15 for one machine."""
    return [
        int(snap.state),
        STATUS_BIT[snap.state],
        snap.reason & 0xFFFF,
        snap.product & 0xFFFF,
        *_pack("I", snap.total),
        *_pack("I", snap.good),
        *_pack("I", snap.reject),
        snap.total16,
        snap.reject16,
        *_pack("f", snap.speed),
        *_pack("f", snap.temperature, "CDAB"),
    ]


def machine_registers(snap: Snapshot, extra_tags: int = 0) -> list[int]:
    """Holding (and input) registers 0..15 + `extra_tags` for one machine: the live
    values, then one uint16 per extra tag from register 16 (`model.extra_value`)."""
    regs = live_registers(snap)
    if extra_tags:
        regs += extra_values(snap.sim_t, extra_tags)
    return regs


def part_record(snap: Snapshot) -> list[int]:
    """Holding registers 136-139: the fill weight of the last part (float32 CDAB) and the
    total count with it (uint32 ABCD, the same value as 4-5 in the same snapshot)."""
    return [*_pack("f", snap.fill_weight, "CDAB"), *_pack("I", snap.total)]


def coil_word(snap: Snapshot) -> int:
    """Coils 0..3 packed as bits 0..3 of one word (coil 0 = bit 0)."""
    return sum(1 << i for i, s in enumerate(COIL_STATES) if snap.state is s)


def _build_test_pattern() -> list[int]:
    regs = [
        *_pack("h", -12345),  # 100
        *_pack("H", 54321),  # 101
        *_pack("i", -123456789, "ABCD"),  # 102-103
        *_pack("i", -123456789, "CDAB"),  # 104-105
        *_pack("i", -123456789, "BADC"),  # 106-107
        *_pack("i", -123456789, "DCBA"),  # 108-109
        *_pack("I", 3000000000),  # 110-111
        *_pack("f", 3.14159, "ABCD"),  # 112-113
        *_pack("f", 3.14159, "CDAB"),  # 114-115
        *_pack("q", -1234567890123),  # 116-119
        *_pack("Q", 12345678901234567890),  # 120-123
        *_pack("d", 2.718281828459045, "ABCD"),  # 124-127
        *_pack("d", 2.718281828459045, "DCBA"),  # 128-131
        *to_registers(b"OEE-SIM1"),  # 132-135
    ]
    assert len(regs) == 36
    return regs


# Holding registers 100..135: fixed values for decoder interop tests.
TEST_PATTERN: tuple[int, ...] = tuple(_build_test_pattern())
