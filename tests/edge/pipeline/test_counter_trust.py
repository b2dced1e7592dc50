"""Counts are plausible or held (issue 15): what the normaliser makes of counter values a
PLC should never send, of a jump no machine could make, and of counters that move a poll
apart. Every case here was seen on the earlier code (the docstrings say what it did)."""

from datetime import UTC, datetime, timedelta

from core.types import CountDelta, Quality, Sample, SampleBatch, SuspectCount
from edge.config import MachineConfig
from edge.pipeline.normaliser import MachineNormaliser

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
G = Quality.GOOD


def machine(
    counters: dict[str, object], ideal_cycle_s: float = 2.0, **tags: object
) -> MachineConfig:
    return MachineConfig.model_validate(
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": tags or {"total": {"address": 0, "type": "uint32"}},
            "counters": counters,
            "ideal_cycle_s": ideal_cycle_s,
        }
    )


def at(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


def read(n: MachineNormaliser, t: float, **values: object) -> list[object]:
    samples = tuple(Sample(k, v, G, at(t)) for k, v in values.items())  # type: ignore[arg-type]
    return [e for e in n.update(SampleBatch("m1", at(t), samples)) if not _is_state(e)]


def _is_state(e: object) -> bool:
    return type(e).__name__ == "StateChange"


def counted(events: list[object]) -> list[tuple[int, int, int]]:
    return [(e.total, e.good, e.reject) for e in events if isinstance(e, CountDelta)]


def test_a_jump_through_a_plc_restart_is_held_not_counted() -> None:
    """Seen: 400, then 65535 while the PLC restarted, then 250, on a 16-bit counter a
    second apart, gave 65,135 + 251 = 65,386 parts (OEE 29,017 % on the page)."""
    n = MachineNormaliser(machine({"total": {"tag": "total", "bits": 16}}))
    assert read(n, 0, total=400) == []
    (jump,) = read(n, 1, total=65535)
    assert isinstance(jump, SuspectCount)
    assert (jump.total, jump.good, jump.reject, jump.seq) == (65135, 65135, 0, 1)
    assert (jump.allowed, jump.elapsed_s, jump.ts) == (11, 1.0, at(1))
    (after,) = read(n, 2, total=250)  # not a wrap of 251: a reset to 0, then 250 parts
    assert isinstance(after, SuspectCount)
    assert (after.total, after.seq, after.allowed) == (250, 2, 11)
    assert counted(read(n, 3, total=251)) == [(1, 1, 0)]  # counting goes on from there
    assert n.stats.counts_suspect == 2 and n.count_seq == 1


def test_the_limit_grows_with_the_time_since_the_last_reading() -> None:
    """1,000 parts after 30 minutes without a reading are plausible at 2 s a part."""
    n = MachineNormaliser(machine({"total": {"tag": "total"}}))
    read(n, 0, total=0)
    assert counted(read(n, 1800, total=1000)) == [(1000, 1000, 0)]
    (held,) = read(n, 1801, total=1100)  # 100 in a second is not
    assert isinstance(held, SuspectCount) and held.allowed == 11


def test_suspect_factor_and_floor_come_from_the_config() -> None:
    cfg = {"total": {"tag": "total"}, "suspect_factor": 1.0, "suspect_floor": 0}
    n = MachineNormaliser(machine(cfg, ideal_cycle_s=1.0))
    read(n, 0, total=0)
    assert counted(read(n, 10, total=10)) == [(10, 10, 0)]
    (held,) = read(n, 20, total=21)
    assert isinstance(held, SuspectCount) and held.allowed == 10


def test_the_fastest_product_sets_the_limit() -> None:
    cfg = machine({"total": {"tag": "total"}}).model_dump()
    cfg["products"] = {"fast": {"ideal_cycle_s": 0.5}}
    n = MachineNormaliser(MachineConfig.model_validate(cfg))
    read(n, 0, total=0)
    assert counted(read(n, 10, total=50)) == [(50, 50, 0)]  # 2 x 10 s / 0.5 s + 10 = 50


def test_a_wrap_needs_the_old_value_near_the_top_and_the_time_for_it() -> None:
    n = MachineNormaliser(machine({"total": {"tag": "total", "bits": 16}}))
    read(n, 0, total=65530)
    assert counted(read(n, 2, total=3)) == [(9, 9, 0)]  # 65530 -> 65535 -> 0 -> 3
    read(n, 3, total=60000)  # a jump: held
    (reset,) = read(n, 4, total=5)  # far from the top a second later: a reset, 5 parts
    assert counted([reset]) == [(5, 5, 0)]


def test_values_outside_the_counter_are_flagged_and_left_out() -> None:
    """Seen: an int16 counter declared `bits: 32` passing 32767 read -32768, a negative
    delta, and `ValueError: need good + reject == total >= 0` ended the gateway; a float
    reading 3.4e38 or NaN took the same path (or `int(nan)` raised)."""
    n = MachineNormaliser(machine({"total": {"tag": "total"}}))
    read(n, 0, total=32767)
    for t, bad in enumerate([-32768, 3.4e38, float("nan"), float("inf"), 2**32], start=1):
        assert read(n, t, total=bad) == []
    assert n.stats.counter_invalid == 5
    (issue,) = n.issues.open()
    assert issue.kind == "counter_invalid"
    assert issue.detail == (
        "counter total read 4294967296, not a count of 0..4294967295 (bits: 32): held out of the "
        "counts; is the tag signed, or `bits` wrong?"
    )
    assert counted(read(n, 10, total=32770)) == [(3, 3, 0)]  # from the last valid value
    assert n.issues.open() == []


def test_a_reject_read_a_poll_before_its_part_is_not_a_second_part() -> None:
    """Seen: a reject counted one poll before its part's total made a phantom part: one
    part made then rejected a read later gave total 2, good 1."""
    counters = {"total": {"tag": "total"}, "reject": {"tag": "reject"}}
    tags = {"total": {"address": 0, "type": "uint32"}, "reject": {"address": 2, "type": "uint32"}}
    n = MachineNormaliser(machine(counters, **tags))
    read(n, 0, total=0, reject=0)
    moved = read(n, 10, total=0, reject=1)  # the PLC moved reject first
    moved += read(n, 20, total=1, reject=1)
    sums = [sum(x) for x in zip(*counted(moved), strict=True)]
    assert sums == [1, 0, 1]


def test_ten_parts_every_second_rejected_a_read_later_add_up_to_the_plc() -> None:
    """Seen: 15/10/5 where the PLC said 10/5/5."""
    counters = {"total": {"tag": "total"}, "reject": {"tag": "reject"}}
    tags = {"total": {"address": 0, "type": "uint32"}, "reject": {"address": 2, "type": "uint32"}}
    n = MachineNormaliser(machine(counters, **tags))
    read(n, 0, total=0, reject=0)
    reject = 0
    events: list[object] = []
    for part in range(1, 11):  # the PLC's total is the part's number
        events += read(n, 10 * part, total=part, reject=reject)
        if part % 2 == 0:
            reject += 1
            events += read(n, 10 * part + 5, total=part, reject=reject)
    sums = [sum(x) for x in zip(*counted(events), strict=True)]
    assert sums == [10, 5, 5]
