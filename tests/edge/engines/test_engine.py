"""The OEE engine over the normaliser: counter wraps, products, reasons, calendar windows
and the replay of stored history after a restart (over a real SQLite store)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.store import SqliteStore
from core.types import (
    CountDelta,
    MachineState,
    OeeUpdate,
    Quality,
    ReasonAssigned,
    Sample,
    SampleBatch,
    StateChange,
)
from edge.config import Config, SqliteConfig
from edge.engines.oee import OeeEngine, window_spec
from edge.pipeline.normaliser import MachineNormaliser
from oee import WindowSpec

S = MachineState
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Berlin


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(**oee: object) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw"},
            "site": "s",
            "area": "a",
            "line": "l",
            "calendar": {
                "timezone": "Europe/Berlin",
                "day_start": "06:00",
                "shifts": [
                    {"name": "early", "start": "06:00", "end": "14:00"},
                    {"name": "late", "start": "14:00", "end": "22:00"},
                ],
                "breaks": [{"name": "lunch", "start": "11:30", "end": "12:00"}],
            },
            "oee": {"windows": ["1h", "shift", "day"], **oee},
            "machines": [
                {
                    "id": "m1",
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {
                        "code": {"address": 0},
                        "total": {"address": 4, "type": "uint16"},
                        "reject": {"address": 8, "type": "uint16"},
                        "product": {"address": 3},
                    },
                    "state_rules": [{"tag": "code", "map": {1: "running", 2: "fault"}}],
                    "counters": {
                        "total": {"tag": "total", "bits": 16},
                        "reject": {"tag": "reject", "bits": 16},
                    },
                    "product_tag": "product",
                    "ideal_cycle_s": 2,
                    "products": {"A": {"ideal_cycle_s": 2}, "B": {"ideal_cycle_s": 5}},
                    "reasons": {7: "jam", 8: {"text": "motor", "states": ["fault"]}},
                }
            ],
        }
    )


def batch(t: float, **values: object) -> SampleBatch:
    ts = at(t)
    samples = tuple(Sample(k, v, Quality.GOOD, ts) for k, v in values.items())  # type: ignore[arg-type]
    return SampleBatch("m1", ts, samples)


def by_window(updates: list[OeeUpdate]) -> dict[str, OeeUpdate]:
    return {u.window: u for u in updates}


def test_window_names_map_to_specs() -> None:
    assert window_spec("15m") == WindowSpec("15m", "sliding", 900.0, count_step_s=1.5)
    assert window_spec("shift") == WindowSpec("shift", "shift")
    assert window_spec("day") == WindowSpec("day", "day")


def test_counter_wraps_and_product_changes_inside_one_window() -> None:
    cfg = config()
    n, engine = MachineNormaliser(cfg.machines[0]), OeeEngine(cfg)
    polls = [
        (0, {"code": 1, "total": 65500, "reject": 65530, "product": "A"}),
        (600, {"code": 1, "total": 64, "reject": 4, "product": "A"}),  # +100 and +10, wrapped
        (1200, {"code": 1, "total": 164, "reject": 4, "product": "B"}),  # +100 of B, all good
        (1800, {"code": 2, "total": 164, "reject": 4, "product": "B"}),
    ]
    for t, values in polls:
        for e in n.update(batch(t, **values)):
            engine.apply(e)
    u = by_window(engine.figures(at(3600)))["1h"]
    # Window 08:00-09:00Z: running 0..1800, fault 1800..3600 (lunch is 10:30Z).
    # Ideal: 100 x 2 s (A) + 100 x 5 s (B) = 700 s; good ideal: 90 x 2 + 100 x 5 = 680 s.
    assert (u.total, u.good, u.reject) == (200, 190, 10)
    assert (u.run_s, u.planned_s) == (1800.0, 3600.0)
    assert u.availability == 0.5
    assert u.performance == pytest.approx(700 / 1800)
    assert u.quality == pytest.approx(680 / 700)
    assert u.oee == pytest.approx(680 / 3600)
    assert u.details()["failures"] == 1


def test_an_operator_reason_reaches_the_pareto() -> None:
    engine = OeeEngine(config())
    engine.apply(StateChange("m1", S.RUNNING, None, at(0), None, None, 1))
    engine.apply(StateChange("m1", S.FAULT, S.RUNNING, at(600), at(0), 600.0, 2))
    engine.apply(ReasonAssigned("m1", at(600), S.FAULT, 8, "motor", ts=at(700)))
    u = by_window(engine.figures(at(900)))["1h"]
    assert [(p.state, p.reason_code, p.reason, p.count, p.seconds) for p in u.pareto] == [
        (S.FAULT, 8, "motor", 1, 300.0)
    ]


def test_shift_and_day_windows_follow_the_calendar() -> None:
    engine = OeeEngine(config())
    engine.apply(StateChange("m1", S.RUNNING, None, at(-3600), None, None, 1))
    got = by_window(engine.figures(at(0)))
    # 09:00 Berlin: the early shift began 06:00 Berlin = 05:00Z, and so did the plant day.
    assert got["shift"].start == got["day"].start == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert got["shift"].unknown_s == 7200.0 and got["shift"].run_s == 3600.0
    # 13:00Z is 14:00 Berlin: the early shift's final figures, then the late shift's.
    updates = [u for u in engine.figures(at(5 * 3600)) if u.window == "shift"]
    assert [(u.start, u.ts) for u in updates] == [
        (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),
        (datetime(2026, 11, 25, 13, 0, tzinfo=UTC), datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),
    ]
    early = updates[0]
    # 8 h: 2 h unknown, 30 min lunch (10:30-11:00Z), 5.5 h running.
    assert (early.window_s, early.unknown_s, early.run_s) == (28800.0, 7200.0, 19800.0)
    assert early.details()["planned_stop_s"] == 1800.0 and early.availability == 1.0


async def test_a_restart_replays_stored_history(tmp_path: Path) -> None:
    events: list[StateChange | CountDelta] = [
        StateChange("m1", S.RUNNING, None, at(0), None, None, 1),
        CountDelta("m1", at(300), 100, 95, 5, "A"),
        StateChange("m1", S.FAULT, S.RUNNING, at(1200), at(0), 1200.0, 2, 8, "motor"),
        StateChange("m1", S.RUNNING, S.FAULT, at(1500), at(1200), 300.0, 3),
        CountDelta("m1", at(1800), 50, 50, 0, "B"),
    ]
    live = OeeEngine(config())
    for e in events:
        live.apply(e)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        await store.handle(events)
        restarted = OeeEngine(config())
        assert await restarted.preload(store, at(2400)) == 5
        want, got = by_window(live.figures(at(2400))), by_window(restarted.figures(at(2400)))
        for name in ("1h", "shift", "day"):
            assert got[name].report == want[name].report, name
            assert got[name].pareto == want[name].pareto, name
        # Killed at 2000 s (the last sign of life), restarted at 2400 s: the 400 s between
        # are unknown, not running.
        killed = OeeEngine(config())
        await killed.preload(store, at(2400), last_alive=at(2000))
        u = by_window(killed.figures(at(2400)))["1h"]
        assert (u.run_s, u.unknown_s) == (1200.0 + 500.0, 1200.0 + 400.0)


async def test_a_store_that_fails_leaves_the_engine_empty(tmp_path: Path) -> None:
    store = SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite"))  # never opened
    engine = OeeEngine(config())
    assert await engine.preload(store, at(0)) == 0
    assert by_window(engine.figures(at(0)))["1h"].unknown_s == 3600.0
