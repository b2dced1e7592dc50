"""The output engine: a machine's and its line's parts against target in the shift in
progress, the final figures once at the shift's end, and the replay after a restart."""

from datetime import UTC, datetime
from pathlib import Path

from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, LineOutputUpdate, OutputUpdate, ShiftRef
from edge.config import Config, SqliteConfig
from edge.engines.output import OutputEngine


def z(h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 11, 25, h, m, s, tzinfo=UTC)  # Berlin is UTC+1


def config() -> Config:
    machine = {
        "id": "m1",
        "modbus": {"host": "127.0.0.1"},
        "tags": {"code": {"address": 0}},
        "state_rules": [{"tag": "code", "map": {1: "running"}}],
        "ideal_cycle_s": 12,
        "products": {"P1": {"ideal_cycle_s": 10, "name": "Bracket"}},
    }
    return Config.model_validate(
        {
            "gateway": {"id": "gw"}, "site": "s", "area": "a", "line": "l",
            "calendar": {
                "timezone": "Europe/Berlin",
                "shifts": [
                    {"name": "early", "start": "06:00", "end": "14:00"},
                    {"name": "late", "start": "14:00", "end": "22:00"},
                ],
                "breaks": [{"name": "lunch", "start": "11:30", "end": "12:00"}],
            },
            "lines": {"l": {"targets": {"per_shift": {"early": 1000}}}},
            "machines": [machine],
        }
    )  # fmt: skip


EARLY = ShiftRef("2026-11-25/early", "early", "2026-11-25", z(5), z(13), "Europe/Berlin")
COUNTS = [
    CountDelta("m1", z(7, 40), 10, 10, 0, "P1"),  # before the rate window
    CountDelta("m1", z(7, 50), 50, 48, 2, "P1"),
    CountDelta("m1", z(7, 59), 25, 25, 0, "P1"),
]


def figures(engine: OutputEngine, now: datetime) -> list[OutputUpdate | LineOutputUpdate]:
    return [u for batch in engine.publications(now) for u in batch]


def test_machine_and_line_in_the_shift() -> None:
    engine = OutputEngine(config())
    for c in COUNTS:
        engine.apply(c)
    machine, line = figures(engine, z(8))
    assert isinstance(machine, OutputUpdate) and isinstance(line, LineOutputUpdate)
    assert (machine.machine, machine.shift, machine.final) == ("m1", EARLY, False)
    assert (machine.product, machine.product_name) == ("P1", "Bracket")
    o = machine.output
    # Early: 05:00Z-13:00Z less the lunch break (10:30Z-11:00Z): 27000 s planned.
    # Target: 27000 s / 10 s (P1's ideal) = 2700; due after 3 h: 2700 x 10800 / 27000.
    assert (o.good, o.reject, o.total, o.target, o.due) == (83, 2, 85, 2700.0, 1080.0)
    # Rate: 48 + 25 good in (07:45Z, 08:00Z] = 73 per 15 min = 292/h; expected
    # 83 + 292 x 4.5 h (16200 s left, the break not counted) = 1397 < 2700.
    assert (o.rate_per_h, o.expected, o.on_track) == (292.0, 1397.0, False)
    # The line's own target: 1000; due 1000 x 10800 / 27000 = 400; 1397 >= 1000.
    lo = line.output
    assert (line.line, line.machines, lo.target, lo.due, lo.on_track) == (
        "l", ("m1",), 1000.0, 400.0, True,
    )  # fmt: skip


def test_the_final_figures_come_once_at_the_shift_end() -> None:
    engine = OutputEngine(config())
    for c in COUNTS:
        engine.apply(c)
    engine.apply(CountDelta("m1", z(13, 0, 30), 3, 3, 0, "P1"))  # the late shift's first
    got = figures(engine, z(13, 1))
    assert [(type(u).__name__, u.shift.name, u.final, u.ts) for u in got] == [
        ("OutputUpdate", "early", True, z(13)),
        ("LineOutputUpdate", "early", True, z(13)),
        ("OutputUpdate", "late", False, z(13, 1)),
        ("LineOutputUpdate", "late", False, z(13, 1)),
    ]
    final = got[0]
    assert isinstance(final, OutputUpdate)
    # Over: nothing remains, so the expected total is what was made.
    assert (final.output.good, final.output.remaining_s, final.output.expected) == (83, 0.0, 83.0)
    assert got[2].output.good == 3
    assert [u.shift.name for u in figures(engine, z(13, 2))] == ["late", "late"]


async def test_a_restart_replays_the_shift_counts(tmp_path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=tmp_path / "s.sqlite")) as store:
        await store.handle(COUNTS)
        engine = OutputEngine(config())
        assert await engine.preload(store, z(8), last_alive=z(7, 59)) == 3
        machine = figures(engine, z(8))[0]
    assert (machine.output.good, machine.output.rate_per_h) == (83, 292.0)
