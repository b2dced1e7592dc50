"""The simulated fill weight (issue 18, a process value for SPC): one weight per part,
the same however the model is sampled, normal with the scenario's mean and σ, and a
drift of the mean from a sim time on; served over Modbus in the part record (holding
136-137 the weight, float32 CDAB; 138-139 the total count with it, uint32)."""

from __future__ import annotations

import asyncio
import math
import statistics
import struct

from pymodbus.client import AsyncModbusTcpClient

from simulators.modbus_server import serve_modbus
from simulators.model import MachineModel, MachineParams, MachineState, Segment, fill_weight
from simulators.registers import PART_RECORD_COUNT, PART_RECORD_START
from simulators.scenario import load_scenario, parse_scenario
from tests.simulators.test_scenario import errors_of, minimal

RUN = (Segment(MachineState.RUNNING),)


def weights(params: MachineParams, step: float, until: float) -> dict[int, float]:
    """Each part's weight as the model shows it, sampled every `step` s (cycle 2 s)."""
    model, seen = MachineModel(params, "7:f1"), {}
    for i in range(1, int(until / step) + 1):
        model.advance_to(i * step)
        snap = model.snapshot()
        seen[snap.parts] = snap.fill_weight
    return seen


def test_one_weight_per_part_however_it_is_sampled() -> None:
    params = MachineParams(cycle_s=2.0, script=RUN, fill_mean=250.0, fill_sd=0.5)
    fine = weights(params, 0.5, 200)
    coarse = weights(params, 2.0, 200)
    assert sorted(coarse) == list(range(1, 101)) and fine[0] == 0.0  # 0 before a part
    assert all(fine[k] == coarse[k] for k in coarse)
    assert all(fine[k] == fill_weight("7:f1", k, 250.0, 0.5) for k in range(1, 101))


def test_weights_are_normal_with_the_scenario_mean_and_sd() -> None:
    # 5,000 parts: the sample mean lies within 4 standard errors (4 x 2 / sqrt(5000) =
    # 0.113 g) of 500, the sample σ within 4 x σ/sqrt(2(n-1)) = 0.08 of 2.
    sample = [fill_weight("s", k, 500.0, 2.0) for k in range(1, 5001)]
    assert abs(statistics.fmean(sample) - 500.0) < 0.113
    assert abs(statistics.stdev(sample) - 2.0) < 0.08
    assert fill_weight("s", 1, 500.0, 2.0) == 500.0 + 2.0 * (fill_weight("s", 1, 0.0, 1.0))


def test_the_drift_moves_the_mean_from_at_s_on() -> None:
    # cycle 2 s, drift at 100 s: part 49 is done at 98 s (no shift), part 50 at 100 s.
    params = MachineParams(cycle_s=2.0, script=RUN, fill_drift_at_s=100.0, fill_drift_shift=3.0)
    seen = weights(params, 1.0, 120)
    assert seen[49] == fill_weight("7:f1", 49, 500.0, 1.0)
    assert seen[50] == fill_weight("7:f1", 50, 503.0, 1.0)
    assert seen[60] == fill_weight("7:f1", 60, 503.0, 1.0)


def test_the_drift_counts_when_the_part_was_done_not_when_it_was_seen() -> None:
    # A run of 99 s then idle: the model is advanced straight to 150 s; part 49 (done at
    # 98 s) is the last and weighs without the drift at 98.5 s, though shown after it.
    script = (Segment(MachineState.RUNNING, 99.0), Segment(MachineState.IDLE))
    model = MachineModel(
        MachineParams(cycle_s=2.0, script=script, fill_drift_at_s=98.5, fill_drift_shift=9),
        "7:f1",
    )
    model.advance_to(150.0)
    assert model.snapshot().parts == 49
    assert model.snapshot().fill_weight == fill_weight("7:f1", 49, 500.0, 1.0)


def test_scenario_keys_and_their_errors() -> None:
    spec = parse_scenario(
        minimal(fill_mean=250, fill_sd=0.8, fill_drift={"at_s": 600, "shift": -2.5}), "x.yaml"
    ).machines[0]
    p = spec.params
    assert (p.fill_mean, p.fill_sd, p.fill_drift_at_s, p.fill_drift_shift) == (
        250.0, 0.8, 600.0, -2.5,
    )  # fmt: skip
    default = parse_scenario(minimal(), "x.yaml").machines[0].params
    assert (default.fill_mean, default.fill_sd, default.fill_drift_at_s) == (
        500.0, 1.0, math.inf,
    )  # fmt: skip
    assert "machines[0].fill_sd: must be >= 0 (got -1)" in errors_of(minimal(fill_sd=-1))
    text = errors_of(minimal(fill_drift={"at": 5}))
    assert "machines[0].fill_drift.at: unknown field" in text
    assert "machines[0].fill_drift.at_s: required" in text
    assert "machines[0].fill_drift.shift: required" in text


async def test_modbus_serves_the_part_record_weight_and_its_count() -> None:
    # The bundled test scenario at 3600x: its 180 s script is over after 50 ms, m1 (seed
    # "1:m1") made 50 parts, m2 30, m3 20. One read of 136..139: the last part's weight
    # (float32 CDAB) and the total count with it (uint32 ABCD, as registers 4-5).
    async with serve_modbus(load_scenario("test"), port=0, time_scale=3600) as sim:
        await asyncio.sleep(0.3)
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2)
        assert await client.connect()
        try:
            found = {}
            for unit in (1, 2, 3):
                rr = await client.read_holding_registers(
                    PART_RECORD_START, count=PART_RECORD_COUNT, device_id=unit
                )
                assert not rr.isError(), rr
                found[unit] = list(rr.registers)
        finally:
            client.close()
    for unit, parts in ((1, 50), (2, 30), (3, 20)):
        low, high, total_hi, total_lo = found[unit]  # CDAB: the low word first
        value = struct.unpack(">f", struct.pack(">HH", high, low))[0]
        expected = fill_weight(f"1:m{unit}", parts, 500.0, 1.0)
        assert value == struct.unpack(">f", struct.pack(">f", expected))[0]
        snap = sim.models[f"m{unit}"].snapshot()
        assert snap.parts == parts and (total_hi << 16) | total_lo == snap.total
