"""The gateway's OEE plumbing without sources: history replay at start (with the `alive`
mark of a killed gateway) and reasons flowing through `emit` to the engine."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.sqlite.store import SqliteStore
from core.types import MachineState, OeeUpdate, ReasonAssigned, StateChange
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway

S = MachineState
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(data_dir: Path) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s",
            "area": "a",
            "line": "l",
            "oee": {"windows": ["1h"]},
            "machines": [
                {
                    "id": "m1",
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {"code": {"address": 0}},
                    "state_rules": [{"tag": "code", "map": {1: "running", 2: "fault"}}],
                    "ideal_cycle_s": 2,
                    "reasons": {8: {"text": "motor", "states": ["fault"]}},
                }
            ],
        }
    )


def one_hour(gw: Gateway, now: datetime) -> OeeUpdate:
    (u,) = gw.engine.figures(now)
    return u


async def test_a_killed_gateway_leaves_unknown_time_after_its_last_mark(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        await store.handle([StateChange("m1", S.RUNNING, None, at(0), None, None, 1)])
        # The gateway last marked itself alive at 1200 s, then was killed.
        (tmp_path / "alive").touch()
        os.utime(tmp_path / "alive", (at(1200).timestamp(), at(1200).timestamp()))
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: at(3600))
        await gw._preload(gw._last_seen())
        u = one_hour(gw, at(3600))
        assert (u.run_s, u.unknown_s) == (1200.0, 2400.0)
        # Without the mark (a first start, or the file lost) the stored state holds.
        (tmp_path / "alive").unlink()
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: at(3600))
        await gw._preload(gw._last_seen())
        assert one_hour(gw, at(3600)).run_s == 3600.0


async def test_an_emitted_reason_reaches_the_engine_the_live_view_and_the_store(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: at(600))
        fault = StateChange("m1", S.FAULT, None, at(0), None, None, 1)
        gw.engine.apply(fault)
        await gw.emit([fault])
        await gw.emit([ReasonAssigned("m1", at(0), S.FAULT, 8, "motor", ts=at(300))])
        (row,) = one_hour(gw, at(600)).pareto
        assert (row.reason_code, row.reason, row.seconds) == (8, "motor", 600.0)
        live = gw.live.machines["m1"].state
        assert live is not None and (live.reason_code, live.reason) == (8, "motor")
        (stored,) = await store.state_history("m1", at(0), at(600))
        assert (stored.reason_code, stored.reason) == (8, "motor")


async def test_live_events_wait_for_the_history_and_follow_it(tmp_path: Path) -> None:
    """The polls start before the stored history is read (a slow database must not hold
    up acquisition): what they produce meanwhile reaches the engine after the history,
    in order (fed first, the fault would be taken as starting after the replayed run)."""
    cfg = config(tmp_path)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        await store.handle([StateChange("m1", S.RUNNING, None, at(0), None, None, 1)])
        gw = Gateway(cfg, sinks=[store], history=store, clock=lambda: at(3600))
        gw._engine_backlog = []  # as `run` does before it starts the polls
        live = StateChange("m1", S.FAULT, S.RUNNING, at(1800), at(0), 1800.0, 2)
        gw._feed(live)
        await gw.emit([live])  # stored too, at `until`: not part of the replay
        await gw._preload(None, until=at(1800))
        u = one_hour(gw, at(3600))
        assert (u.run_s, u.state_s["fault"]) == (1800.0, 1800.0)
        assert gw._engine_backlog is None
