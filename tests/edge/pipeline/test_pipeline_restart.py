"""A gateway that was killed resumes from its outbox: the normalisers' checkpoints come
back (seq without gap or repeat, parts made meanwhile counted), and the machines'
state is `offline` from its last sign of life. A clean stop needs none of that."""

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.types import (
    CountDelta,
    LineOeeUpdate,
    MachineState,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
)
from edge.config import Config
from edge.pipeline.gateway import Gateway

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
S = MachineState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(data_dir: Path) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s", "area": "a", "line": "l",
            "oee": {"windows": ["1h"]},
            "machines": [
                {
                    "id": "m1",
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {"code": {"address": 0}, "total": {"address": 4, "type": "uint32"}},
                    "state_rules": [{"tag": "code", "map": {1: "running", 2: "fault"}}],
                    "counters": {"total": {"tag": "total"}},
                    "ideal_cycle_s": 2,
                }
            ],
        }
    )  # fmt: skip


def batch(t: float, code: int, total: int) -> SampleBatch:
    ts = at(t)
    good = Quality.GOOD
    return SampleBatch("m1", ts, (Sample("code", code, good, ts), Sample("total", total, good, ts)))


async def started(gw: Gateway, stack: AsyncExitStack) -> list[str]:
    """What `Gateway.run` opens before it polls: the outbox, the checkpoints, the sinks."""
    assert gw.outbox is not None
    await asyncio.to_thread(gw.outbox.open)
    stack.callback(gw.outbox.close)
    resumed = await gw._restore()
    for sink in gw.sinks:
        await stack.enter_async_context(sink)
    return resumed


async def poll(gw: Gateway, b: SampleBatch) -> list[StateChange | CountDelta]:
    """One batch through the normaliser and the sinks, as `Gateway._poll` does."""
    changes = gw.normalisers["m1"].update(b)
    await gw.emit(changes)
    return changes


async def test_a_killed_gateway_resumes_its_seq_and_counts(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(10))
        assert await started(gw, stack) == []
        await poll(gw, batch(0, code=1, total=500))
        await poll(gw, batch(5, code=1, total=510))
        await poll(gw, batch(9, code=2, total=512))
        # Killed here: no `offline`, nothing closed in order (the outbox file is closed
        # by the stack, as the kernel would).
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(70))
        assert await started(gw, stack) == ["m1"]
        n = gw.normalisers["m1"]
        assert (n.seq, n.count_seq, n.state, n.counters["total"].last) == (2, 2, S.FAULT, 512)
        await gw._resume(["m1"], gw._last_seen())
        # The checkpoint's last event (9 s) is later than any `alive` mark: offline since.
        assert gw.history is not None
        states = await gw.history.state_history("m1", at(0), at(70))
        assert [(s.state, s.ts) for s in states] == [
            (S.RUNNING, at(0)), (S.FAULT, at(9)), (S.OFFLINE, at(9))
        ]  # fmt: skip
        first = await poll(gw, batch(60, code=1, total=530))
    delta, running = first
    assert delta == CountDelta("m1", at(60), 18, 18, 0, None, seq=3)  # made while down
    assert (running.state, running.previous, running.seq) == (S.RUNNING, S.OFFLINE, 4)
    assert running.duration_s == 51.0


async def test_a_clean_stop_resumes_seq_without_an_extra_offline(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(10))
        await started(gw, stack)
        await poll(gw, batch(0, code=1, total=500))
        await gw._final_offline()  # what run() does on its way out
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(70))
        assert await started(gw, stack) == []  # it said `offline` itself
        first = await poll(gw, batch(60, code=1, total=507))
    delta, running = first
    assert (delta.total, delta.seq) == (7, 1)
    assert (running.state, running.previous, running.seq) == (S.RUNNING, S.OFFLINE, 3)


async def test_a_stop_while_a_poll_is_emitting_keeps_its_events(tmp_path: Path) -> None:
    """The gateway's stop cancels the polls; one caught mid-emit has numbered its events
    already, so they are stored before the final `offline` (no gap in seq)."""
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(10))
        await started(gw, stack)
        await poll(gw, batch(0, code=1, total=500))
        polling = asyncio.create_task(poll(gw, batch(9, code=2, total=512)))
        await asyncio.sleep(0)  # its emit has begun: the outbox commit is under way
        polling.cancel()
        await gw._final_offline()
        assert polling.cancelled()
        assert gw.history is not None
        states = await gw.history.state_history("m1", at(0), at(70))
        counts = await gw.history.count_history("m1", at(0), at(70))
    assert [(s.state, s.ts) for s in states] == [
        (S.RUNNING, at(0)), (S.FAULT, at(9)), (S.OFFLINE, at(10))
    ]  # fmt: skip
    assert [(c.ts, c.total) for c in counts] == [(at(9), 12)]
    async with AsyncExitStack() as stack:
        gw = Gateway(config(tmp_path), clock=lambda: at(70))
        assert await started(gw, stack) == []
        n = gw.normalisers["m1"]
        assert (n.seq, n.count_seq, n.counters["total"].last) == (3, 1, 512)


async def test_oee_figures_go_out_a_few_machines_at_a_time(tmp_path: Path) -> None:
    """So that the polls go on between them (hundreds of machines' figures take tens of
    ms); the line's figures follow, from all of them."""
    data = config(tmp_path).model_dump(mode="json", exclude_none=True)
    m1 = data["machines"][0]
    data["machines"] = [{**m1, "id": f"m{i:02d}"} for i in range(45)]
    gw = Gateway(Config.model_validate(data), clock=lambda: at(10))
    emitted: list[list[str]] = []

    async def record(events) -> None:  # type: ignore[no-untyped-def]
        names = [e.line if isinstance(e, LineOeeUpdate) else e.machine for e in events]
        emitted.append([f"{type(e).__name__}:{n}" for e, n in zip(events, names, strict=True)])

    gw.emit = record  # type: ignore[method-assign]
    await gw._publish_figures(at(10))
    assert [len(e) for e in emitted] == [20, 20, 5, 1]
    assert emitted[0][:2] == ["OeeUpdate:m00", "OeeUpdate:m01"]
    assert emitted[2][-1] == "OeeUpdate:m44" and emitted[3] == ["LineOeeUpdate:l"]
