"""The machines polled in one slot go through the pipeline as one group (issue 17,
`edge.pipeline.emitter`): one journal transaction, one hand-in to the store, with every
machine's events and checkpoint, in order. Counted on the real Journal, Outbox and
SqliteStore."""

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import connectors.sqlite.store
import edge.pipeline.gateway
from connectors.sqlite.store import SqliteStore
from core.records import Transaction
from core.types import Event, MachineState, Quality, Sample, SampleBatch
from edge.config import Config
from edge.outbox import Journal
from edge.pipeline import checkpoint
from edge.pipeline.gateway import Gateway

T0 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
S = MachineState
MACHINES = [f"m{i}" for i in range(8)]


class CountedJournal(Journal):
    """The real journal, counting the transactions handed to it."""

    submitted = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.got = asyncio.Event()

    def _submit(self, tx: Transaction) -> asyncio.Future[None]:
        self.submitted += 1
        self.got.set()
        return super()._submit(tx)


class CountedStore(SqliteStore):
    """The real store, counting its hand-ins; it cannot take `refuse`'s events."""

    handed = 0
    refuse: str | None = None

    async def handle(self, events: Sequence[Event]) -> None:
        self.handed += 1
        if any(getattr(e, "machine", None) == self.refuse for e in events):
            raise ValueError(f"cannot take {self.refuse}")
        await super().handle(events)


@pytest.fixture(autouse=True)
def counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge.pipeline.gateway, "Journal", CountedJournal)
    monkeypatch.setattr(connectors.sqlite.store, "SqliteStore", CountedStore)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(data_dir: Path) -> Config:
    machine = {
        "modbus": {"host": "127.0.0.1"},
        "tags": {"code": {"address": 0}, "total": {"address": 4, "type": "uint32"}},
        "state_rules": [{"tag": "code", "map": {1: "running", 2: "fault"}}],
        "counters": {"total": {"tag": "total"}},
        "ideal_cycle_s": 2,
        "publish_tags": True,
    }
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s", "area": "a", "line": "l",
            "oee": {"windows": ["1h"]},
            "machines": [{**machine, "id": m} for m in MACHINES],
        }
    )  # fmt: skip


def batch(machine: str, t: float, code: int, total: int) -> SampleBatch:
    ts, good = at(t), Quality.GOOD
    samples = (Sample("code", code, good, ts), Sample("total", total, good, ts))
    return SampleBatch(machine, ts, samples)


async def started(
    tmp_path: Path, stack: AsyncExitStack
) -> tuple[Gateway, CountedJournal, CountedStore]:
    """What `Gateway.run` opens before it polls."""
    gw = Gateway(config(tmp_path), clock=lambda: at(10))
    assert gw.outbox is not None
    await asyncio.to_thread(gw.outbox.open)
    stack.callback(gw.outbox.close)
    await gw._restore()
    for sink in gw.sinks:
        await stack.enter_async_context(sink)
    assert isinstance(gw.journal, CountedJournal) and isinstance(gw.history, CountedStore)
    return gw, gw.journal, gw.history


async def slot(
    gw: Gateway, t: float, code: int, total: int, machines: list[str] = MACHINES
) -> None:
    """The machines of one poll slot, each taking its batch as its poll task does."""
    await asyncio.gather(*(gw.take(gw.normalisers[m], batch(m, t, code, total)) for m in machines))


async def test_the_machines_of_a_slot_make_one_transaction_and_one_store_write(
    tmp_path: Path,
) -> None:
    async with AsyncExitStack() as stack:
        gw, journal, store = await started(tmp_path, stack)
        before = (journal.submitted, store.handed, store.stats.commits)
        await slot(gw, 0, code=1, total=100)
        await slot(gw, 1, code=2, total=103)
        assert (journal.submitted, store.handed) == (before[0] + 2, before[1] + 2)
        assert store.stats.commits == before[2] + 2
        # Every machine's events stored, in order, and its checkpoint committed with them.
        for m in MACHINES:
            states = await store.state_history(m, at(0), at(10))
            assert [(s.state, s.ts) for s in states] == [(S.RUNNING, at(0)), (S.FAULT, at(1))]
            counts = await store.count_history(m, at(0), at(10))
            assert [(c.ts, c.total) for c in counts] == [(at(1), 3)]
        meta = await journal.load()
        for m in MACHINES:
            assert meta[checkpoint.key(m)] == checkpoint.checkpoint(gw.normalisers[m])
        assert sum(gw.events_out.by_type.values()) == 8 * (2 + 3)  # tags, a state; + a count


async def test_polls_that_come_during_a_commit_go_together_in_the_next(
    tmp_path: Path,
) -> None:
    async with AsyncExitStack() as stack:
        gw, journal, store = await started(tmp_path, stack)
        before = journal.submitted
        first = asyncio.create_task(slot(gw, 0, 1, 100, MACHINES[:1]))
        journal.got.clear()
        await journal.got.wait()  # its transaction handed in: the commit is under way
        await asyncio.gather(first, slot(gw, 0, 1, 100, MACHINES[1:]))
        assert journal.submitted == before + 2
        assert all(getattr(gw.live.machines[m].state, "state", None) is S.RUNNING for m in MACHINES)


async def test_a_sink_that_fails_on_one_machine_still_takes_the_others(
    tmp_path: Path,
) -> None:
    async with AsyncExitStack() as stack:
        gw, journal, store = await started(tmp_path, stack)
        store.refuse = "m3"
        await slot(gw, 0, code=1, total=100)
        assert gw.sink_errors == 1  # m3's events, once
        for m in MACHINES:
            states = await store.state_history(m, at(0), at(10))
            assert len(states) == (0 if m == "m3" else 1), m
