"""`check --connect`'s readout (issue 15): seen before, it printed neither the values it
read nor the state they give, so a wrong address or word order passed (a float32 read
without CDAB gave -9.2e14). Now each machine's tags, state, counters and what is wrong."""

import struct
from datetime import UTC, datetime

from connectors.modbus.decode import decode
from core.types import Quality, Sample, SampleBatch
from edge.cli.readout import readout
from edge.config import Config, ModbusTag

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def config() -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "g"}, "site": "s", "area": "a", "line": "l",
            "reasons": {12: "Sensor fault"},
            "machines": [{
                "id": "m1", "modbus": {"host": "127.0.0.1"}, "ideal_cycle_s": 2,
                "tags": {"code": {"address": 0}, "why": {"address": 1},
                         "total": {"address": 2, "type": "int16"},
                         "temp": {"address": 4, "type": "float32"}},
                "state_rules": [{"tag": "code", "map": {3: "fault"}, "reason_tag": "why"}],
                "counters": {"total": {"tag": "total", "bits": 16}},
            }],
        }
    )  # fmt: skip


def test_a_readout_shows_values_state_counters_and_what_is_wrong() -> None:
    # 21.5 °C written CDAB, read as ABCD (the order left at its default).
    words = struct.unpack(">2H", struct.pack(">f", 21.5))[::-1]
    temp = decode(ModbusTag(address=4, type="float32"), list(words))  # type: ignore[arg-type]
    values = {"code": 3, "why": 12, "total": -2, "temp": temp}
    samples = tuple(Sample(k, v, Quality.GOOD, T0) for k, v in values.items())
    batch = SampleBatch("m1", T0, (*samples, Sample("far", None, Quality.BAD, T0)))
    cfg = config()
    assert readout(cfg.machines[0], cfg, batch) == (
        f"tags: code=3, why=12, total=-2, temp={temp!r}, far=None (bad)",
        "state: fault (reason 12: Sensor fault)",
        "! counter total read -2, not a count of 0..65535 (bits: 16): held out of the counts; "
        "is the tag signed, or `bits` wrong?",
    )
    assert f"{temp:.3g}" == "2.36e-41"  # plainly not a temperature: the order is wrong
