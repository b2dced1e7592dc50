"""Properties of the normaliser and the OEE engine under any input (issue 15).

1. Counts add up to the PLC's: whatever order a PLC moves its total, good and reject
   counters in, and whenever it is read, the sums of the deltas equal its counters'
   movements at every read that saw every counter.
2. No value stops anything: arbitrary registers decoded as every Modbus type and word
   order, and arbitrary OPC UA values (huge ints, NaN, strings, None), through counters
   of every width and every kind of state rule into the real normaliser and engine, give
   no exception, and figures within their bounds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.modbus.decode import DecodeError, decode
from core.types import CountDelta, Quality, Sample, SampleBatch, StateChange, SuspectCount
from edge.config import Config, DataType, MachineConfig, ModbusTag, WordOrder
from edge.engines.oee import OeeEngine
from edge.pipeline.normaliser import MachineNormaliser

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
READ_EVERY_S = 60.0  # readings far apart: no movement here is implausible

# --------------------------------------------------------------------------- 1. sums


# A PLC's steps: make a part good, make a part rejected with the reject counter moved
# `lag` reads before (< 0), with (0) or after (> 0) the total, or a read.
Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("good"), st.just(0)),
        st.tuples(st.just("reject"), st.integers(-2, 2)),
        st.tuples(st.just("read"), st.just(0)),
    ),
    max_size=60,
)
PAIRS = (("total", "reject"), ("total", "good"), ("good", "reject"))


def counting_machine(kinds: tuple[str, str], bits: int) -> MachineConfig:
    return MachineConfig.model_validate(
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": {k: {"address": i * 4, "type": "uint64"} for i, k in enumerate(kinds)},
            "counters": {k: {"tag": k, "bits": bits} for k in kinds},
            "ideal_cycle_s": 1,
        }
    )


class Plc:
    """Three counters and the moves still to come (a reject's other counter, `lag` reads
    later); `start` puts them near the top of a 16-bit range, so they wrap."""

    def __init__(self, start: int, bits: int) -> None:
        self.modulus = 1 << bits
        self.c = {"total": start, "good": start, "reject": start}
        self.moved = {"total": 0, "good": 0, "reject": 0}
        self.later: list[tuple[int, str]] = []  # (reads to wait, counter)

    def bump(self, kind: str) -> None:
        self.c[kind] = (self.c[kind] + 1) % self.modulus
        self.moved[kind] += 1

    def step(self, action: str, lag: int) -> None:
        if action == "good":
            self.bump("total")
            self.bump("good")
        elif action == "reject":
            first, second = ("reject", "total") if lag < 0 else ("total", "reject")
            self.bump(first)
            self.later.append((abs(lag), second))

    def read(self) -> None:
        due = [k for n, k in self.later if n == 0]
        self.later = [(n - 1, k) for n, k in self.later if n > 0]
        for kind in due:
            self.bump(kind)


@settings(max_examples=300, deadline=None)
@given(steps, st.sampled_from(PAIRS), st.sampled_from([(16, 65500), (32, 0)]))
def test_the_deltas_add_up_to_the_plcs_counters(
    plan: list[Step], kinds: tuple[str, str], width: tuple[int, int]
) -> None:
    bits, start = width
    plc, n = Plc(start, bits), MachineNormaliser(counting_machine(kinds, bits))
    sums = {"total": 0, "good": 0, "reject": 0}
    t = 0.0
    n.update(SampleBatch("m1", T0, tuple(Sample(k, plc.c[k], Quality.GOOD, T0) for k in kinds)))
    for action, lag in [*plan, ("read", 0)]:
        plc.step(action, lag)
        if action != "read":
            continue
        plc.read()
        t += READ_EVERY_S
        samples = tuple(Sample(k, plc.c[k], Quality.GOOD, T0) for k in kinds)
        for e in n.update(SampleBatch("m1", T0 + timedelta(seconds=t), samples)):
            assert not isinstance(e, SuspectCount), e
            if isinstance(e, CountDelta):
                assert e.total >= 0 and e.good + e.reject == e.total
                for k in sums:
                    sums[k] += getattr(e, k)
        # What the configured two counters moved, and the third that follows from them.
        a, b = kinds
        moved = {a: plc.moved[a], b: plc.moved[b]}
        if "total" not in kinds:
            moved["total"] = moved["good"] + moved["reject"]
        moved.setdefault("good", moved["total"] - moved.get("reject", 0))
        moved.setdefault("reject", moved["total"] - moved["good"])
        assert sums == moved


# --------------------------------------------------------------------------- 2. no crash

TYPES = [t for t in DataType if t is not DataType.STRING]
plc_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)


def machine(tag: ModbusTag, bits: int) -> MachineConfig:
    return MachineConfig.model_validate(
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": {"v": tag.model_dump(mode="json"), "w": tag.model_dump(mode="json")},
            "state_rules": [
                {"tag": "w", "state": "fault"},
                {"tag": "v", "map": {1: "running", 2: "idle"}, "reason_tag": "w"},
                {"counter": "total", "within_s": 5},
            ],
            "counters": {"total": {"tag": "v", "bits": bits}, "reject": {"tag": "w", "bits": bits}},
            "ideal_cycle_s": 2.5,
        }
    )


def run_through(tag: ModbusTag, bits: int, values: list[tuple[object, object]]) -> None:
    """Every (v, w) pair a second apart into the normaliser and the OEE engine."""
    m = machine(tag, bits)
    config = Config.model_validate(
        {"gateway": {"id": "g"}, "site": "s", "area": "a", "line": "l",
         "oee": {"windows": ["15m", "day"]}, "machines": [m.model_dump(mode="json")]}
    )  # fmt: skip
    n, engine = MachineNormaliser(config.machines[0]), OeeEngine(config)
    for i, (v, w) in enumerate(values):
        ts = T0 + timedelta(seconds=i)
        batch = SampleBatch(
            "m1", ts, (Sample("v", v, Quality.GOOD, ts), Sample("w", w, Quality.GOOD, ts))
        )  # type: ignore[arg-type]
        for e in n.update(batch):
            if isinstance(e, StateChange | CountDelta):
                engine.apply(e)
    for u in engine.figures(T0 + timedelta(seconds=len(values))):
        for ratio in (u.availability, u.quality):
            assert ratio is None or 0.0 <= ratio <= 1.0, u
        assert u.performance is None or (u.performance >= 0 and math.isfinite(u.performance))
        # OEE passes 1 only when flagged: P above 1, or parts without run time (OEE.md).
        flagged = u.report is not None and u.report.performance_flagged
        assert u.oee is None or 0.0 <= u.oee <= 1.0 or flagged, u
        assert 0 <= u.good <= u.total and 0 <= u.reject <= u.total


def decoded(tag: ModbusTag, registers: list[int]) -> object:
    try:
        return decode(tag, registers)
    except DecodeError:
        return None  # the source marks the sample bad; the normaliser sees it as missing


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(TYPES),
    st.sampled_from(list(WordOrder)),
    st.sampled_from([16, 32, 64]),
    st.lists(st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8), min_size=1, max_size=12),
)
def test_any_register_values_of_any_type_pass_through(
    dtype: DataType, order: WordOrder, bits: int, reads: list[list[int]]
) -> None:
    bit = {"bit": 3} if dtype is DataType.BIT else {}
    tag = ModbusTag(address=0, type=dtype, order=order, **bit)  # type: ignore[arg-type]
    values = [(decoded(tag, regs), decoded(tag, regs[4:] + regs[:4])) for regs in reads]
    run_through(tag, bits, values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([16, 32, 64]), st.lists(st.tuples(plc_values, plc_values), max_size=12))
def test_any_opc_ua_value_passes_through(bits: int, values: list[tuple[object, object]]) -> None:
    run_through(ModbusTag(address=0, type=DataType.UINT16), bits, values)
