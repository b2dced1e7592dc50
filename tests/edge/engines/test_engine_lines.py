"""Line OEE from the engine: one line update per line and window after the machines'
updates of each tick, the final figures of a shift, lines of one machine, and the ticker
of the gateway handing them to the live view."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.types import CountDelta, LineOeeUpdate, MachineState, OeeUpdate, StateChange
from edge.config import Config
from edge.engines.oee import OeeEngine
from edge.pipeline.gateway import Gateway

S = MachineState
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Berlin


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def z(hour: int) -> datetime:
    return datetime(2026, 11, 25, hour, 0, tzinfo=UTC)


def machine(mid: str, ideal: float, **kw: Any) -> dict[str, Any]:
    return {"id": mid, "modbus": {"host": "127.0.0.1"}, "tags": {"code": {"address": 0}},
            "ideal_cycle_s": ideal, **kw}  # fmt: skip


def config(tmp_path: Path | None = None, m2: dict[str, Any] | None = None) -> Config:
    """m1 and m2 on line `l`, m3 alone on line `solo`; shifts 06-14 and 14-22 in Berlin
    with lunch 11:30-12:00 (10:30-11:00Z)."""
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(tmp_path or "data")},
            "site": "s",
            "area": "a",
            "line": "l",
            "calendar": {
                "timezone": "Europe/Berlin",
                "shifts": [
                    {"name": "early", "start": "06:00", "end": "14:00"},
                    {"name": "late", "start": "14:00", "end": "22:00"},
                ],
                "breaks": [{"name": "lunch", "start": "11:30", "end": "12:00"}],
            },
            "oee": {"windows": ["1h", "shift"], "publish_interval_s": 0.1},
            "machines": [
                machine("m1", 2),
                machine("m2", 3, **(m2 or {})),
                machine("m3", 1, line="solo", area="b"),
            ],
        }
    )


def engine(cfg: Config | None = None) -> OeeEngine:
    """m1 runs from 07:00Z and makes 1000 parts (990 good) at 08:10Z; m2 runs from 07:00Z,
    makes 500 good parts at 07:50Z and faults at 08:00Z; m3 runs from 07:00Z."""
    e = OeeEngine(cfg or config())
    for mid in ("m1", "m2", "m3"):
        e.apply(StateChange(mid, S.RUNNING, None, at(-3600), None, None, 1))
    e.apply(CountDelta("m2", at(-600), 500, 500, 0))
    e.apply(StateChange("m2", S.FAULT, S.RUNNING, at(0), at(-3600), 3600.0, 2))
    e.apply(CountDelta("m1", at(600), 1000, 990, 10))
    return e


def lines(events: list[OeeUpdate | LineOeeUpdate]) -> list[LineOeeUpdate]:
    return [e for e in events if isinstance(e, LineOeeUpdate)]


def test_each_tick_ends_with_a_line_update_per_line_and_window() -> None:
    events = engine().tick(at(1800))
    # The machines' updates first (3 machines x 2 windows), then the lines'.
    assert [type(e) for e in events] == [OeeUpdate] * 6 + [LineOeeUpdate] * 4
    got = lines(events)
    assert [(u.line, u.area, u.window) for u in got] == [
        ("l", "a", "1h"), ("l", "a", "shift"), ("solo", "b", "1h"), ("solo", "b", "shift"),
    ]  # fmt: skip
    hour = got[0]
    # [07:30, 08:30)Z. m1: run 3600, 1000 x 2 s = 2000 ideal, 990 x 2 = 1980 good.
    # m2: run 1800, fault 1800 (1 failure), 500 x 3 s = 1500 ideal, all good.
    # Sums: PPT 7200, run 5400, ideal 3500, fully productive 3480.
    assert (hour.start, hour.ts, hour.mode, hour.bottleneck) == (at(-1800), at(1800), "sum", None)
    assert (hour.availability, hour.performance) == (5400 / 7200, 3500 / 5400)
    assert (hour.quality, hour.oee) == (3480 / 3500, 3480 / 7200)
    assert (hour.window_s, hour.planned_s, hour.run_s) == (7200.0, 7200.0, 5400.0)
    assert (hour.total, hour.good, hour.reject) == (1500, 1490, 10)
    assert hour.details()["breakdown_s"] == 1800.0 and hour.details()["failures"] == 1
    assert [(r.machine, r.availability, r.oee) for r in hour.machines] == [
        ("m1", 1.0, 1980 / 3600), ("m2", 0.5, 1500 / 3600),
    ]  # fmt: skip
    assert hour.missing == ()
    # A line of one machine gets its update too: m3 ran all hour and made nothing.
    solo = got[2]
    assert [(r.machine, r.availability, r.performance) for r in solo.machines] == [("m3", 1.0, 0.0)]
    assert (solo.availability, solo.performance, solo.quality, solo.oee) == (1.0, 0.0, None, 0.0)


def test_a_shift_end_gives_the_line_its_final_figures_first() -> None:
    e = engine()
    e.tick(at(1800))
    # 13:00Z is 14:00 in Berlin: each machine's early shift ends (final first), and so
    # does the line's.
    shift = [u for u in lines(e.tick(at(5 * 3600))) if u.line == "l" and u.window == "shift"]
    assert [(u.start, u.ts) for u in shift] == [(z(5), z(13)), (z(13), z(13))]
    final = shift[0]
    # [05:00, 13:00)Z, twice 8 h; unknown 05:00-07:00 for both; lunch 30 min each.
    # m1 runs 19800 s; m2 runs 3600 s, then faults 08:00-13:00 less lunch: 16200 s.
    # PPT = 57600 - 14400 - 3600 = 39600; run 23400; ideal 3500; fully productive 3480.
    assert (final.window_s, final.unknown_s, final.planned_s) == (57600.0, 14400.0, 39600.0)
    assert final.details()["planned_stop_s"] == 3600.0
    assert (final.availability, final.performance) == (23400 / 39600, 3500 / 23400)
    assert (final.quality, final.oee) == (3480 / 3500, 3480 / 39600)
    assert [(r.machine, r.availability) for r in final.machines] == [
        ("m1", 1.0), ("m2", 3600 / 19800),
    ]  # fmt: skip
    late = shift[1]
    assert (late.window_s, late.planned_s, late.availability) == (0.0, 0.0, None)


def test_without_a_final_update_of_every_machine_only_the_latest_is_rolled_up() -> None:
    # m2 follows its own calendar: one shift 06:00-18:00, still running at 14:00.
    own = {"calendar": {"timezone": "Europe/Berlin",
                        "shifts": [{"name": "day", "start": "06:00", "end": "18:00"}]}}  # fmt: skip
    e = engine(config(m2=own))
    machine_updates = e.figures(at(5 * 3600))
    shift = [u for u in e.line_figures(machine_updates) if u.line == "l" and u.window == "shift"]
    assert len(shift) == 1
    latest = {u.machine: u for u in machine_updates if u.window == "shift"}  # the last ones
    (u,) = shift
    assert (u.start, u.ts) == (z(5), z(13))
    assert [(r.machine, r.oee) for r in u.machines] == [
        ("m1", latest["m1"].oee), ("m2", latest["m2"].oee),
    ]  # fmt: skip
    assert u.run_s == latest["m1"].run_s + latest["m2"].run_s


def test_machines_left_out_of_a_tick_are_missing() -> None:
    got = lines(engine().tick(at(1800), ["m1"]))
    assert [(u.line, u.window) for u in got] == [("l", "1h"), ("l", "shift")]
    assert got[0].missing == ("m2",)
    assert [r.machine for r in got[0].machines] == ["m1"]
    assert (got[0].run_s, got[0].oee) == (3600.0, 1980 / 3600)


def test_a_bottleneck_line() -> None:
    cfg = config().model_dump()
    cfg["lines"] = {"l": {"rollup": "bottleneck", "bottleneck": "m2"}}
    hour = lines(engine(Config.model_validate(cfg)).tick(at(1800)))[0]
    # m2's A and P; Q = m1's x m2's.
    assert (hour.mode, hour.bottleneck) == ("bottleneck", "m2")
    assert (hour.availability, hour.performance) == (0.5, 1500 / 1800)
    assert hour.quality == 1980 / 2000 * 1.0
    assert hour.oee == 0.5 * (1500 / 1800) * (1980 / 2000)
    assert hour.run_s == 5400.0  # the sums stand


async def test_the_gateway_ticker_hands_line_updates_to_the_live_view(tmp_path: Path) -> None:
    gw = Gateway(config(tmp_path), sinks=[], clock=lambda: at(1800))
    gw.engines["oee"] = engine(gw.config)  # the scripted history, as if replayed at start
    task = asyncio.create_task(gw._oee_ticker())
    try:
        for _ in range(500):
            if ("l", "1h") in gw.live.lines:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    hour = gw.live.lines["l", "1h"]
    assert (hour.ts, hour.oee) == (at(1800), 3480 / 7200)
    assert gw.live.machines["m1"].oee["1h"].ts == at(1800)
    assert set(gw.live.lines) == {("l", "1h"), ("l", "shift"), ("solo", "1h"), ("solo", "shift")}
