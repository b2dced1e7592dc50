"""A second engine beside the OEE engine, as SPC, orders or energy will be: registered in
`edge.pipeline.components.ENGINES` and nothing else. The gateway builds it, replays the
stored history into it, feeds it every machine event in order (the live ones that came
during the replay after it), emits what it publishes after the OEE figures, and the OEE
figures are the same as without it."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

import pytest

from connectors.sqlite.store import SqliteStore
from core.interfaces import Engine, HistoryReader, MachineEvent
from core.types import Event, MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import Config, SqliteConfig
from edge.engines.oee import OeeEngine
from edge.engines.spc import SpcEngine
from edge.pipeline import components
from edge.pipeline.gateway import Gateway
from tests.edge.pipeline.test_pipeline_oee import at, config, one_hour

S = MachineState


class Tally:
    """The smallest engine: counts the events it is fed and publishes the count as a tag."""

    name = "Tally"
    lookback = timedelta(hours=1)

    def __init__(self, config: Config) -> None:
        self.machines = [m.id for m in config.machines]
        self.replayed: list[StateChange] = []
        self.seen: list[MachineEvent] = []

    def apply(self, event: MachineEvent) -> None:
        self.seen.append(event)

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        for m in self.machines:
            for r in await history.state_history(m, now - self.lookback, now):
                self.replayed.append(StateChange(m, r.state, None, r.ts, None, None, 0))
        return len(self.replayed)

    def publications(self, now: datetime) -> Iterator[Sequence[Event]]:
        yield [SampleBatch("m1", now, (Sample("events", len(self.seen), Quality.GOOD, now),))]


class Broken(Tally):
    name = "Broken"

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        raise RuntimeError("no history for me")


class Collector:
    """A sink that keeps every emit's events."""

    name = "collector"
    connected = True

    def __init__(self) -> None:
        self.emits: list[list[Event]] = []

    async def __aenter__(self) -> "Collector":
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def handle(self, events: Sequence[Event]) -> None:
        self.emits.append(list(events))


def tally(gw: Gateway) -> Tally:
    engine: Engine = gw.engines["tally"]
    assert isinstance(engine, Tally)
    return engine


async def test_a_registered_engine_is_fed_and_published_beside_oee(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(components.ENGINES, "tally", Tally)
    collector = Collector()
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        await store.handle([StateChange("m1", S.RUNNING, None, at(0), None, None, 1)])
        gw = Gateway(
            config(tmp_path), sinks=[store, collector], history=store, clock=lambda: at(3600)
        )
        assert list(gw.engines) == ["oee", "output", "spc", "orders", "alarms", "tally"]
        gw._engine_backlog = []  # as `run` does before it starts the polls
        live = StateChange("m1", S.FAULT, S.RUNNING, at(1800), at(0), 1800.0, 2)
        gw._feed(live)
        assert tally(gw).seen == []  # not before the history
        await gw._preload(None, until=at(1800))
        assert [(c.state, c.ts) for c in tally(gw).replayed] == [(S.RUNNING, at(0))]
        assert tally(gw).seen == [live]
        # The OEE engine took the same history and event as without the tally.
        u = one_hour(gw, at(3600))
        assert (u.run_s, u.state_s["fault"]) == (1800.0, 1800.0)

        await gw._publish_figures(at(3600))
    kinds = [[type(e).__name__ for e in emit] for emit in collector.emits]
    assert kinds == [["OeeUpdate"], ["LineOeeUpdate"], ["SampleBatch"]]
    (published,) = collector.emits[2]
    assert isinstance(published, SampleBatch)
    assert published.samples == (Sample("events", 1, Quality.GOOD, at(3600)),)


async def test_an_engine_whose_history_fails_starts_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(components.ENGINES, "tally", Broken)
    async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
        await store.handle([StateChange("m1", S.RUNNING, None, at(0), None, None, 1)])
        gw = Gateway(config(tmp_path), sinks=[store], history=store, clock=lambda: at(3600))
        gw._engine_backlog = []
        live = StateChange("m1", S.FAULT, S.RUNNING, at(1800), at(0), 1800.0, 2)
        gw._feed(live)
        await gw._preload(None, until=at(1800))
    assert tally(gw).seen == [live]  # live events flow on
    u = one_hour(gw, at(3600))
    assert (u.run_s, u.state_s["fault"]) == (1800.0, 1800.0)  # OEE replayed its history
    failed = [r for r in caplog.records if r.name == "edge.pipeline" and r.levelname == "ERROR"]
    assert [r.getMessage() for r in failed] == ["Broken history not loaded; starting without"]


def test_every_gateway_runs_the_oee_output_spc_order_and_alarm_engines(tmp_path: Path) -> None:
    assert list(components.ENGINES) == ["oee", "output", "spc", "orders", "alarms"]
    gw = Gateway(config(tmp_path), sinks=[])
    assert isinstance(gw.engine, OeeEngine) and gw.engine is gw.engines["oee"]
    assert isinstance(gw.spc, SpcEngine) and gw.spc.charts() == []  # no charts: idle
